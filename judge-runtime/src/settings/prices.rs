//! What judge calls cost: judge.toml's `[prices."provider:model"]` tables, with `prompt` and
//! `completion`, each the price of a million tokens in whatever currency the team budgets in. The
//! reports show each eval's and the run's cost, and `max_judge_cost` caps it.

use std::collections::BTreeMap;

use judge_rules::judge::JudgeSpec;

/// The price of one judge's tokens, per million.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Price {
    /// A million prompt tokens.
    pub prompt: f64,
    /// A million completion tokens.
    pub completion: f64,
}

impl Price {
    /// What `prompt` and `completion` tokens cost.
    pub fn cost(&self, prompt: u64, completion: u64) -> f64 {
        (prompt as f64 * self.prompt + completion as f64 * self.completion) / 1_000_000.0
    }
}

/// Every judge's price, by judge.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Prices(BTreeMap<String, Price>);

impl Prices {
    /// The price of `judge`'s tokens, if judge.toml gives one.
    pub fn of(&self, judge: &JudgeSpec) -> Option<Price> {
        self.0.get(&judge.to_string()).copied()
    }

    /// Reads judge.toml's `[prices]`: a table of judges, each a table of `prompt` and
    /// `completion`, numbers ≥ 0.
    pub fn from_toml(table: &toml::Table) -> Result<Self, String> {
        let mut prices = BTreeMap::new();
        for (judge, price) in table {
            let spec = JudgeSpec::parse(judge).map_err(|reason| format!("[prices.\"{judge}\"]: {reason}"))?;
            let shape = || format!("[prices.\"{judge}\"] is prompt = PRICE, completion = PRICE (per million tokens)");
            let price = price.as_table().ok_or_else(shape)?;
            if let Some(key) = price.keys().find(|k| !["prompt", "completion"].contains(&k.as_str())) {
                return Err(format!("[prices.\"{judge}\"] has no key `{key}`: {}", shape()));
            }
            let number = |key: &str| match price.get(key) {
                Some(toml::Value::Float(v)) if *v >= 0.0 && v.is_finite() => Ok(*v),
                Some(toml::Value::Integer(v)) if *v >= 0 => Ok(*v as f64),
                Some(other) => Err(format!("[prices.\"{judge}\"] {key} must be a number ≥ 0, found {other}")),
                None => Err(format!("[prices.\"{judge}\"] needs {key}: {}", shape())),
            };
            prices.insert(spec.to_string(), Price { prompt: number("prompt")?, completion: number("completion")? });
        }
        Ok(Self(prices))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Prices, String> {
        Prices::from_toml(&toml::from_str(text).unwrap())
    }

    #[test]
    fn prices_are_per_million_tokens_by_judge() {
        let prices = read("[\"openai:gpt-4.1-mini\"]\nprompt = 0.40\ncompletion = 1.60\n").unwrap();
        let price = prices.of(&JudgeSpec::parse("openai:gpt-4.1-mini").unwrap()).unwrap();
        assert!((price.cost(1_000_000, 500_000) - 1.2).abs() < 1e-12);
        assert_eq!(prices.of(&JudgeSpec::parse("openai:other").unwrap()), None);
        assert!(read("[\"gpt-4\"]\nprompt = 1\ncompletion = 1\n").unwrap_err().contains("provider:model"));
        assert!(read("[\"openai:m\"]\nprompt = 1\n").unwrap_err().contains("needs completion"));
        assert!(read("[\"openai:m\"]\nprompt = -1\ncompletion = 1\n").unwrap_err().contains("≥ 0"));
        assert!(
            read("[\"openai:m\"]\nprompt = 1\ncompletion = 1\ninput = 2\n").unwrap_err().contains("no key `input`")
        );
    }
}
