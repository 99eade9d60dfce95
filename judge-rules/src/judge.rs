//! Judges as settings name them: `provider:model` (`openai:gpt-4.1-mini`, `ollama:qwen2.5:7b`), or
//! `local` alone for the embedded judge's default model.

use std::borrow::Cow;
use std::fmt;

/// The providers a judge can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// OpenAI, or any OpenAI-compatible server through `OPENAI_BASE_URL`.
    OpenAi,
    /// Anthropic's Messages API.
    Anthropic,
    /// Ollama's OpenAI-compatible endpoint.
    Ollama,
    /// A vLLM server.
    Vllm,
    /// OpenRouter.
    OpenRouter,
    /// The embedded llama.cpp judge.
    Local,
}

impl Provider {
    /// Every provider, in the order messages list them.
    pub const ALL: &[Provider] =
        &[Self::OpenAi, Self::Anthropic, Self::Ollama, Self::Vllm, Self::OpenRouter, Self::Local];

    /// The provider's name before the colon of `provider:model`.
    pub fn name(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
            Self::Ollama => "ollama",
            Self::Vllm => "vllm",
            Self::OpenRouter => "openrouter",
            Self::Local => "local",
        }
    }

    /// The provider called `name`.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// Every provider's name, for messages: `openai, anthropic, …`.
    pub fn names() -> String {
        Self::ALL.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
    }
}

/// Reads a judge, `provider:model` (the model may hold colons, `ollama:qwen2.5:7b`) or `local`
/// alone (the embedded judge's default model): its provider and model (empty for `local`).
pub fn read(spec: &str) -> Result<(&str, &str), String> {
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

/// A judge as configured: `provider:model`, e.g. `openai:gpt-4.1-mini`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JudgeSpec {
    /// Who serves the model.
    pub provider: Provider,
    /// The model's name at the provider; empty for `local` alone (the embedded judge's default
    /// model), a GGUF file's path for `local:PATH`. Borrowed when `#[llm_eval]` wrote it.
    pub model: Cow<'static, str>,
}

impl JudgeSpec {
    /// Parses `provider:model`; the model may itself contain colons (`ollama:qwen2.5:7b`). `local`
    /// alone is the embedded judge with its default model; `local:PATH` names a GGUF file.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (provider, model) = read(spec)?;
        let provider = Provider::named(provider).ok_or_else(|| format!("unknown provider {provider:?}"))?;
        Ok(Self { provider, model: Cow::Owned(model.to_owned()) })
    }
}

impl fmt::Display for JudgeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.provider, &*self.model) {
            (Provider::Local, "") => f.write_str("local"),
            (provider, model) => write!(f, "{}:{model}", provider.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_provider_and_model() {
        let spec = JudgeSpec::parse("ollama:qwen2.5:7b").unwrap();
        assert_eq!((spec.provider, &*spec.model), (Provider::Ollama, "qwen2.5:7b"));
        assert_eq!(spec.to_string(), "ollama:qwen2.5:7b");
        assert!(JudgeSpec::parse("gpt-4").unwrap_err().contains("provider:model"));
        assert!(JudgeSpec::parse("acme:x").unwrap_err().contains("unknown provider \"acme\""));
        assert!(JudgeSpec::parse("openai:").unwrap_err().contains("empty"));
        let local = JudgeSpec::parse("local").unwrap();
        assert_eq!((local.provider, &*local.model, local.to_string().as_str()), (Provider::Local, "", "local"));
        let path = JudgeSpec::parse("local:/models/m.gguf").unwrap();
        assert_eq!((path.provider, path.to_string().as_str()), (Provider::Local, "local:/models/m.gguf"));
        assert!(Provider::ALL.iter().all(|p| Provider::named(p.name()) == Some(*p)));
    }
}
