//! Reading an OpenAI chat completion body: the reply's text, the tokens it used and, when they were
//! asked for, its tokens' log-probabilities.
//!
//! A reply with logprobs is mostly `top_logprobs`: every token of a judge's reply comes with its
//! alternatives (ten, with their `bytes`), 80 KB for a reply of 120 tokens, while G-Eval weighting
//! reads the alternatives of one or two tokens, the score's and the one after it. In the debug
//! build that `cargo test` makes, merely scanning 80 KB with serde_json costs milliseconds, more
//! than the rest of a judge call. So the body is read from its end: the logprobs are cut out by
//! substring search, serde reads the rest, and the tokens are walked backwards, as far as the
//! score's, which a judge that writes its rationale first writes last. The shortcut checks itself:
//! the tokens read must spell the end of the reply's text, each before the ones after it, or the
//! whole body is read by serde instead, as it is for any body the shortcut does not recognize.

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

/// A body with its logprobs cut out, as the shortcut reads it: the message typed and borrowed
/// (anything else is left to [`Body`], which tells what is wrong).
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    choices: Vec<EnvelopeChoice<'a>>,
    #[serde(default)]
    usage: Option<UsageField>,
}

#[derive(Deserialize)]
struct EnvelopeChoice<'a> {
    #[serde(borrow)]
    message: Message<'a>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    refusal: Option<Cow<'a, str>>,
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

/// The completion read without deserializing its tokens, when `raw` has the shape OpenAI sends
/// (one choice; in each token's object its `"token"`, then its own `logprob` and `bytes`, then its
/// `"top_logprobs"`) and the tokens read spell the end of the reply's text; `None` otherwise, and
/// the caller reads it all.
///
/// It reads from the end: the last token's alternatives, after which the logprobs close, then one
/// token after another backwards, as far as the token where the score starts. A judge asked for
/// its rationale first writes the score last, so that is a few tokens of a hundred; of their
/// alternatives only the score's are read (and the next token's, for a "10" split in two).
fn shortcut(raw: &str) -> Option<Completion> {
    // A key is found by its quotes and colon: inside a JSON string every `"` is escaped, so no
    // string's text matches one.
    let logprobs_at = raw.find(LOGPROBS_KEY)? + LOGPROBS_KEY.len();
    let last_top = logprobs_at + raw[logprobs_at..].rfind(TOP_KEY)?;
    let (last_alternatives, after) = alternatives(raw, last_top + TOP_KEY.len())?;
    // After the last token's alternatives close its object, the `content` array and the logprobs.
    let end = close(raw.as_bytes(), after, 3)?;
    let envelope = format!("{}null{}", &raw[..logprobs_at], &raw[end..]);
    // The same body, read with `null` in the logprobs' place.
    let body: Envelope = serde_json::from_str(&envelope).ok()?;
    let [EnvelopeChoice { message }] = body.choices.as_slice() else { return None };
    let text = message.content.as_deref().or(message.refusal.as_deref())?.to_owned();
    let usage = usage(body.usage);
    let Some(offset) = geval::score_value_offset(&text) else {
        // No score to weigh: no token is needed.
        return Some(Completion { text, usage, tokens: Some(Vec::new()) });
    };
    // Backwards from the last token: (its text, where its alternatives are), last first.
    let mut tail = Vec::new();
    let mut begins = text.len();
    let mut top = last_top;
    loop {
        // The token's own `"token"` is the last one before its `"top_logprobs"`, and no object opens
        // or closes between the two (the previous token's alternatives would).
        let key = logprobs_at + raw[logprobs_at..top].rfind(TOKEN_KEY)?;
        let (token, token_end) = json_string(raw, key + TOKEN_KEY.len())?;
        if raw.as_bytes()[token_end..top].iter().any(|&b| b == b'{' || b == b'}') {
            return None;
        }
        // The check: the token spells the text just before the tokens after it.
        begins = begins.checked_sub(token.len()).filter(|&at| text.as_bytes()[at..].starts_with(token.as_bytes()))?;
        tail.push((token, top));
        if begins <= offset {
            break;
        }
        top = logprobs_at + raw[logprobs_at..key].rfind(TOP_KEY)?;
    }
    tail.reverse();
    // G-Eval reads the alternatives of the token where the score starts, the first of the tail,
    // and of the one after it when that token's digits are a "1" (whether it goes on to "10").
    let weighed = if tail[0].0[offset - begins..].trim() == "1" { 2 } else { 1 };
    let mut tokens = Vec::with_capacity(tail.len());
    for (i, (token, top_at)) in tail.into_iter().enumerate() {
        let top = match i < weighed {
            true if top_at == last_top => last_alternatives.clone(),
            true => alternatives(raw, top_at + TOP_KEY.len())?.0,
            false => Vec::new(),
        };
        tokens.push(TokenLogprobs { text: token.into_owned(), top });
    }
    Some(Completion { text, usage, tokens: Some(tokens) })
}

/// The alternatives of the `top_logprobs` value at `at` (`null`, or an array of objects with a
/// `"token"` string and a `"logprob"` number, other members skipped) and the index just after it.
///
/// Written for the debug build, as the scans below: indexing rather than iterator adapters and
/// `Option` chains, each of which is a function call there.
fn alternatives(raw: &str, at: usize) -> Option<(Vec<(String, f64)>, usize)> {
    let bytes = raw.as_bytes();
    let mut at = skip_space(bytes, at);
    if bytes[at..].starts_with(b"null") {
        return Some((Vec::new(), at + "null".len()));
    }
    if at >= bytes.len() || bytes[at] != b'[' {
        return None;
    }
    let mut read = Vec::with_capacity(10);
    at = skip_space(bytes, at + 1);
    if at < bytes.len() && bytes[at] == b']' {
        return Some((read, at + 1));
    }
    loop {
        if at >= bytes.len() || bytes[at] != b'{' {
            return None;
        }
        let (mut token, mut logprob) = (None, None);
        at += 1;
        loop {
            at = skip_space(bytes, at);
            if at >= bytes.len() || bytes[at] != b'"' {
                return None;
            }
            let (key_end, _) = string_end(bytes, at + 1)?;
            let key = &bytes[at + 1..key_end - 1];
            at = skip_space(bytes, key_end);
            if at >= bytes.len() || bytes[at] != b':' {
                return None;
            }
            at = skip_space(bytes, at + 1);
            at = if key == b"token" {
                let (text, end) = json_string(raw, at)?;
                token = Some(text.into_owned());
                end
            } else if key == b"logprob" {
                let end = scalar_end(bytes, at);
                logprob = Some(raw[at..end].parse::<f64>().ok()?);
                end
            } else {
                value_end(bytes, at)?
            };
            at = skip_space(bytes, at);
            if at >= bytes.len() {
                return None;
            }
            match bytes[at] {
                b',' => at += 1,
                b'}' => break,
                _ => return None,
            }
        }
        read.push((token?, logprob?));
        at = skip_space(bytes, at + 1);
        if at >= bytes.len() {
            return None;
        }
        match bytes[at] {
            b',' => at = skip_space(bytes, at + 1),
            b']' => return Some((read, at + 1)),
            _ => return None,
        }
    }
}

/// The first index from `at` on that is not JSON white space.
fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && matches!(bytes[at], b' ' | b'\n' | b'\r' | b'\t') {
        at += 1;
    }
    at
}

/// The JSON string at `at` (white space allowed before it), and the index just after it.
fn json_string(raw: &str, at: usize) -> Option<(Cow<'_, str>, usize)> {
    let bytes = raw.as_bytes();
    let start = skip_space(bytes, at);
    if start >= bytes.len() || bytes[start] != b'"' {
        return None;
    }
    let (end, escaped) = string_end(bytes, start + 1)?;
    let text = if escaped {
        Cow::Owned(serde_json::from_str::<String>(&raw[start..end]).ok()?)
    } else {
        Cow::Borrowed(&raw[start + 1..end - 1])
    };
    Some((text, end))
}

/// The index just after the closing quote of the string whose text starts at `at`, and whether
/// the string has escapes.
fn string_end(bytes: &[u8], mut at: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => return Some((at + 1, escaped)),
            b'\\' => {
                escaped = true;
                at += 2;
            }
            _ => at += 1,
        }
    }
    None
}

/// The index just after the number or literal (`true`, `null`) at `at`.
fn scalar_end(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && matches!(bytes[at], b'-' | b'+' | b'.' | b'0'..=b'9' | b'a'..=b'z' | b'E') {
        at += 1;
    }
    at
}

/// The index just after the JSON value at `at`.
fn value_end(bytes: &[u8], at: usize) -> Option<usize> {
    match *bytes.get(at)? {
        b'"' => string_end(bytes, at + 1).map(|(end, _)| end),
        b'[' | b'{' => close(bytes, at, 0),
        _ => Some(scalar_end(bytes, at)).filter(|&end| end > at),
    }
}

/// The index just after the value at `at` and then `levels` enclosing arrays or objects close
/// (`levels` closings from `at` on, when `at` is just after a value).
fn close(bytes: &[u8], mut at: usize, levels: usize) -> Option<usize> {
    let mut depth = levels;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => at = string_end(bytes, at + 1)?.0,
            b'[' | b'{' => {
                depth += 1;
                at += 1;
            }
            b']' | b'}' => {
                if depth == 0 {
                    return None;
                }
                depth -= 1;
                at += 1;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => at += 1,
        }
    }
    None
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

    /// What serde alone reads of `raw`, kept as the shortcut keeps it: the tokens from the score's
    /// on, with only the score's and (after a "1") the next token's alternatives.
    fn read_by_serde(raw: &str) -> Completion {
        let body: Body = serde_json::from_str(raw).unwrap();
        let mut completion = Completion {
            text: text_of(body.choices[0].message.as_ref()).unwrap(),
            usage: usage(body.usage),
            tokens: Some(Vec::new()),
        };
        let content = body.choices[0].logprobs.as_ref().unwrap().content.as_ref().unwrap();
        let Some(offset) = geval::score_value_offset(&completion.text) else { return completion };
        let mut start = 0;
        let score = content
            .iter()
            .position(|t| {
                start += t.token.len();
                start > offset
            })
            .unwrap();
        let split_ten = content[score].token.trim_start_matches(|c: char| !c.is_ascii_digit()).trim() == "1";
        completion.tokens = Some(
            content[score..]
                .iter()
                .enumerate()
                .map(|(i, t)| TokenLogprobs {
                    text: t.token.to_string(),
                    top: match i == 0 || (i == 1 && split_ten) {
                        true => t.top_logprobs.iter().flatten().map(|a| (a.token.to_string(), a.logprob)).collect(),
                        false => Vec::new(),
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
            // The score first: every token is walked back to it.
            vec!["{\"score\": ", "7", ", \"rationale\": \"", "long", " and", " fine", "\"}"],
            // The key named in the rationale before the score; the score the last token.
            vec!["{\"rationale\":\"no \\\"score\\\": ", "3", " here\",\"score\":", "8"],
        ];
        let alternatives = [("7", -0.5), ("8", -1.0), ("1", -2.0), ("3", -0.2), ("0", -0.1)];
        for tokens in tricky {
            let compact = body(&tokens, &alternatives);
            let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(&compact).unwrap()).unwrap();
            for raw in [compact, pretty] {
                let fast = shortcut(&raw).unwrap_or_else(|| panic!("the shortcut reads {raw}"));
                same(&fast, &read_by_serde(&raw));
                same(&read(&raw).unwrap(), &fast);
                let kept = fast.tokens.as_ref().unwrap();
                assert!(kept[0].top.len() == 10 && kept[0].text.contains(char::is_numeric), "{tokens:?}");
            }
        }
        // A reply without a score needs no token.
        let raw = body(&["I would give", " it", " a 7."], &alternatives);
        assert_eq!(shortcut(&raw).unwrap().tokens, Some(Vec::new()));
    }

    #[test]
    fn alternatives_are_read_as_serde_reads_them() {
        let text = r#" [ {"token" : "a\"b", "bytes": [97, 34, 98], "logprob": -0.25, "x": {"y": [1, "]"]} },
            {"logprob":-1e-3,"token":"\u00e9","bytes":null}] ,"#;
        let (read, end) = alternatives(text, 0).unwrap();
        assert_eq!(read, vec![("a\"b".to_owned(), -0.25), ("é".to_owned(), -0.001)]);
        assert_eq!(&text[end..], " ,");
        assert_eq!(alternatives(" null}", 0), Some((Vec::new(), 5)));
        assert_eq!(alternatives("[]", 0), Some((Vec::new(), 2)));
        for bad in
            [r#"[{"token": "a"}]"#, r#"[{"logprob": -1}]"#, r#"[{"token": "a", "logprob": x}]"#, "[", "{}", "[1]"]
        {
            assert_eq!(alternatives(bad, 0), None, "{bad}");
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
        // Alike tokens, so that each token seen with the next token's alternatives still spells the
        // text: an object closes between them, which tells.
        let shifted = json!({"choices": [{"message": {"content": "{\"score\":7}}"}, "logprobs": {"content": [
            {"top_logprobs": [], "token": "{\"score\":", "logprob": -0.1},
            {"top_logprobs": [{"token": "7", "logprob": -0.1}, {"token": "8", "logprob": -2.3}], "token": "7", "logprob": -0.1},
            {"top_logprobs": [], "token": "}", "logprob": 0.0},
            {"top_logprobs": [], "token": "}", "logprob": 0.0}
        ]}}]})
        .to_string();
        assert!(shortcut(&shifted).is_none());
        assert_eq!(read(&shifted).unwrap().tokens.unwrap()[1].top.len(), 2);
        let tokens = read(&reordered).unwrap().tokens.unwrap();
        assert_eq!(tokens[1].top, vec![("7".to_owned(), -0.1), ("8".to_owned(), -2.3)]);
        // Two choices (the shortcut would see the last one's tokens), tokens that do not spell the
        // text: serde.
        let scored = |score: &str| {
            json!({"message": {"content": format!("{{\"score\":{score}}}")}, "logprobs": {"content": [
                {"token": "{\"score\":", "top_logprobs": []}, {"token": score, "top_logprobs": []}, {"token": "}", "top_logprobs": []}
            ]}})
        };
        let two = json!({"choices": [scored("7"), scored("8")]}).to_string();
        assert!(shortcut(&two).is_none());
        assert_eq!(read(&two).unwrap().tokens.unwrap()[1].text, "7");
        // Tokens that would cut a character of the text in two: no panic, serde.
        let mut cut = json!({"choices": [scored("7")]});
        cut["choices"][0]["message"]["content"] = json!("{\"score\":7é");
        assert!(shortcut(&cut.to_string()).is_none());
        let mut misspelt = json!({"choices": [scored("7")]});
        misspelt["choices"][0]["message"]["content"] = json!("{\"score\":8}");
        assert!(shortcut(&misspelt.to_string()).is_none());
        let plain = json!({"choices": [{"message": {"content": "{\"score\":7}"}}], "usage": {"prompt_tokens": 3, "completion_tokens": 4}});
        let read_plain = read(&plain.to_string()).unwrap();
        assert_eq!((read_plain.usage.prompt_tokens, read_plain.tokens), (3, None));
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
