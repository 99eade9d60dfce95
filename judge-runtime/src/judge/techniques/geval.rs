//! G-Eval's probability-weighted score: instead of the one score a judge writes, the mean of the
//! scale's scores weighted by the probability the judge gave each as its next token.
//!
//! Tokenizers differ: some have two ids per digit (`"7"` and `" 7"`), and many split `"10"` into
//! `"1"` then `"0"`. Candidates are grouped by their trimmed text, and the probability of a `"1"`
//! is split between 1 and 10 by the probability that `"0"` follows it.

use crate::judge::techniques::verdict::Scale;

/// The next-token distribution at the score's position, as far as it concerns scores.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScoreDistribution {
    /// Probability of each score of the scale, `min..=max`, normalised to sum to 1.
    pub probabilities: Vec<f64>,
    /// How much of the next-token probability fell on score tokens before normalising: a low mass
    /// means the judge wanted to write something else.
    pub mass: f64,
}

impl ScoreDistribution {
    /// Builds the distribution from next-token candidates `(text, probability)`. `zero_after_one`
    /// is the probability that `"0"` follows a `"1"` (needed when `"10"` is in the scale but is
    /// split); `None` when unknown, in which case a `"1"` counts as 1.
    pub fn from_candidates<'a>(
        candidates: impl IntoIterator<Item = (&'a str, f64)>,
        scale: Scale,
        zero_after_one: Option<f64>,
    ) -> Option<Self> {
        let mut probabilities = vec![0.0; (scale.max - scale.min + 1) as usize];
        let mut add = |score: u32, p: f64| {
            if (scale.min..=scale.max).contains(&score) {
                probabilities[(score - scale.min) as usize] += p;
            }
        };
        for (text, p) in candidates {
            let Ok(score) = text.trim().parse::<u32>() else { continue };
            if !(p.is_finite() && p > 0.0) {
                continue;
            }
            match (score, zero_after_one) {
                (1, Some(zero)) if scale.contains(10) => {
                    let zero = zero.clamp(0.0, 1.0);
                    add(10, p * zero);
                    add(1, p * (1.0 - zero));
                }
                _ => add(score, p),
            }
        }
        let mass: f64 = probabilities.iter().sum();
        if mass <= 0.0 {
            return None;
        }
        probabilities.iter_mut().for_each(|p| *p /= mass);
        Some(Self { probabilities, mass })
    }

    /// The expected score on the scale.
    pub fn mean(&self, scale: Scale) -> f64 {
        self.probabilities.iter().enumerate().map(|(i, p)| (scale.min as f64 + i as f64) * p).sum()
    }
}

impl Scale {
    fn contains(self, score: u32) -> bool {
        (self.min..=self.max).contains(&score)
    }
}

/// A token of a reply with its log-probability and its most likely alternatives (OpenAI's
/// `logprobs.content[*]`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TokenLogprobs {
    pub text: String,
    /// The alternatives with their log-probabilities; a reader may leave them out for tokens where
    /// no score starts.
    pub top: Vec<(String, f64)>,
}

/// The distribution of the score the judge wrote in `text`, read from `tokens`: the reply's last
/// tokens (all of them, or as many as reach back to the score's), which spell the end of `text`.
/// It is the alternatives of the token where the value of `"score"` starts. `None` when the
/// score's token is not among `tokens` or its alternatives name no score. Tokens that do not spell
/// the end of `text` are read as the whole reply, spelled by themselves.
pub(crate) fn from_token_logprobs(text: &str, tokens: &[TokenLogprobs], scale: Scale) -> Option<ScoreDistribution> {
    let spelled = tokens.iter().map(|t| t.text.len()).sum::<usize>();
    let ends_text = text.len() >= spelled
        && tokens
            .iter()
            .try_fold(text.len() - spelled, |at, t| {
                text.as_bytes()[at..].starts_with(t.text.as_bytes()).then(|| at + t.text.len())
            })
            .is_some();
    let text: std::borrow::Cow<str> =
        if ends_text { text.into() } else { tokens.iter().map(|t| t.text.as_str()).collect::<String>().into() };
    let offset = score_value_offset(&text)?;
    let mut start = text.len() - spelled;
    let index = tokens.iter().position(|t| {
        let end = start + t.text.len();
        let found = (start..end).contains(&offset);
        if !found {
            start = end;
        }
        found
    })?;
    let token_start = start;
    // The token may begin before the digits (`": 7"`): its alternatives then share that lead.
    let lead = &text[token_start..offset];
    let candidates: Vec<(&str, f64)> = tokens[index]
        .top
        .iter()
        .filter_map(|(alt, logprob)| {
            // An alternative without the lead's white space is a score too (`"score":7`).
            let rest = alt.strip_prefix(lead).or_else(|| lead.trim().is_empty().then(|| alt.trim_start()))?;
            Some((rest.trim_end_matches(['"', ',', '}']), logprob.exp()))
        })
        .collect();
    // Where "10" is split, the next token's probability of "0" after a chosen "1" splits it.
    let chosen = tokens[index].text.strip_prefix(lead).unwrap_or("").trim();
    let zero_after_one = match (chosen, tokens.get(index + 1)) {
        ("1", Some(next)) if scale.max >= 10 => {
            Some(next.top.iter().filter(|(t, _)| t.trim() == "0").map(|(_, lp)| lp.exp()).sum::<f64>())
        }
        _ => None,
    };
    ScoreDistribution::from_candidates(candidates, scale, zero_after_one)
}

/// The byte offset where the number after the first `"score":` starts. A `\"score\"` is quoted
/// inside a JSON string (a rationale that names the key), not the key.
pub(crate) fn score_value_offset(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find("\"score\"") {
        let after = from + found + "\"score\"".len();
        if text[..from + found].ends_with('\\') {
            from = after;
            continue;
        }
        let rest = &text[after..];
        let rest_trimmed = rest.trim_start();
        if let Some(value) = rest_trimmed.strip_prefix(':') {
            let value_trimmed = value.trim_start().trim_start_matches('"');
            if value_trimmed.starts_with(|c: char| c.is_ascii_digit()) {
                return Some(text.len() - value_trimmed.len());
            }
        }
        from = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCALE: Scale = Scale { min: 0, max: 10 };

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn weights_scores_by_probability() {
        let d = ScoreDistribution::from_candidates([("7", 0.5), ("8", 0.25), ("x", 0.25)], SCALE, None).unwrap();
        assert!(close(d.mass, 0.75));
        assert!(close(d.mean(SCALE), (7.0 * 0.5 + 8.0 * 0.25) / 0.75));
        assert!(close(d.probabilities[7], 0.5 / 0.75));
    }

    #[test]
    fn two_ids_per_digit_are_summed() {
        let d = ScoreDistribution::from_candidates([("7", 0.3), (" 7", 0.3), ("9", 0.4)], SCALE, None).unwrap();
        assert!(close(d.probabilities[7], 0.6));
    }

    #[test]
    fn a_split_ten_is_recovered_from_the_next_token() {
        // "1" then "0" with probability 0.8: 10 gets 0.4, 1 gets 0.1.
        let d = ScoreDistribution::from_candidates([("1", 0.5), ("9", 0.5)], SCALE, Some(0.8)).unwrap();
        assert!(close(d.probabilities[10], 0.4));
        assert!(close(d.probabilities[1], 0.1));
        assert!(close(d.mean(SCALE), 10.0 * 0.4 + 1.0 * 0.1 + 9.0 * 0.5));
        // A single "10" token counts whole.
        let d = ScoreDistribution::from_candidates([("10", 1.0)], SCALE, None).unwrap();
        assert!(close(d.probabilities[10], 1.0));
    }

    #[test]
    fn out_of_scale_and_empty_are_ignored() {
        let scale = Scale { min: 1, max: 5 };
        let d = ScoreDistribution::from_candidates([("0", 0.5), ("3", 0.5), ("6", 0.5)], scale, None).unwrap();
        assert!(close(d.mean(scale), 3.0));
        assert_eq!(ScoreDistribution::from_candidates([("yes", 1.0)], SCALE, None), None);
    }

    fn token(text: &str, top: &[(&str, f64)]) -> TokenLogprobs {
        TokenLogprobs { text: text.to_owned(), top: top.iter().map(|(t, p)| ((*t).to_owned(), p.ln())).collect() }
    }

    #[test]
    fn finds_the_score_token_in_a_json_reply() {
        let tokens = [
            token("{\"rationale\": \"fine\", \"score\":", &[]),
            token(" 7", &[(" 7", 0.6), (" 8", 0.3), (" the", 0.1)]),
            token("}", &[]),
        ];
        let d = from_token_logprobs(&text_of(&tokens), &tokens, SCALE).unwrap();
        assert!(close(d.mean(SCALE), (7.0 * 0.6 + 8.0 * 0.3) / 0.9));
        assert!(close(d.mass, 0.9));
    }

    #[test]
    fn a_token_that_starts_before_the_digits_shares_its_lead() {
        let tokens =
            [token("{\"rationale\":\"r\",\"score\"", &[]), token(":9", &[(":9", 0.5), (":10", 0.5)]), token("}", &[])];
        let d = from_token_logprobs(&text_of(&tokens), &tokens, SCALE).unwrap();
        assert!(close(d.mean(SCALE), 9.5));
    }

    #[test]
    fn a_split_ten_reads_the_next_token() {
        let tokens = [
            token("{\"rationale\":\"r\",\"score\":", &[]),
            token("1", &[("1", 0.8), ("9", 0.2)]),
            token("0", &[("0", 0.75), ("}", 0.25)]),
        ];
        let d = from_token_logprobs(&text_of(&tokens), &tokens, SCALE).unwrap();
        assert!(close(d.probabilities[10], 0.6) && close(d.probabilities[1], 0.2) && close(d.probabilities[9], 0.2));
    }

    #[test]
    fn no_score_no_distribution() {
        let tokens = [token("I give it a seven.", &[])];
        assert_eq!(from_token_logprobs(&text_of(&tokens), &tokens, SCALE), None);
    }

    fn text_of(tokens: &[TokenLogprobs]) -> String {
        tokens.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn the_last_tokens_alone_are_read_where_they_end_the_text() {
        let text = "{\"rationale\": \"a \\\"score\\\": 3 here\", \"score\": 7}";
        let whole = [token(&text[..text.len() - 3], &[]), token(" 7", &[(" 7", 0.5), (" 8", 0.5)]), token("}", &[])];
        let d = from_token_logprobs(text, &whole, SCALE).unwrap();
        assert!(close(d.mean(SCALE), 7.5));
        // The same reply with only the score's token and the one after it kept.
        assert_eq!(from_token_logprobs(text, &whole[1..], SCALE), Some(d.clone()));
        // The score's token left out: nothing to weigh.
        assert_eq!(from_token_logprobs(text, &whole[2..], SCALE), None);
        // Tokens that do not end the text are the reply themselves.
        // Tokens whose start would cut a character of the text: read as the reply themselves.
        let cut = [token("x", &[]), token("{\"score\":", &[]), token("4", &[("4", 1.0)])];
        assert!(close(from_token_logprobs("é{\"score\":4", &cut[1..], SCALE).unwrap().mean(SCALE), 4.0));
        assert!(close(from_token_logprobs("aé", &cut, SCALE).unwrap().mean(SCALE), 4.0));
        assert_eq!(from_token_logprobs("aé", &cut[2..], SCALE), None);
        let other = [token("{\"score\":", &[]), token("2", &[("2", 1.0)]), token("}", &[])];
        assert!(close(from_token_logprobs(text, &other, SCALE).unwrap().mean(SCALE), 2.0));
    }
}
