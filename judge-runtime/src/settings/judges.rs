//! A judge as a layer of settings holds it: typed when `#[llm_eval]` wrote it, or as written in the
//! environment or judge.toml. A written judge is read when an eval uses it, so that a bad
//! `JUDGE_MODEL` fails only the evals it would judge, each naming where it came from.

use std::fmt;

use judge_rules::judge::JudgeSpec;

/// One judge of a layer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JudgeName {
    /// Named in code: `#[llm_eval]` checked it at compile time.
    Spec(JudgeSpec),
    /// `provider:model` as the environment or judge.toml wrote it.
    Written(String),
}

impl JudgeName {
    /// The judge it names, or why it names none.
    pub fn spec(&self) -> Result<JudgeSpec, String> {
        match self {
            Self::Spec(spec) => Ok(spec.clone()),
            Self::Written(text) => JudgeSpec::parse(text),
        }
    }
}

/// The judge as written: `provider:model`.
impl fmt::Display for JudgeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spec(spec) => spec.fmt(f),
            Self::Written(text) => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_judge_is_read_when_used() {
        let typed = JudgeName::Spec(JudgeSpec::parse("ollama:qwen2.5:7b").unwrap());
        assert_eq!(
            (typed.to_string(), typed.spec().unwrap().model.as_ref()),
            ("ollama:qwen2.5:7b".to_owned(), "qwen2.5:7b")
        );
        let written = JudgeName::Written("gpt-4".to_owned());
        assert_eq!(written.to_string(), "gpt-4");
        assert!(written.spec().unwrap_err().contains("provider:model"));
    }
}
