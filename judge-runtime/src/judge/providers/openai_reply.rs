//! Reading an OpenAI chat completion body: the reply's text, the tokens it used and, when they were
//! asked for, its tokens' log-probabilities.
//!
//! A reply with logprobs is mostly `top_logprobs`: every token of a judge's reply comes with its
//! alternatives (ten, with their `bytes`), 80 KB for a reply of 120 tokens, while G-Eval weighting
//! reads the alternatives of two tokens, the score's and the one after it. In the debug build that
//! `cargo test` makes, merely scanning 80 KB with serde_json costs milliseconds, more than the rest
//! of a judge call. So the token list is found with substring search (which runs at memory speed
//! even unoptimized), the other fields are read by serde from the body with the logprobs cut out,
//! and only the two tokens' alternatives are deserialized. The shortcut checks itself: the tokens
//! must spell the reply's text exactly, or the whole body is read by serde instead, as it is for
//! any body the shortcut does not recognize.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::judge::techniques::geval::{self, TokenLogprobs};
use crate::judge::techniques::reply::Completion;
use crate::judge::techniques::verdict::Usage;
use crate::judge::transport::http::Unreadable;

#[derive(Deserialize)]
struct Body<'a> {
    #[serde(default, borrow)]
    choices: Vec<Choice<'a>>,
    #[serde(default)]
    usage: Option<UsageField>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    /// Small: read as a value, so that a content that is not a string is told apart.
    message: Option<Value>,
    #[serde(default, borrow)]
    logprobs: Option<Logprobs<'a>>,
}

#[derive(Deserialize)]
struct Logprobs<'a> {
    #[serde(default, borrow)]
    content: Option<Vec<Token<'a>>>,
}

#[derive(Deserialize)]
struct Token<'a> {
    #[serde(borrow)]
    token: Cow<'a, str>,
    #[serde(default, borrow)]
    top_logprobs: Option<Vec<Alternative<'a>>>,
}

#[derive(Deserialize)]
struct Alternative<'a> {
    #[serde(borrow)]
    token: Cow<'a, str>,
    logprob: f64,
}

#[derive(Deserialize)]
struct UsageField {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

/// Reads `raw`, a successful response body, as a completion.
pub(crate) fn read(raw: &str) -> Result<Completion, Unreadable> {
    if let Some(completion) = shortcut(raw) {
        return Ok(completion);
    }
    let body: Body = serde_json::from_str(raw).map_err(|e| not_json_or_malformed(raw, &e))?;
    let choice = body.choices.first().ok_or_else(|| Unreadable::Malformed("no choices[0].message".into()))?;
    let text = text_of(choice.message.as_ref())?;
    let tokens = choice.logprobs.as_ref().and_then(|l| l.content.as_ref()).map(|content| {
        content
            .iter()
            .map(|token| TokenLogprobs {
                text: token.token.clone().into_owned(),
                top: token
                    .top_logprobs
                    .iter()
                    .flatten()
                    .map(|alternative| (alternative.token.clone().into_owned(), alternative.logprob))
                    .collect(),
            })
            .collect()
    });
    Ok(Completion { text, usage: usage(body.usage), tokens })
}

/// `NotJson` when `raw` is no JSON at all, else `Malformed` with serde's reason.
fn not_json_or_malformed(raw: &str, error: &serde_json::Error) -> Unreadable {
    match serde_json::from_str::<IgnoredAny>(raw) {
        Err(e) => Unreadable::NotJson(format!("the body is not JSON ({e})")),
        Ok(_) => Unreadable::Malformed(format!("not a chat completion: {error}")),
    }
}

/// The reply's text: `message.content`, or the model's `refusal` (a reply too: the verdict parser
/// rejects it and the judge is asked again).
fn text_of(message: Option<&Value>) -> Result<String, Unreadable> {
    let message = message.ok_or_else(|| Unreadable::Malformed("no choices[0].message".into()))?;
    match (message.get("content").and_then(Value::as_str), message.get("refusal").and_then(Value::as_str)) {
        (Some(text), _) | (None, Some(text)) => Ok(text.to_owned()),
        (None, None) => Err(Unreadable::Malformed("choices[0].message.content is not a string".into())),
    }
}

fn usage(field: Option<UsageField>) -> Usage {
    field.map_or_else(Usage::default, |u| Usage {
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
    })
}

const TOP_KEY: &str = "\"top_logprobs\":";
const TOKEN_KEY: &str = "\"token\":";
const LOGPROBS_KEY: &str = "\"logprobs\":";

/// The completion read without deserializing every token's alternatives, when `raw` has the
/// shape OpenAI sends (each token's `"token"` before its `"top_logprobs"`, one choice) and the
/// tokens found spell the reply's text; `None` otherwise, and the caller reads it all.
fn shortcut(raw: &str) -> Option<Completion> {
    // A key is found by its quotes and colon: inside a JSON string every `"` is escaped, so no
    // string's text matches one.
    let logprobs_at = raw.find(LOGPROBS_KEY)? + LOGPROBS_KEY.len();
    let tops = top_keys(raw.as_bytes(), logprobs_at);
    let last_top = *tops.last()?;
    // Each token's own `"token"` is the last one before its `"top_logprobs"`: between the two
    // come the previous token's alternatives, then its own fields.
    let mut tokens = Vec::with_capacity(tops.len());
    let mut from = logprobs_at;
    for &top in &tops {
        let key = from + raw[from..top].rfind(TOKEN_KEY)? + TOKEN_KEY.len();
        tokens.push((json_string(raw, key)?, top + TOP_KEY.len()));
        from = top;
    }
    // The logprobs object ends where the last token's does, and its enclosing `content` array and
    // the object itself: three levels up from inside that token.
    let end = close(raw.as_bytes(), last_top + TOP_KEY.len(), 3)?;
    let envelope = format!("{}null{}", &raw[..logprobs_at], &raw[end..]);
    // The same body, read with `null` in the logprobs' place.
    let body: Body = serde_json::from_str(&envelope).ok()?;
    let [choice] = body.choices.as_slice() else { return None };
    let text = text_of(choice.message.as_ref()).ok()?;
    // The check: the tokens spell the reply's text, so each is the token it seems.
    let spelled = tokens.iter().map(|(t, _)| t.len()).sum::<usize>() == text.len()
        && tokens.iter().try_fold(0, |at, (t, _)| text[at..].starts_with(t.as_ref()).then(|| at + t.len())).is_some();
    if !spelled {
        return None;
    }
    // G-Eval reads the alternatives of the token where the score starts, and of the one after it
    // when that token's digits are a "1" (whether it goes on to "10").
    let mut weighed = Vec::new();
    if let Some(offset) = geval::score_value_offset(&text) {
        let mut start = 0;
        if let Some(score) = tokens.iter().position(|(t, _)| {
            start += t.len();
            start > offset
        }) {
            let token = &tokens[score].0;
            let digits = &token[offset - (start - token.len())..];
            weighed.push(score);
            if digits.trim() == "1" {
                weighed.push(score + 1);
            }
        }
    }
    let mut read = Vec::with_capacity(tokens.len());
    for (i, (token, top_at)) in tokens.iter().enumerate() {
        let top = if weighed.contains(&i) { alternatives(raw, *top_at)? } else { Vec::new() };
        read.push(TokenLogprobs { text: token.clone().into_owned(), top });
    }
    Some(Completion { text, usage: usage(body.usage), tokens: Some(read) })
}

/// Where each `"top_logprobs":` key starts, from `from` on. Found by their `_`, the rarest byte of
/// the body, with the C library's `memchr` (through `BufRead::skip_until`): unlike `str::find`,
/// whose generic search is compiled unoptimized in a debug build, it runs at memory speed in any
/// build, and this is the scan that covers the whole body.
fn top_keys(bytes: &[u8], mut from: usize) -> Vec<usize> {
    use std::io::BufRead;
    const UNDERSCORE_AT: usize = "\"top".len();
    let mut keys = Vec::new();
    loop {
        let mut rest = &bytes[from..];
        let skipped = rest.skip_until(b'_').unwrap_or(0);
        if skipped == 0 || bytes[from + skipped - 1] != b'_' {
            return keys;
        }
        let underscore = from + skipped - 1;
        if let Some(start) = underscore.checked_sub(UNDERSCORE_AT)
            && bytes[start..].starts_with(TOP_KEY.as_bytes())
        {
            keys.push(start);
        }
        from = underscore + 1;
    }
}

/// The JSON string value at `at` (after a key's colon, white space allowed).
fn json_string(raw: &str, at: usize) -> Option<Cow<'_, str>> {
    let bytes = raw.as_bytes();
    let start = at + bytes[at..].iter().position(|b| !b.is_ascii_whitespace())?;
    if bytes[start] != b'"' {
        return None;
    }
    let end = string_end(bytes, start + 1)?;
    let quoted = &raw[start..end];
    if quoted.contains('\\') {
        serde_json::from_str::<String>(quoted).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(&quoted[1..quoted.len() - 1]))
    }
}

/// The index just after the closing quote of the string whose text starts at `at`.
fn string_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        match *bytes.get(at)? {
            b'"' => return Some(at + 1),
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
}

/// The index just after the value at `at` and then `levels` enclosing arrays or objects close.
fn close(bytes: &[u8], mut at: usize, levels: usize) -> Option<usize> {
    let mut depth = levels;
    loop {
        match *bytes.get(at)? {
            b'"' => at = string_end(bytes, at + 1)?,
            b'[' | b'{' => {
                depth += 1;
                at += 1;
            }
            b']' | b'}' => {
                depth -= 1;
                at += 1;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => at += 1,
        }
    }
}

/// The alternatives of the `top_logprobs` value at `at`.
fn alternatives(raw: &str, at: usize) -> Option<Vec<(String, f64)>> {
    let mut deserializer = serde_json::Deserializer::from_str(&raw[at..]);
    let alternatives: Option<Vec<Alternative>> = Deserialize::deserialize(&mut deserializer).ok()?;
    Some(alternatives.into_iter().flatten().map(|a| (a.token.into_owned(), a.logprob)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A body as OpenAI sends it: every token of `tokens` with ten alternatives and their bytes.
    fn body(tokens: &[&str], score_alternatives: &[(&str, f64)]) -> String {
        let content: String = tokens.concat();
        let entries: Vec<Value> = tokens
            .iter()
            .map(|t| {
                let mut alternatives: Vec<(String, f64)> = if t.trim().parse::<u32>().is_ok() {
                    score_alternatives.iter().map(|(a, lp)| ((*a).to_owned(), *lp)).collect()
                } else {
                    vec![((*t).to_owned(), -0.01)]
                };
                while alternatives.len() < 10 {
                    alternatives.push((format!("]}}\"top_logprobs\":[{}", alternatives.len()), -20.0));
                }
                json!({
                    "token": t,
                    "logprob": -0.01,
                    "bytes": t.as_bytes(),
                    "top_logprobs": alternatives.iter().map(|(a, lp)| json!({"token": a, "logprob": lp, "bytes": a.as_bytes()})).collect::<Vec<_>>()
                })
            })
            .collect();
        json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": null},
                         "logprobs": {"content": entries, "refusal": null}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 15, "total_tokens": 135},
            "system_fingerprint": "fp"
        })
        .to_string()
    }

    /// What serde alone reads of `raw`, with only the score's and the next token's alternatives
    /// kept, as the shortcut keeps them.
    fn read_by_serde(raw: &str) -> Completion {
        let body: Body = serde_json::from_str(raw).unwrap();
        let mut completion = Completion {
            text: text_of(body.choices[0].message.as_ref()).unwrap(),
            usage: usage(body.usage),
            tokens: None,
        };
        let content = body.choices[0].logprobs.as_ref().unwrap().content.as_ref().unwrap();
        let offset = geval::score_value_offset(&completion.text);
        let mut start = 0;
        let score = offset.and_then(|offset| {
            content.iter().position(|t| {
                start += t.token.len();
                start > offset
            })
        });
        completion.tokens = Some(
            content
                .iter()
                .enumerate()
                .map(|(i, t)| TokenLogprobs {
                    text: t.token.to_string(),
                    top: match score {
                        Some(s)
                            if i == s
                                || (i == s + 1
                                    && content[s].token.trim_start_matches(|c: char| !c.is_ascii_digit()).trim()
                                        == "1") =>
                        {
                            t.top_logprobs.iter().flatten().map(|a| (a.token.to_string(), a.logprob)).collect()
                        }
                        _ => Vec::new(),
                    },
                })
                .collect(),
        );
        completion
    }

    fn same(a: &Completion, b: &Completion) {
        assert_eq!((&a.text, a.usage), (&b.text, b.usage));
        assert_eq!(a.tokens, b.tokens);
    }

    #[test]
    fn the_shortcut_reads_what_serde_reads() {
        let tricky = [
            vec!["{\"", "rationale", "\":\"", "fine", "\",\"", "score", "\":", "7", "}"],
            // Escapes, keys quoted inside the text, brackets, non-ASCII.
            vec!["{\"rationale\":\"", "a \\\"token\\\": ", "]}\" [", "é€", "\",\"score\":", " 1", "0", "}"],
            vec!["Here: ```json\n{\"rationale\":\"r\",\"score\":", "3", "}\n```"],
        ];
        for tokens in tricky {
            let raw = body(&tokens, &[("7", -0.5), ("8", -1.0), ("1", -2.0), ("3", -0.2), ("0", -0.1)]);
            let fast = shortcut(&raw).unwrap_or_else(|| panic!("the shortcut reads {raw}"));
            same(&fast, &read_by_serde(&raw));
            same(&read(&raw).unwrap(), &fast);
            assert!(fast.tokens.as_ref().unwrap().iter().any(|t| !t.top.is_empty()), "{tokens:?}");
        }
    }

    #[test]
    fn bodies_the_shortcut_does_not_know_are_read_by_serde() {
        // The token's text after its alternatives.
        let reordered = json!({"choices": [{"message": {"content": "{\"score\":7}"}, "logprobs": {"content": [
            {"top_logprobs": [{"token": "{\"score\":", "logprob": -0.1}], "token": "{\"score\":", "logprob": -0.1},
            {"top_logprobs": [{"token": "7", "logprob": -0.1}, {"token": "8", "logprob": -2.3}], "token": "7", "logprob": -0.1},
            {"top_logprobs": [], "token": "}", "logprob": 0.0}
        ]}}]})
        .to_string();
        assert!(shortcut(&reordered).is_none());
        let tokens = read(&reordered).unwrap().tokens.unwrap();
        assert_eq!(tokens[1].top, vec![("7".to_owned(), -0.1), ("8".to_owned(), -2.3)]);
        // Two choices, tokens that do not spell the text, no logprobs: serde, or no tokens.
        let two = json!({"choices": [{"message": {"content": "a"}, "logprobs": {"content": [{"token": "a", "top_logprobs": []}]}},
                                     {"message": {"content": "b"}, "logprobs": {"content": [{"token": "b", "top_logprobs": []}]}}]});
        assert!(shortcut(&two.to_string()).is_none());
        assert_eq!(read(&two.to_string()).unwrap().text, "a");
        let misspelt = json!({"choices": [{"message": {"content": "ab"}, "logprobs": {"content": [{"token": "a", "top_logprobs": []}]}}]});
        assert!(shortcut(&misspelt.to_string()).is_none());
        let plain = json!({"choices": [{"message": {"content": "{\"score\":7}"}}], "usage": {"prompt_tokens": 3, "completion_tokens": 4}});
        let read_plain = read(&plain.to_string()).unwrap();
        assert_eq!((read_plain.usage.prompt_tokens, read_plain.tokens), (3, None));
    }

    #[test]
    fn top_keys_are_found_by_their_underscore() {
        let text = r#"{"a_b":1,"top_logprobs":[],"x":"top_logprobs","top_logprobs": null}_"#;
        let found = top_keys(text.as_bytes(), 0);
        assert_eq!(found, vec![text.find("\"top_logprobs\":").unwrap(), text.rfind("\"top_logprobs\":").unwrap()]);
        assert_eq!(top_keys(b"_top_logprobs\":", 0), Vec::<usize>::new());
    }

    #[test]
    fn what_is_not_a_completion_says_why() {
        let list = read("{\"object\": \"list\"}");
        assert!(matches!(list, Err(Unreadable::Malformed(m)) if m.contains("no choices[0].message")));
        assert!(matches!(read("<html>502</html>"), Err(Unreadable::NotJson(_))));
        assert!(
            matches!(read("{\"choices\": [{\"message\": {\"role\": \"assistant\"}}]}"), Err(Unreadable::Malformed(m)) if m.contains("not a string"))
        );
        assert!(matches!(read("{\"choices\": []}"), Err(Unreadable::Malformed(m)) if m.contains("choices[0]")));
        let refusal = read("{\"choices\": [{\"message\": {\"content\": null, \"refusal\": \"No.\"}}]}").unwrap();
        assert_eq!(refusal.text, "No.");
        // A body cut short inside its logprobs is no completion, for the shortcut or serde.
        let raw = body(&["{\"score\":", "7", "}"], &[("7", -0.1)]);
        assert!(matches!(read(&raw[..raw.len() / 2]), Err(Unreadable::NotJson(_))));
    }
}
