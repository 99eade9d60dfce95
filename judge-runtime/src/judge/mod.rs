//! Judges: which model grades an output (`provider:model`), and the dispatch of a judge's calls to
//! its provider's client.
//!
//! The rooms, from the bottom up: `transport/` (HTTP, retries, rate limits, budgets, call
//! statistics, API keys), `techniques/` (the prompt, the verdict and how each grading technique asks
//! and reads), `embedded/` (llama.cpp in-process and its model file), `providers/` (each provider's
//! client, the embedded judge's included). No room imports one above it.

pub(crate) mod embedded;
pub(crate) mod providers;
pub(crate) mod techniques;
pub(crate) mod transport;

use std::time::Duration;

use serde_json::Value;

use crate::error::{ConfigError, JudgeError};
use crate::settings::params::GenerationParams;
use crate::settings::prices::Price;
use providers::anthropic::{self, Anthropic};
use providers::client::{self, JudgeClient};
use providers::openai::{self, OpenAi};
use providers::preset::Preset;
use providers::refusals::RefusalRecord;
use techniques::prompt::{JudgeRequest, Message};
use techniques::reply::Completion;
use techniques::verdict::{Usage, Verdict};
use transport::http::HttpClient;

pub(crate) use judge_rules::judge::{JudgeSpec, Provider};

/// Where `provider` lives and how it takes a key; the embedded judge has no preset.
fn preset(provider: Provider) -> Option<Preset> {
    match provider {
        Provider::OpenAi => Some(openai::OPENAI),
        Provider::Ollama => Some(openai::OLLAMA),
        Provider::Vllm => Some(openai::VLLM),
        Provider::OpenRouter => Some(openai::OPENROUTER),
        Provider::Anthropic => Some(anthropic::ANTHROPIC),
        Provider::Local => None,
    }
}

/// The variables that configure `provider` (by name): its API key's, if it takes one, and its
/// base URL's. Error messages name them.
pub(crate) fn provider_variables(provider: &str) -> (Option<&'static str>, &'static str) {
    match Provider::named(provider).and_then(preset) {
        Some(preset) => (preset.key_var, preset.base_url_var),
        None => (None, "JUDGE_MODEL"),
    }
}

/// A ready judge: a provider client and a model.
#[derive(Debug)]
pub(crate) struct Judge {
    spec: JudgeSpec,
    backend: Backend,
}

/// The provider clients a judge can hold; each answers the same calls ([`JudgeClient`]).
#[derive(Debug)]
enum Backend {
    OpenAi(OpenAi),
    Anthropic(Anthropic),
    #[cfg(feature = "local")]
    Local(providers::local::Local),
}

/// Runs `$call` with `$client` bound to whichever provider client `$backend` holds.
macro_rules! with_client {
    ($backend:expr, $client:ident => $call:expr) => {
        match $backend {
            Backend::OpenAi($client) => $call,
            Backend::Anthropic($client) => $call,
            #[cfg(feature = "local")]
            Backend::Local($client) => $call,
        }
    };
}

impl Judge {
    /// Connects nothing yet: reads the provider's environment (or finds the embedded judge's
    /// model) and checks it. A hosted judge's calls cost `price`, where judge.toml gives one.
    pub fn new(spec: JudgeSpec, http: HttpClient, price: Option<Price>) -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok();
        let backend = match spec.provider {
            Provider::Anthropic => Backend::Anthropic(Anthropic::from_env(http, var)?.priced(price)),
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
            other => {
                let preset = preset(other).expect("OpenAI-compatible");
                Backend::OpenAi(OpenAi::from_env(preset, http, var)?.priced(price))
            }
        };
        Ok(Self { spec, backend })
    }

    pub fn spec(&self) -> &JudgeSpec {
        &self.spec
    }

    /// What of `params` decides this judge's verdicts, for the cache key: what its requests are
    /// sent with (the embedded judge has its own).
    pub fn key_params(&self, params: &GenerationParams) -> Value {
        with_client!(&self.backend, client => client.key_params(params))
    }

    /// Asks the provider for a verdict on `request`. A provider that replies in text is answered
    /// with the parse error of a reply that is not a valid verdict and asked again, with the whole
    /// conversation, up to [`client::MAX_VERDICT_ATTEMPTS`].
    pub async fn verdict(
        &self,
        request: &JudgeRequest,
        params: &GenerationParams,
        timeout: Duration,
    ) -> Result<Verdict, JudgeError> {
        let model = &self.spec.model;
        with_client!(&self.backend, client => client.verdict(model, request, params, timeout).await)
    }

    /// Sends `messages` with the reply's JSON `schema` until `read` accepts a reply: one that it
    /// refuses is answered with `reask(reason)` and asked again, with the whole conversation, up to
    /// [`client::MAX_VERDICT_ATTEMPTS`].
    pub async fn ask<T>(
        &self,
        messages: &[Message],
        schema: &Value,
        params: &GenerationParams,
        timeout: Duration,
        read: impl Fn(&Completion) -> Result<T, String>,
        reask: impl Fn(&str) -> String,
    ) -> Result<(T, Usage), JudgeError> {
        let model = &self.spec.model;
        let conversation = client::Conversation { messages, json: None };
        let schema = &*techniques::schema::Schema::new(schema.clone());
        with_client!(&self.backend, client => client::ask(client, model, conversation, schema, params, timeout, read, reask).await)
    }

    /// What the server was found to refuse since this was last asked, for the cache to keep.
    pub fn take_refusals(&self) -> Option<RefusalRecord> {
        with_client!(&self.backend, client => client.take_refusals())
    }

    /// Takes what an earlier process found the server refuses (the cache's record), so that the
    /// requests, and the keys that describe them, are what that process sent.
    pub fn apply_refusals(&self, record: &RefusalRecord) {
        with_client!(&self.backend, client => client.apply_refusals(record))
    }

    /// What the provider learned since the last call that the person running the evals should
    /// know, for the printer.
    pub fn take_notices(&self) -> Vec<String> {
        with_client!(&self.backend, client => client.take_notices())
    }
}
