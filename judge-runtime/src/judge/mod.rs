//! Judges: which model grades an output (`provider:model`), and the loop that asks it for a verdict,
//! re-asking when the reply cannot be read.

pub(crate) mod api_key;
pub(crate) mod http;
pub(crate) mod prompt;
pub(crate) mod providers;
pub mod verdict;

use std::fmt;

use serde_json::{Value, json};

use crate::error::{ConfigError, JudgeError};
use http::{HttpClient, excerpt};
use prompt::{JudgeRequest, Message, Role};
use providers::openai::OpenAi;
use verdict::{Usage, Verdict};

/// How many replies are read before a verdict is given up: the first and two re-asks.
pub(crate) const MAX_VERDICT_ATTEMPTS: u32 = 3;

/// The providers a judge can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Provider {
    /// OpenAI or any OpenAI-compatible server.
    OpenAi,
}

impl Provider {
    const ALL: &'static [(&'static str, Provider)] = &[("openai", Provider::OpenAi)];

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, p)| *p == self).map(|(name, _)| *name).expect("every provider is listed")
    }
}

/// A judge as configured: `provider:model`, e.g. `openai:gpt-4.1-mini`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct JudgeSpec {
    pub provider: Provider,
    pub model: String,
}

impl JudgeSpec {
    /// Parses `provider:model`; the model may itself contain colons (`openai:qwen2.5:7b`).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let valid = Provider::ALL.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ");
        let Some((provider, model)) = spec.trim().split_once(':') else {
            return Err(format!("write it as provider:model, e.g. openai:gpt-4.1-mini (providers: {valid})"));
        };
        let provider = Provider::ALL
            .iter()
            .find(|(name, _)| *name == provider)
            .map(|(_, p)| *p)
            .ok_or_else(|| format!("unknown provider {provider:?}; providers: {valid}"))?;
        if model.trim().is_empty() {
            return Err("the model name after the colon is empty".to_owned());
        }
        Ok(Self { provider, model: model.trim().to_owned() })
    }
}

impl fmt::Display for JudgeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider.name(), self.model)
    }
}

/// A ready judge: a provider client, a model and its generation parameters.
#[derive(Debug)]
pub(crate) struct Judge {
    spec: JudgeSpec,
    params: Value,
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    OpenAi(OpenAi),
}

impl Judge {
    /// Connects nothing yet: reads the provider's environment and checks it.
    pub fn new(spec: JudgeSpec, http: HttpClient) -> Result<Self, ConfigError> {
        let backend = match spec.provider {
            Provider::OpenAi => Backend::OpenAi(OpenAi::from_env(http)?),
        };
        // Greedy decoding: the judge's noise is measured by repeating samples, not added to it.
        Ok(Self { spec, params: json!({ "temperature": 0.0 }), backend })
    }

    pub fn spec(&self) -> &JudgeSpec {
        &self.spec
    }

    /// The generation parameters sent with every request; part of the cache key.
    pub fn params(&self) -> &Value {
        &self.params
    }

    /// Asks for a verdict on `request`. A reply that is not a valid verdict is answered with the
    /// parse error and asked again, with the whole conversation, up to [`MAX_VERDICT_ATTEMPTS`].
    pub async fn verdict(&self, request: &JudgeRequest) -> Result<Verdict, JudgeError> {
        let mut conversation = request.messages.clone();
        let mut usage = Usage::default();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let reply = match &self.backend {
                Backend::OpenAi(client) => {
                    client.complete(&self.spec.model, &self.params, &conversation, &request.schema).await?
                }
            };
            usage += reply.usage;
            let reason = match verdict::parse(&reply.text, request.scale) {
                Ok(parsed) => {
                    return Ok(Verdict {
                        score: parsed.score,
                        scale: request.scale,
                        rationale: parsed.rationale,
                        usage,
                    });
                }
                Err(reason) => reason,
            };
            if attempts >= MAX_VERDICT_ATTEMPTS {
                return Err(JudgeError::UnparseableVerdict {
                    attempts,
                    reason,
                    raw_excerpt: excerpt(&reply.text, 300),
                });
            }
            conversation.push(Message { role: Role::Assistant, content: reply.text });
            conversation.push(Message { role: Role::User, content: prompt::reask(&reason, request.scale) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_provider_and_model() {
        let spec = JudgeSpec::parse("openai:qwen2.5:7b").unwrap();
        assert_eq!((spec.provider, spec.model.as_str()), (Provider::OpenAi, "qwen2.5:7b"));
        assert_eq!(spec.to_string(), "openai:qwen2.5:7b");
        assert!(JudgeSpec::parse("gpt-4").unwrap_err().contains("provider:model"));
        assert!(JudgeSpec::parse("acme:x").unwrap_err().contains("unknown provider \"acme\""));
        assert!(JudgeSpec::parse("openai:").unwrap_err().contains("empty"));
    }
}
