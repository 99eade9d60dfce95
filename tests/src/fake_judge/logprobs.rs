//! The token log-probabilities of an OpenAI reply (`choices[0].logprobs.content`): the score
//! token's alternatives carry the distribution a `[dist:7=0.6,8=0.4]` marker in the output scripts
//! (else the score alone), which G-Eval weighting reads.

use serde_json::{Value, json};

/// The logprobs an OpenAI reply carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Logprobs {
    /// Three tokens (up to the score, the score, the rest), alternatives for the score's alone:
    /// small replies, for most tests.
    Score,
    /// Every token of the reply, about four characters each, with its `bytes` and `top`
    /// alternatives, as OpenAI sends them: the size of a real reply, for the benchmarks.
    Full { top: usize },
}

/// The rationale a real judge writes is about 100 tokens long; the fake judge's is one sentence.
const RATIONALE_CHARS: usize = 400;

/// `rationale`, continued to a judge's usual length.
pub(crate) fn judges_length(rationale: &str) -> String {
    let mut long = rationale.to_owned();
    while long.len() < RATIONALE_CHARS {
        long.push_str(" The answer was read against the rubric, point by point, before the score was chosen.");
    }
    long
}

/// [`Logprobs::Score`] for `content`, whose score is `score`, judging `output`.
pub(crate) fn score_only(content: &str, score: u64, output: &str) -> Value {
    let (head, digits, tail) = split_at_score(content, score);
    let token = |text: &str, top: &[(String, f64)]| {
        json!({
            "token": text,
            "logprob": top.first().map_or(0.0, |t| t.1),
            "top_logprobs": top.iter().map(|(t, lp)| json!({ "token": t, "logprob": lp })).collect::<Vec<_>>()
        })
    };
    json!({ "content": [token(head, &[]), token(&digits, &score_alternatives(output, &digits)), token(tail, &[])] })
}

/// [`Logprobs::Full`] for `content`, whose score is `score`, judging `output`, with `top`
/// alternatives per token. Alternatives that are not the distribution's are unlikely (a logprob of
/// −20) and name no score, so they leave the weighted score as `[dist:…]` scripts it.
pub(crate) fn every_token(content: &str, score: u64, output: &str, top: usize) -> Value {
    let (head, digits, tail) = split_at_score(content, score);
    let entry = |text: &str, alternatives: Vec<(String, f64)>| {
        json!({
            "token": text,
            "logprob": alternatives.first().map_or(0.0, |a| a.1),
            "bytes": text.as_bytes(),
            "top_logprobs": alternatives
                .iter()
                .map(|(t, lp)| json!({ "token": t, "logprob": lp, "bytes": t.as_bytes() }))
                .collect::<Vec<_>>()
        })
    };
    let padded = |mut alternatives: Vec<(String, f64)>| {
        let mut i = 0;
        while alternatives.len() < top.max(1) {
            i += 1;
            alternatives.push((format!(" alt{i}"), -20.0 - i as f64));
        }
        alternatives
    };
    let plain = |text: &str| padded(vec![(text.to_owned(), -0.01)]);
    let mut tokens: Vec<Value> = chunks(head).map(|t| entry(t, plain(t))).collect();
    tokens.push(entry(&digits, padded(score_alternatives(output, &digits))));
    tokens.extend(chunks(tail).map(|t| entry(t, plain(t))));
    json!({ "content": tokens })
}

/// `content` around its score: what precedes it, its digits, what follows.
fn split_at_score(content: &str, score: u64) -> (&str, String, &str) {
    let digits = score.to_string();
    let at = content.rfind(&format!(":{digits}}}")).map_or(0, |i| i + 1);
    (&content[..at], digits.clone(), &content[at + digits.len()..])
}

/// The score token's alternatives: `[dist:7=0.6,8=0.4]` in the output, else the score alone.
fn score_alternatives(output: &str, digits: &str) -> Vec<(String, f64)> {
    match output.find("[dist:") {
        Some(start) => output[start + 6..]
            .split(']')
            .next()
            .unwrap_or("")
            .split(',')
            .filter_map(|pair| {
                let (token, p) = pair.split_once('=')?;
                Some((token.to_owned(), p.parse::<f64>().ok()?.ln()))
            })
            .collect(),
        None => vec![(digits.to_owned(), 0.0)],
    }
}

/// `text` in tokens of up to four characters.
fn chunks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.char_indices().nth(4).map_or(rest.len(), |(i, _)| i);
        let (token, after) = rest.split_at(end);
        rest = after;
        Some(token)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_token_carries_the_distribution() {
        let logprobs = score_only(r#"{"rationale":"r","score":7}"#, 7, "x [dist:7=0.5,8=0.5]");
        let score = &logprobs["content"][1];
        assert_eq!(score["token"], "7");
        assert_eq!(score["top_logprobs"].as_array().unwrap().len(), 2);
        assert_eq!(logprobs["content"][2]["token"], "}");
    }

    #[test]
    fn every_token_is_sent_as_openai_sends_it() {
        let content = r#"{"rationale":"Fine: één.","score":7}"#;
        let logprobs = every_token(content, 7, "x [dist:7=0.5,8=0.5]", 10);
        let tokens = logprobs["content"].as_array().unwrap();
        let text: String = tokens.iter().map(|t| t["token"].as_str().unwrap()).collect();
        assert_eq!(text, content, "the tokens make the reply");
        for token in tokens {
            assert_eq!(token["top_logprobs"].as_array().unwrap().len(), 10);
            assert_eq!(token["bytes"], json!(token["token"].as_str().unwrap().as_bytes()));
        }
        let score = tokens.iter().find(|t| t["token"] == "7").unwrap();
        assert_eq!(score["top_logprobs"][1]["token"], "8");
        assert!(judges_length("Short.").len() >= RATIONALE_CHARS);
    }
}
