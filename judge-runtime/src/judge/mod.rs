//! Judges: which model grades an output (`provider:model`), and the loop that asks it for a verdict,
//! re-asking when the reply cannot be read.

pub(crate) mod embedded;
pub(crate) mod providers;
pub(crate) mod techniques;
pub(crate) mod transport;

// The paths the rest of the crate names the judge's parts by.
pub(crate) use techniques::{criteria, ensemble, levels, pairwise, params, prompt, steps, verdict};
pub(crate) use transport::{call_stats, http};

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::error::{ConfigError, JudgeError};
use providers::anthropic::{self, Anthropic};
use providers::openai::{self, OpenAi};
use providers::preset::Preset;
use techniques::params::GenerationParams;
use techniques::prompt::{JudgeRequest, Message, Role};
use techniques::verdict::{ScoreMethod, Usage, Verdict};
use techniques::geval;
use transport::http::{HttpClient, excerpt};

/// How many replies are read before a verdict is given up: the first and two re-asks.
pub(crate) const MAX_VERDICT_ATTEMPTS: u32 = 3;
/// Below this share of probability on score tokens, the written score is used instead of the
/// probability-weighted one.
const MIN_SCORE_MASS: f64 = 0.5;

/// What the embedded judge answers to a technique it cannot apply; `{}` is the technique.
#[cfg(feature = "local")]
const UNSUPPORTED_BY_LOCAL: &str = "the embedded judge scores one output against one rubric from token \
    probabilities and cannot apply {}: use a hosted judge or a llama.cpp server (JUDGE_MODEL=openai:MODEL with \
    OPENAI_BASE_URL) for this eval";

/// The providers a judge can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Provider {
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
    const ALL: &'static [(&'static str, Provider)] = &[
        ("openai", Provider::OpenAi),
        ("anthropic", Provider::Anthropic),
        ("ollama", Provider::Ollama),
        ("vllm", Provider::Vllm),
        ("openrouter", Provider::OpenRouter),
        ("local", Provider::Local),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, p)| *p == self).map(|(name, _)| *name).expect("every provider is listed")
    }

    /// Where this provider lives and how it takes a key; the embedded judge has no preset.
    fn preset(self) -> Option<Preset> {
        match self {
            Provider::OpenAi => Some(openai::OPENAI),
            Provider::Ollama => Some(openai::OLLAMA),
            Provider::Vllm => Some(openai::VLLM),
            Provider::OpenRouter => Some(openai::OPENROUTER),
            Provider::Anthropic => Some(anthropic::ANTHROPIC),
            Provider::Local => None,
        }
    }
}

/// The variables that configure `provider` (by name): its API key's, if it takes one, and its
/// base URL's. Error messages name them.
pub(crate) fn provider_variables(provider: &str) -> (Option<&'static str>, &'static str) {
    match Provider::ALL.iter().find(|(name, _)| *name == provider).map(|(_, p)| *p) {
        Some(p) => match p.preset() {
            Some(preset) => (preset.key_var, preset.base_url_var),
            None => (None, "JUDGE_MODEL"),
        },
        None => (None, "JUDGE_MODEL"),
    }
}

/// A judge as configured: `provider:model`, e.g. `openai:gpt-4.1-mini`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct JudgeSpec {
    pub provider: Provider,
    pub model: String,
}

impl JudgeSpec {
    /// Parses `provider:model`; the model may itself contain colons (`ollama:qwen2.5:7b`). `local`
    /// alone is the embedded judge with its default model; `local:PATH` names a GGUF file.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (provider, model) = judge_rules::words::judge(spec)?;
        let provider = Provider::ALL
            .iter()
            .find(|(name, _)| *name == provider)
            .map(|(_, p)| *p)
            .ok_or_else(|| format!("unknown provider {provider:?}"))?;
        Ok(Self { provider, model: model.to_owned() })
    }
}

impl fmt::Display for JudgeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.provider, self.model.as_str()) {
            (Provider::Local, "") => f.write_str("local"),
            (provider, model) => write!(f, "{}:{model}", provider.name()),
        }
    }
}

/// A ready judge: a provider client and a model.
#[derive(Debug)]
pub(crate) struct Judge {
    spec: JudgeSpec,
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    OpenAi(OpenAi),
    Anthropic(Anthropic),
    #[cfg(feature = "local")]
    Local(providers::local::Local),
}

impl Judge {
    /// Connects nothing yet: reads the provider's environment (or finds the embedded judge's
    /// model) and checks it.
    pub fn new(spec: JudgeSpec, http: HttpClient) -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok();
        let backend = match spec.provider {
            Provider::Anthropic => Backend::Anthropic(Anthropic::from_env(http, var)?),
            #[cfg(feature = "local")]
            Provider::Local => Backend::Local(providers::local::Local::new(&spec.model)?),
            #[cfg(not(feature = "local"))]
            Provider::Local => {
                return Err(ConfigError::LocalModel {
                    reason: "the embedded judge is not compiled in: enable the `local` feature of judge-runtime \
                             (judge-runtime = { version = \"0.1\", features = [\"local\"] })"
                        .to_owned(),
                });
            }
            other => Backend::OpenAi(OpenAi::from_env(other.preset().expect("OpenAI-compatible"), http, var)?),
        };
        Ok(Self { spec, backend })
    }

    pub fn spec(&self) -> &JudgeSpec {
        &self.spec
    }

    /// What of `params` decides this judge's verdicts, for the cache key: what its requests are
    /// sent with (the embedded judge has its own).
    pub fn key_params(&self, params: &GenerationParams) -> Value {
        match &self.backend {
            Backend::OpenAi(_) => params.to_json(),
            Backend::Anthropic(_) => Anthropic::effective(params).to_json(),
            #[cfg(feature = "local")]
            Backend::Local(local) => local.params().clone(),
        }
    }

    /// Asks for a verdict on `request`. A reply that is not a valid verdict is answered with the
    /// parse error and asked again, with the whole conversation, up to [`MAX_VERDICT_ATTEMPTS`].
    pub async fn verdict(
        &self,
        request: &JudgeRequest,
        params: &GenerationParams,
        timeout: Duration,
    ) -> Result<Verdict, JudgeError> {
        #[cfg(feature = "local")]
        if let Backend::Local(local) = &self.backend {
            if request.task.criteria.is_some() {
                return Err(JudgeError::Local { reason: UNSUPPORTED_BY_LOCAL.replace("{}", "`criteria`") });
            }
            if request.comparison.is_some() {
                return Err(JudgeError::Local { reason: UNSUPPORTED_BY_LOCAL.replace("{}", "`baseline`") });
            }
            let mut verdict = local.verdict(request.task.clone(), &request.output, request.scale).await?;
            verdict.level = request.task.levels.as_ref().map(|l| l.level_of(verdict.score).label());
            return Ok(verdict);
        }
        let read = |reply: &providers::Completion| read_reply(reply, request, params.weighted);
        let (verdict, usage) = self
            .ask(&request.messages, &request.schema, params, timeout, read, |reason| reask(reason, request))
            .await?;
        Ok(Verdict { usage, ..verdict })
    }

    /// Sends `messages` with the reply's JSON `schema` until `read` accepts a reply: one that it
    /// refuses is answered with `reask(reason)` and asked again, with the whole conversation, up to
    /// [`MAX_VERDICT_ATTEMPTS`]. The embedded judge writes no free replies, so it is refused here.
    pub async fn ask<T>(
        &self,
        messages: &[Message],
        schema: &Value,
        params: &GenerationParams,
        timeout: Duration,
        read: impl Fn(&providers::Completion) -> Result<T, String>,
        reask: impl Fn(&str) -> String,
    ) -> Result<(T, Usage), JudgeError> {
        let model = &self.spec.model;
        let mut conversation = messages.to_vec();
        let mut usage = Usage::default();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let reply = match &self.backend {
                Backend::OpenAi(client) => client.complete(model, params, &conversation, schema, timeout).await?,
                Backend::Anthropic(client) => client.complete(model, params, &conversation, schema, timeout).await?,
                #[cfg(feature = "local")]
                Backend::Local(_) => {
                    return Err(JudgeError::Local {
                        reason: UNSUPPORTED_BY_LOCAL
                            .replace("{}", "`steps = \"auto\"` (it writes no evaluation steps)"),
                    });
                }
            };
            usage += reply.usage;
            let reason = match read(&reply) {
                Ok(answer) => return Ok((answer, usage)),
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
            conversation.push(Message { role: Role::User, content: reask(&reason) });
        }
    }
}

/// The message that asks again after a reply to `request` that was not a valid verdict.
fn reask(reason: &str, request: &JudgeRequest) -> String {
    match request.comparison {
        Some(_) => pairwise::reask(reason),
        None => prompt::reask(reason, request.scale, &request.task),
    }
}

/// Reads a judge's reply to `request` as a verdict, in the form the request asked for: a score (with
/// a level, when the rubric has levels) or one score per criterion. Usage is left for the caller.
fn read_reply(reply: &providers::Completion, request: &JudgeRequest, weighted: bool) -> Result<Verdict, String> {
    let scale = request.scale;
    if let Some(order) = request.comparison {
        return pairwise::parse(&reply.text, order);
    }
    if let Some(criteria) = &request.task.criteria {
        let scores = criteria.parse(&reply.text, scale)?;
        let rationale = scores
            .iter()
            .map(|c| format!("{} ({}): {}", c.name, scale.show(c.score), c.rationale))
            .collect::<Vec<_>>()
            .join("\n");
        return Ok(Verdict {
            score: criteria.weighted_mean(scores.iter().map(|c| c.score)),
            scale,
            // Several scores in one reply: which token probabilities belong to which is not read.
            method: ScoreMethod::Stated,
            rationale,
            level: None,
            criteria: scores,
            comparison: None,
            panel: Vec::new(),
            usage: Usage::default(),
        });
    }
    let (parsed, level) = match &request.task.levels {
        Some(levels) => verdict::parse_with_levels(&reply.text, scale, levels).map(|(v, l)| (v, Some(l)))?,
        None => (verdict::parse(&reply.text, scale)?, None),
    };
    // G-Eval: where the server gave token probabilities, the score is the mean of the scale weighted
    // by them, unless they put little weight on any score.
    let distribution = reply
        .tokens
        .as_deref()
        .filter(|_| weighted)
        .and_then(|tokens| geval::from_token_logprobs(tokens, scale))
        .filter(|d| d.mass >= MIN_SCORE_MASS);
    let (score, method) = match distribution {
        Some(d) => (d.mean(scale), ScoreMethod::ProbabilityWeighted),
        None => (f64::from(parsed.score), ScoreMethod::Stated),
    };
    Ok(Verdict {
        score,
        scale,
        method,
        rationale: parsed.rationale,
        level,
        criteria: Vec::new(),
        comparison: None,
        panel: Vec::new(),
        usage: Usage::default(),
    })
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
        let local = JudgeSpec::parse("local").unwrap();
        assert_eq!((local.provider, local.model.as_str(), local.to_string().as_str()), (Provider::Local, "", "local"));
        let path = JudgeSpec::parse("local:/models/m.gguf").unwrap();
        let names: Vec<&str> = Provider::ALL.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, judge_rules::words::PROVIDERS, "the attribute and the runtime know the same providers");
        assert_eq!((path.provider, path.to_string().as_str()), (Provider::Local, "local:/models/m.gguf"));
    }
}
