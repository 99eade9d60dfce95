//! What an OpenAI-compatible server refused, learned from its rejections: each turns one part of
//! the request off for good (structured output steps down from `json_schema` to `json_object` to
//! plain text; the score's `minimum`/`maximum`, `temperature`, `max_tokens` — replaced by
//! `max_completion_tokens` — `logprobs` and `seed` are dropped), so the refusals end.
//!
//! They decide what a request is sent with, so they decide the verdict: the cache key describes the
//! request as sent ([`Refusals::key_params`]), and the harness keeps the refusals in the cache
//! beside the verdicts ([`RefusalRecord`]), so that a later process — a replay included — computes
//! the same key without asking the server again.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::settings::params::GenerationParams;

/// Which `response_format` is asked for; each step down is taken once a server rejects the one
/// before.
pub(crate) const FORMAT_JSON_SCHEMA: u8 = 0;
pub(crate) const FORMAT_JSON_OBJECT: u8 = 1;
pub(crate) const FORMAT_TEXT: u8 = 2;

/// Which field carries the reply length.
pub(crate) const LENGTH_MAX_TOKENS: u8 = 0;
pub(crate) const LENGTH_MAX_COMPLETION_TOKENS: u8 = 1;
pub(crate) const LENGTH_NONE: u8 = 2;

/// What the server turned out not to accept.
#[derive(Debug, Default)]
pub(crate) struct Refusals {
    format: AtomicU8,
    length_field: AtomicU8,
    bounds_rejected: AtomicBool,
    temperature_rejected: AtomicBool,
    logprobs_rejected: AtomicBool,
    seed_rejected: AtomicBool,
    /// Something was learned since the record was last taken.
    learned: AtomicBool,
}

/// What one request is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub format: u8,
    pub length_field: u8,
    pub bounds: bool,
    pub temperature: bool,
    pub logprobs: bool,
    pub seed: bool,
}

/// The refusals as the cache keeps them: what a server of one `provider:model` refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RefusalRecord {
    /// The structured output asked for: `json_schema`, `json_object` or `text`.
    pub format: String,
    /// The field of the reply length: `max_tokens`, `max_completion_tokens` or `none`.
    pub length_field: String,
    /// Each part refused: `schema_bounds`, `temperature`, `logprobs`, `seed`.
    pub refused: Vec<String>,
}

const FORMATS: [&str; 3] = ["json_schema", "json_object", "text"];
const LENGTH_FIELDS: [&str; 3] = ["max_tokens", "max_completion_tokens", "none"];

impl Refusals {
    /// What the next request is sent with, given what the server refused so far.
    pub fn shape(&self, params: &GenerationParams) -> Shape {
        let load = |flag: &AtomicBool| flag.load(Ordering::Relaxed);
        Shape {
            format: self.format.load(Ordering::Relaxed),
            length_field: if params.max_tokens.is_some() {
                self.length_field.load(Ordering::Relaxed)
            } else {
                LENGTH_NONE
            },
            bounds: !load(&self.bounds_rejected),
            temperature: params.temperature.is_some() && !load(&self.temperature_rejected),
            logprobs: params.weighted && !load(&self.logprobs_rejected),
            seed: params.seed.is_some() && !load(&self.seed_rejected),
        }
    }

    /// The parameters a request with `params` is sent with, for the cache key: what the server
    /// refused is left out, a score whose `logprobs` were refused is stated, and a structured
    /// output other than `json_schema` is named. With nothing refused, the parameters' own JSON,
    /// so that the keys of verdicts cached before any refusal still match.
    pub fn key_params(&self, params: &GenerationParams) -> Value {
        let shape = self.shape(params);
        let sent = GenerationParams {
            temperature: params.temperature.filter(|_| shape.temperature),
            max_tokens: params.max_tokens.filter(|_| shape.length_field != LENGTH_NONE),
            seed: params.seed.filter(|_| shape.seed),
            weighted: shape.logprobs,
        };
        let mut key = sent.to_json();
        if shape.format != FORMAT_JSON_SCHEMA {
            key["format"] = json!(FORMATS[usize::from(shape.format)]);
        } else if !shape.bounds {
            key["schema_bounds"] = json!(false);
        }
        key
    }

    /// Reads a rejection of a request sent as `sent`: if it names a part the request had and the
    /// server can do without, that part is turned off for good. Returns what was turned off, and
    /// whether this call turned it off (another request may have learned it a moment before).
    pub fn learn(&self, sent: Shape, message: &str) -> Option<(&'static str, bool)> {
        let m = message.to_ascii_lowercase();
        let refuse = |flag: &AtomicBool| !flag.swap(true, Ordering::Relaxed);
        let learned = if sent.length_field == LENGTH_MAX_COMPLETION_TOKENS && m.contains("max_completion_tokens") {
            ("`max_completion_tokens`", self.length_field.swap(LENGTH_NONE, Ordering::Relaxed) != LENGTH_NONE)
        } else if sent.length_field == LENGTH_MAX_TOKENS && m.contains("max_tokens") {
            (
                "`max_tokens` (sending `max_completion_tokens` instead)",
                self.length_field.swap(LENGTH_MAX_COMPLETION_TOKENS, Ordering::Relaxed) == LENGTH_MAX_TOKENS,
            )
        } else if sent.format == FORMAT_JSON_SCHEMA && sent.bounds && (m.contains("minimum") || m.contains("maximum")) {
            ("`minimum`/`maximum` in the schema", refuse(&self.bounds_rejected))
        } else if sent.format == FORMAT_JSON_SCHEMA && (m.contains("json_schema") || m.contains("response_format")) {
            ("`json_schema` structured output (using JSON mode)", self.step_format(FORMAT_JSON_SCHEMA))
        } else if sent.format == FORMAT_JSON_OBJECT && (m.contains("json_object") || m.contains("response_format")) {
            ("JSON mode (asking for JSON in plain text)", self.step_format(FORMAT_JSON_OBJECT))
        } else if sent.temperature && m.contains("temperature") {
            ("`temperature`", refuse(&self.temperature_rejected))
        } else if sent.logprobs && m.contains("logprobs") {
            ("`logprobs`", refuse(&self.logprobs_rejected))
        } else if sent.seed && m.contains("seed") {
            ("`seed`", refuse(&self.seed_rejected))
        } else {
            return None;
        };
        if learned.1 {
            self.learned.store(true, Ordering::Relaxed);
        }
        Some(learned)
    }

    /// Moves the format one step down from `from`; whether this call moved it.
    fn step_format(&self, from: u8) -> bool {
        from < FORMAT_TEXT && self.format.compare_exchange(from, from + 1, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }

    /// The record of what was refused, if something was learned since it was last taken.
    pub fn take_record(&self) -> Option<RefusalRecord> {
        self.learned.swap(false, Ordering::Relaxed).then(|| self.record())
    }

    /// The record of what was refused.
    pub fn record(&self) -> RefusalRecord {
        let flags = [
            ("schema_bounds", &self.bounds_rejected),
            ("temperature", &self.temperature_rejected),
            ("logprobs", &self.logprobs_rejected),
            ("seed", &self.seed_rejected),
        ];
        RefusalRecord {
            format: FORMATS[usize::from(self.format.load(Ordering::Relaxed))].to_owned(),
            length_field: LENGTH_FIELDS[usize::from(self.length_field.load(Ordering::Relaxed))].to_owned(),
            refused: flags
                .iter()
                .filter(|(_, f)| f.load(Ordering::Relaxed))
                .map(|(name, _)| (*name).to_owned())
                .collect(),
        }
    }

    /// Takes what an earlier process learned (the cache's record): the refusals only grow.
    pub fn apply(&self, record: &RefusalRecord) {
        let position = |words: &[&str], word: &str| words.iter().position(|w| *w == word).map(|i| i as u8);
        if let Some(format) = position(&FORMATS, &record.format) {
            self.format.fetch_max(format, Ordering::Relaxed);
        }
        if let Some(field) = position(&LENGTH_FIELDS, &record.length_field) {
            self.length_field.fetch_max(field, Ordering::Relaxed);
        }
        for (name, flag) in [
            ("schema_bounds", &self.bounds_rejected),
            ("temperature", &self.temperature_rejected),
            ("logprobs", &self.logprobs_rejected),
            ("seed", &self.seed_rejected),
        ] {
            if record.refused.iter().any(|r| r == name) {
                flag.store(true, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> GenerationParams {
        GenerationParams { temperature: Some(0.0), max_tokens: Some(300), seed: Some(7), weighted: true }
    }

    #[test]
    fn the_key_describes_the_request_as_sent() {
        let refusals = Refusals::default();
        assert_eq!(refusals.key_params(&params()), params().to_json(), "nothing refused: the old keys");
        let sent = refusals.shape(&params());
        assert_eq!(refusals.learn(sent, "Unsupported parameter: 'temperature'"), Some(("`temperature`", true)));
        assert_eq!(refusals.learn(sent, "Unsupported parameter: 'temperature'"), Some(("`temperature`", false)));
        let sent = refusals.shape(&params());
        refusals.learn(sent, "logprobs are not supported");
        refusals.learn(refusals.shape(&params()), "response_format json_schema is not supported");
        assert_eq!(
            refusals.key_params(&params()),
            json!({ "max_tokens": 300, "seed": 7, "scoring": "stated", "format": "json_object" })
        );
    }

    #[test]
    fn a_record_carries_the_refusals_to_another_process() {
        let refusals = Refusals::default();
        assert_eq!(refusals.take_record(), None, "nothing learned");
        refusals.learn(refusals.shape(&params()), "'max_tokens' is not supported with this model");
        refusals.learn(refusals.shape(&params()), "temperature is not supported");
        let record = refusals.take_record().unwrap();
        assert_eq!(refusals.take_record(), None, "taken once");
        assert_eq!(record.length_field, "max_completion_tokens");
        assert_eq!(record.refused, ["temperature"]);
        let later = Refusals::default();
        later.apply(&record);
        assert_eq!(later.key_params(&params()), refusals.key_params(&params()));
        assert_eq!(later.shape(&params()), refusals.shape(&params()));
        assert_eq!(later.take_record(), None, "applying is not learning");
    }
}
