//! Generation parameters of a judge request: temperature, reply length, seed, and whether the
//! score is weighted by token probabilities. They decide the verdict, so they are part of the cache
//! key; the per-request timeout does not, so it is not.

use serde_json::{Map, Value, json};

/// Greedy decoding by default: the judge's noise is measured by repeating samples, not added to it.
pub const DEFAULT_TEMPERATURE: f64 = 0.0;

/// What the judge is asked to generate with, as configured for one eval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GenerationParams {
    /// Sampling temperature; `None` leaves the provider's default.
    pub temperature: Option<f64>,
    /// The longest reply, in tokens; `None` leaves the provider's default.
    pub max_tokens: Option<u32>,
    /// A sampling seed, for providers that support one.
    pub seed: Option<u64>,
    /// G-Eval's probability-weighted score where the provider returns token probabilities
    /// (`scoring = "weighted"`, the default), or the integer the judge wrote (`"stated"`).
    pub weighted: bool,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self { temperature: Some(DEFAULT_TEMPERATURE), max_tokens: None, seed: None, weighted: true }
    }
}

impl GenerationParams {
    /// The parameters as JSON fields (`temperature`, `max_tokens`, `seed`), leaving out unset ones,
    /// and `"scoring": "stated"` when scores are not weighted (left out by default, so that the keys
    /// of verdicts cached before the setting existed still match). This is what the cache key hashes.
    pub fn to_json(self) -> Value {
        let mut fields = Map::new();
        if let Some(t) = self.temperature {
            fields.insert("temperature".to_owned(), json!(t));
        }
        if let Some(n) = self.max_tokens {
            fields.insert("max_tokens".to_owned(), json!(n));
        }
        if let Some(seed) = self.seed {
            fields.insert("seed".to_owned(), json!(seed));
        }
        if !self.weighted {
            fields.insert("scoring".to_owned(), json!("stated"));
        }
        Value::Object(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_fields_are_left_out() {
        assert_eq!(GenerationParams::default().to_json(), json!({ "temperature": 0.0 }));
        let all = GenerationParams { temperature: Some(0.5), max_tokens: Some(300), seed: Some(7), weighted: false };
        assert_eq!(all.to_json(), json!({ "temperature": 0.5, "max_tokens": 300, "seed": 7, "scoring": "stated" }));
        let none = GenerationParams { temperature: None, max_tokens: None, seed: None, weighted: true };
        assert_eq!(none.to_json(), json!({}));
    }
}
