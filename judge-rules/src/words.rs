//! The settings that take one of a few words, and the judges' `provider:model` names.

use crate::judge::Provider;

/// Reads a judge, `provider:model` (the model may hold colons, `ollama:qwen2.5:7b`) or `local`
/// alone (the embedded judge's default model): its provider and model (empty for `local`).
pub fn judge(spec: &str) -> Result<(&str, &str), String> {
    let spec = spec.trim();
    if spec == "local" {
        return Ok(("local", ""));
    }
    let Some((provider, model)) = spec.split_once(':') else {
        return Err(format!(
            "write it as provider:model, e.g. openai:gpt-4.1-mini, or local (providers: {})",
            Provider::names()
        ));
    };
    if Provider::named(provider).is_none() {
        return Err(format!("unknown provider {provider:?}; providers: {}", Provider::names()));
    }
    if model.trim().is_empty() {
        return Err("the model name after the colon is empty".to_owned());
    }
    Ok((provider, model.trim()))
}

/// Reads `scoring`: true for `weighted` (G-Eval's probability-weighted score), false for `stated`.
pub fn scoring(s: &str) -> Result<bool, String> {
    match s {
        "weighted" => Ok(true),
        "stated" => Ok(false),
        _ => Err(format!(
            "{s:?} is not \"weighted\" (the scale weighted by the judge's token probabilities, where the provider \
             returns them; the default) or \"stated\" (the integer the judge wrote)"
        )),
    }
}

/// How an ensemble's scores combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Combine {
    /// `mean` (the default).
    #[default]
    Mean,
    /// `median`.
    Median,
    /// `majority`: each judge votes pass or fail against the threshold.
    Majority,
}

impl Combine {
    /// Reads a `combine` value.
    pub fn parse(s: &str) -> Result<Self, String> {
        combine(s)
    }

    /// The `combine` value that names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::Median => "median",
            Self::Majority => "majority",
        }
    }
}

/// Reads `combine`.
pub fn combine(s: &str) -> Result<Combine, String> {
    match s {
        "mean" => Ok(Combine::Mean),
        "median" => Ok(Combine::Median),
        "majority" => Ok(Combine::Majority),
        _ => Err(format!(
            "{s:?} is not one of: mean (the default), median, majority (each judge votes pass or fail against the \
             threshold)"
        )),
    }
}

/// Reads `on_disagreement`: true for `fail`, false for `flag`.
pub fn on_disagreement(s: &str) -> Result<bool, String> {
    match s {
        "flag" => Ok(false),
        "fail" => Ok(true),
        _ => Err(format!("{s:?} is not \"flag\" (report it; the default) or \"fail\" (fail the eval)")),
    }
}

/// Checks an ensemble's size: two judges at least.
pub fn ensemble_size(count: usize) -> Result<(), String> {
    if count < 2 {
        return Err(format!(
            "an ensemble needs at least two judges, e.g. \"openai:gpt-4.1, anthropic:claude-sonnet-4-5\" (found \
             {count}); for one judge, set the judge alone (`judge`, JUDGE_MODEL)"
        ));
    }
    Ok(())
}

/// Checks `max_spread`: in 0..=1.
pub fn max_spread(v: f64) -> Result<(), String> {
    if !crate::ranges::MAX_SPREAD.contains(v) {
        return Err(format!("must be in 0.0..=1.0 (the largest gap between judges' scores not flagged), found {v}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_and_words() {
        assert_eq!(judge("ollama:qwen2.5:7b"), Ok(("ollama", "qwen2.5:7b")));
        assert_eq!(judge(" local "), Ok(("local", "")));
        assert!(judge("gpt-4").unwrap_err().contains("provider:model"));
        assert!(judge("acme:x").unwrap_err().contains("unknown provider \"acme\""));
        assert!(judge("openai: ").unwrap_err().contains("empty"));
        assert_eq!(
            (scoring("stated"), combine("median"), on_disagreement("fail")),
            (Ok(false), Ok(Combine::Median), Ok(true))
        );
        assert!(scoring("probable").unwrap_err().contains("\"weighted\""));
        assert!(combine("vote").unwrap_err().contains("mean (the default), median, majority"));
        assert!(on_disagreement("warn").unwrap_err().contains("\"flag\""));
        assert!(ensemble_size(1).unwrap_err().contains("at least two judges"));
        assert!(max_spread(2.0).is_err());
    }
}
