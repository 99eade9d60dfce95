//! The OpenAI Chat Completions wire format, spoken by OpenAI and by OpenAI-compatible servers:
//! Ollama, vLLM, OpenRouter, llama.cpp's server, llama-cpp-python's server. The presets differ only
//! in base URL and key handling.
//!
//! Servers differ in what they accept, and say so with a 400 naming the parameter. Such a
//! rejection turns that part off for good and the request is sent again (`refusals.rs`; the verdict
//! parser tolerates prose, and the score's range stays in the prompt and in our own check of the
//! reply).

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{ConfigError, JudgeError};
use crate::judge::providers::client::JudgeClient;
use crate::judge::providers::preset::Preset;
use crate::judge::providers::refusals::{
    FORMAT_JSON_OBJECT, FORMAT_JSON_SCHEMA, LENGTH_MAX_COMPLETION_TOKENS, LENGTH_MAX_TOKENS, RefusalRecord, Refusals,
    Shape,
};
use crate::judge::techniques::geval::TokenLogprobs;
use crate::judge::techniques::prompt::Message;
use crate::judge::techniques::reply::Completion;
use crate::judge::techniques::verdict::Usage;
use crate::judge::transport::api_key::ApiKey;
use crate::judge::transport::http::{HttpClient, Post, excerpt};
use crate::settings::params::GenerationParams;
use crate::settings::prices::Price;

/// How many alternatives per token are asked for; the score's alternatives give its distribution.
const TOP_LOGPROBS: u32 = 10;
/// The reply length assumed for budgets when the request sets none.
const ASSUMED_REPLY_TOKENS: u64 = 1024;

/// OpenAI, or any OpenAI-compatible server through `OPENAI_BASE_URL` (which includes `/v1`).
pub(crate) const OPENAI: Preset = Preset {
    name: "openai",
    base_url_var: "OPENAI_BASE_URL",
    default_base_url: "https://api.openai.com/v1",
    key_var: Some("OPENAI_API_KEY"),
    key_required: true,
};

/// Ollama on this machine; `OLLAMA_HOST` (`host:port` or a URL, as the ollama CLI reads it) moves it.
pub(crate) const OLLAMA: Preset = Preset {
    name: "ollama",
    base_url_var: "OLLAMA_HOST",
    default_base_url: "http://127.0.0.1:11434/v1",
    key_var: None,
    key_required: false,
};

/// A vLLM server (`vllm serve`), by default on this machine; a key only if it was started with one.
pub(crate) const VLLM: Preset = Preset {
    name: "vllm",
    base_url_var: "VLLM_BASE_URL",
    default_base_url: "http://127.0.0.1:8000/v1",
    key_var: Some("VLLM_API_KEY"),
    key_required: false,
};

/// OpenRouter.
pub(crate) const OPENROUTER: Preset = Preset {
    name: "openrouter",
    base_url_var: "OPENROUTER_BASE_URL",
    default_base_url: "https://openrouter.ai/api/v1",
    key_var: Some("OPENROUTER_API_KEY"),
    key_required: true,
};

/// A client of one OpenAI-compatible server.
#[derive(Debug)]
pub(crate) struct OpenAi {
    preset: Preset,
    endpoint: String,
    api_key: Option<ApiKey>,
    /// A call fails for want of a key (see `preset::Access::missing_key`).
    missing_key: bool,
    /// The price of the judge's tokens, when judge.toml gives one.
    price: Option<Price>,
    http: HttpClient,
    refusals: Refusals,
    /// What the server was found to reject, for the person running the evals: taken by the
    /// harness, which prints it.
    notices: Mutex<Vec<String>>,
}

impl OpenAi {
    /// Reads the preset's base URL and key variables through `var`.
    pub fn from_env(
        preset: Preset,
        http: HttpClient,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let access = preset.read(var, |url| adjust_base_url(preset, url))?;
        Ok(Self {
            preset,
            endpoint: format!("{}/chat/completions", access.base_url),
            api_key: access.api_key,
            missing_key: access.missing_key,
            price: None,
            http,
            refusals: Refusals::default(),
            notices: Mutex::default(),
        })
    }

    /// The client of a judge whose tokens cost `price`, by judge.toml's `prices`.
    pub fn priced(self, price: Option<Price>) -> Self {
        Self { price, ..self }
    }

    /// Reads a rejection of a request sent as `sent`: if it names a part the request had and
    /// the server can do without, that part is turned off for the run and `true` is returned.
    fn fall_back(&self, sent: Shape, message: &str) -> bool {
        let Some((what, newly)) = self.refusals.learn(sent, message) else { return false };
        // Another request may have learned the same a moment before: say it once.
        if newly {
            let notice = format!("{} rejected {what}; not sending it again this run", self.preset.name);
            self.notices.lock().unwrap_or_else(|e| e.into_inner()).push(notice);
        }
        true
    }
}

impl JudgeClient for OpenAi {
    /// Asks `model` for a reply to `messages` that follows the JSON `schema`.
    async fn complete(
        &self,
        model: &str,
        params: &GenerationParams,
        messages: &[Message],
        schema: &Value,
        timeout: Duration,
    ) -> Result<Completion, JudgeError> {
        if self.missing_key {
            return Err(self.preset.missing_key());
        }
        let authorization = self.api_key.as_ref().map(|key| format!("Bearer {}", key.expose()));
        let headers: Vec<(&str, &str)> =
            authorization.as_deref().map(|value| ("authorization", value)).into_iter().collect();
        // The shape of the body last built, to read a refusal of it. Each refusal turns one part
        // off for good, so the refusals end.
        let sent = Mutex::new(self.refusals.shape(params));
        let body = || {
            let shape = self.refusals.shape(params);
            *sent.lock().unwrap_or_else(|e| e.into_inner()) = shape;
            request_body(model, params, messages, schema, shape)
        };
        let adapt = |error: &JudgeError| match error {
            JudgeError::Http { status: 400 | 422 | 500, provider_message, body_excerpt, .. } => self.fall_back(
                *sent.lock().unwrap_or_else(|e| e.into_inner()),
                provider_message.as_deref().unwrap_or(body_excerpt),
            ),
            _ => false,
        };
        let post = Post {
            provider: self.preset.name,
            url: &self.endpoint,
            headers: &headers,
            secret: self.api_key.as_ref(),
            body: &body,
            adapt: &adapt,
            timeout,
            max_reply_tokens: params.max_tokens.map_or(ASSUMED_REPLY_TOKENS, u64::from),
            usage: usage_of,
            price: self.price,
        };
        let response = self.http.post_json(post).await?;
        parse_completion(self.preset.name, &response.body, &response.text)
    }

    fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut *self.notices.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn key_params(&self, params: &GenerationParams) -> Value {
        self.refusals.key_params(params)
    }

    fn take_refusals(&self) -> Option<RefusalRecord> {
        self.refusals.take_record()
    }

    fn apply_refusals(&self, record: &RefusalRecord) {
        self.refusals.apply(record);
    }
}

/// For Ollama, `OLLAMA_HOST` may be a bare `host:port` (as the ollama CLI reads it), and does not
/// include `/v1`.
fn adjust_base_url(preset: Preset, mut url: String) -> String {
    if preset == OLLAMA {
        if !url.contains("://") {
            url = format!("http://{url}");
        }
        if !url.ends_with("/v1") {
            url.push_str("/v1");
        }
    }
    url
}

/// A chat completion request of the given shape.
fn request_body(model: &str, params: &GenerationParams, messages: &[Message], schema: &Value, shape: Shape) -> Value {
    let mut body = json!({ "model": model, "messages": messages });
    let mut schema = schema.clone();
    if !shape.bounds
        && let Some(score) = schema.pointer_mut("/properties/score").and_then(Value::as_object_mut)
    {
        score.remove("minimum");
        score.remove("maximum");
    }
    match shape.format {
        FORMAT_JSON_SCHEMA => {
            body["response_format"] = json!({ "type": "json_schema", "json_schema": { "name": "verdict", "strict": true, "schema": schema } });
        }
        // llama-cpp-python turns a `schema` beside JSON mode into a grammar; others ignore it.
        FORMAT_JSON_OBJECT => body["response_format"] = json!({ "type": "json_object", "schema": schema }),
        _ => {}
    }
    if let Some(t) = params.temperature.filter(|_| shape.temperature) {
        body["temperature"] = json!(t);
    }
    if let Some(n) = params.max_tokens {
        match shape.length_field {
            LENGTH_MAX_TOKENS => body["max_tokens"] = json!(n),
            LENGTH_MAX_COMPLETION_TOKENS => body["max_completion_tokens"] = json!(n),
            _ => {}
        }
    }
    if let Some(seed) = params.seed.filter(|_| shape.seed) {
        body["seed"] = json!(seed);
    }
    if shape.logprobs {
        body["logprobs"] = json!(true);
        body["top_logprobs"] = json!(TOP_LOGPROBS);
    }
    body
}

fn usage_of(body: &Value) -> Usage {
    let count = |field: &str| body.pointer(&format!("/usage/{field}")).and_then(Value::as_u64).unwrap_or(0);
    Usage { prompt_tokens: count("prompt_tokens"), completion_tokens: count("completion_tokens") }
}

fn parse_completion(provider: &'static str, body: &Value, raw: &str) -> Result<Completion, JudgeError> {
    let malformed = |reason: &str| JudgeError::MalformedResponse {
        provider,
        reason: reason.to_owned(),
        body_excerpt: excerpt(raw, 500),
    };
    let message = body.pointer("/choices/0/message").ok_or_else(|| malformed("no choices[0].message"))?;
    let text = match message.get("content").and_then(Value::as_str) {
        Some(text) => text.to_owned(),
        None => match message.get("refusal").and_then(Value::as_str) {
            // A refusal is a reply too: the verdict parser rejects it and the judge is asked again.
            Some(refusal) => refusal.to_owned(),
            None => return Err(malformed("choices[0].message.content is not a string")),
        },
    };
    let tokens = body.pointer("/choices/0/logprobs/content").and_then(Value::as_array).map(|content| {
        content
            .iter()
            .filter_map(|token| {
                let alternative = |v: &Value| Some((v.get("token")?.as_str()?.to_owned(), v.get("logprob")?.as_f64()?));
                let (text, logprob) = alternative(token)?;
                let top = token
                    .get("top_logprobs")
                    .and_then(Value::as_array)
                    .map_or_else(Vec::new, |top| top.iter().filter_map(alternative).collect());
                Some(TokenLogprobs { text, logprob, top })
            })
            .collect()
    });
    Ok(Completion { text, usage: usage_of(body), tokens })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_content_and_usage() {
        let body = json!({
            "choices": [{"message": {"role": "assistant", "content": "{\"rationale\":\"r\",\"score\":7}"}}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 15}
        });
        let c = parse_completion("openai", &body, "").unwrap();
        assert_eq!(c.text, "{\"rationale\":\"r\",\"score\":7}");
        assert_eq!(c.usage, Usage { prompt_tokens: 120, completion_tokens: 15 });
        assert!(c.tokens.is_none());
    }

    #[test]
    fn reads_token_logprobs() {
        let body = json!({
            "choices": [{
                "message": {"role": "assistant", "content": "7"},
                "logprobs": {"content": [
                    {"token": "7", "logprob": -0.5, "top_logprobs": [{"token": "7", "logprob": -0.5}, {"token": "8", "logprob": -1.2}]}
                ]}
            }]
        });
        let tokens = parse_completion("openai", &body, "").unwrap().tokens.unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].text, "7");
        assert_eq!(tokens[0].top, vec![("7".to_owned(), -0.5), ("8".to_owned(), -1.2)]);
    }

    fn client(preset: Preset) -> OpenAi {
        OpenAi::from_env(preset, HttpClient::new(Default::default()), |_| None).unwrap()
    }

    fn all_params() -> GenerationParams {
        GenerationParams { temperature: Some(0.0), max_tokens: Some(300), seed: Some(7), weighted: true }
    }

    fn body(client: &OpenAi) -> Value {
        let schema = crate::judge::techniques::verdict::schema(crate::judge::techniques::verdict::Scale::default());
        request_body("m", &all_params(), &[], &schema, client.refusals.shape(&all_params()))
    }

    #[test]
    fn sends_everything_until_told_otherwise() {
        let body = body(&client(OLLAMA));
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(body["response_format"]["json_schema"]["strict"], true);
        assert_eq!(body["response_format"]["json_schema"]["schema"]["properties"]["score"]["maximum"], 10);
        assert_eq!(
            (&body["temperature"], &body["max_tokens"], &body["seed"], &body["logprobs"], &body["top_logprobs"]),
            (&json!(0.0), &json!(300), &json!(7), &json!(true), &json!(10))
        );
        let unset = GenerationParams { temperature: None, max_tokens: None, seed: None, weighted: false };
        let body = request_body("m", &unset, &[], &json!({}), client(OLLAMA).refusals.shape(&unset));
        assert!(body.get("temperature").is_none() && body.get("max_tokens").is_none() && body.get("seed").is_none());
    }

    #[test]
    fn each_rejection_turns_off_what_it_names_for_good() {
        let c = client(OLLAMA);
        let sent = c.refusals.shape(&all_params());
        // OpenAI's own messages for reasoning models and strict schemas.
        assert!(c.fall_back(sent, "Unsupported parameter: 'temperature' is not supported with this model."));
        assert!(
            !c.fall_back(c.refusals.shape(&all_params()), "Unsupported parameter: 'temperature' is not supported.")
        );
        assert!(c.fall_back(
            c.refusals.shape(&all_params()),
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
        ));
        assert!(c.fall_back(
            c.refusals.shape(&all_params()),
            "Invalid schema for response_format 'verdict': In context=('properties', 'score'), 'minimum' is not permitted."
        ));
        assert!(c.fall_back(
            c.refusals.shape(&all_params()),
            "Unsupported parameter: 'logprobs' is not supported with this model."
        ));
        let sent = body(&c);
        assert!(
            sent.get("temperature").is_none() && sent.get("max_tokens").is_none() && sent.get("logprobs").is_none()
        );
        assert_eq!(sent["max_completion_tokens"], 300);
        assert_eq!(sent["response_format"]["type"], "json_schema", "bounds alone were rejected");
        assert!(sent["response_format"]["json_schema"]["schema"]["properties"]["score"].get("minimum").is_none());
        assert_eq!(sent["seed"], 7);

        assert!(
            c.fall_back(c.refusals.shape(&all_params()), "'response_format' of type 'json_schema' is not supported")
        );
        assert_eq!(body_format(&c), json!("json_object"));
        assert!(
            c.fall_back(c.refusals.shape(&all_params()), "'response_format' of type 'json_object' is not supported")
        );
        assert!(body(&c).get("response_format").is_none(), "plain text at last");
        assert!(
            !c.fall_back(c.refusals.shape(&all_params()), "'response_format' is not supported"),
            "nothing left to drop"
        );
        assert!(!c.fall_back(c.refusals.shape(&all_params()), "model not found"));
    }

    #[test]
    fn a_rejection_is_a_notice_for_the_caller_said_once() {
        let c = client(OLLAMA);
        assert!(c.fall_back(c.refusals.shape(&all_params()), "Unsupported parameter: 'seed' is not supported."));
        assert!(!c.fall_back(c.refusals.shape(&all_params()), "Unsupported parameter: 'seed' is not supported."));
        assert_eq!(c.take_notices(), ["ollama rejected `seed`; not sending it again this run"]);
        assert!(c.take_notices().is_empty(), "taken");
    }

    fn body_format(c: &OpenAi) -> Value {
        body(c)["response_format"]["type"].clone()
    }

    #[tokio::test]
    async fn a_call_without_a_needed_key_fails_before_sending() {
        let client = OpenAi::from_env(OPENAI, HttpClient::new(Default::default()), |_| None).unwrap();
        let params = GenerationParams::default();
        let err = client.complete("m", &params, &[], &json!({}), Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(err, JudgeError::MissingApiKey { var: "OPENAI_API_KEY", .. }), "{err}");
        assert_eq!(client.http.totals().calls, 0, "nothing was sent");
    }

    #[test]
    fn presets_differ_in_base_url_and_key() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        let http = || HttpClient::new(Default::default());
        let ollama = OpenAi::from_env(OLLAMA, http(), env(&[])).unwrap();
        assert_eq!(ollama.endpoint, "http://127.0.0.1:11434/v1/chat/completions");
        let moved = OpenAi::from_env(OLLAMA, http(), env(&[("OLLAMA_HOST", "10.0.0.5:11434")])).unwrap();
        assert_eq!(moved.endpoint, "http://10.0.0.5:11434/v1/chat/completions");
        let vllm = OpenAi::from_env(VLLM, http(), env(&[("VLLM_API_KEY", "k")])).unwrap();
        assert_eq!(vllm.endpoint, "http://127.0.0.1:8000/v1/chat/completions");
        assert!(vllm.api_key.is_some());
        assert!(OpenAi::from_env(OPENROUTER, http(), env(&[])).unwrap().missing_key);
        assert!(OPENROUTER.missing_key().to_string().contains("OPENROUTER_API_KEY"));
        let router = OpenAi::from_env(OPENROUTER, http(), env(&[("OPENROUTER_API_KEY", "k")])).unwrap();
        assert!(router.endpoint.starts_with("https://"), "hosted presets default to HTTPS");
        let keyless = OpenAi::from_env(OPENAI, http(), env(&[])).unwrap();
        assert!(keyless.missing_key, "a key is needed only for a call");
        let err = OPENAI.missing_key().to_string();
        assert!(err.contains("OPENAI_API_KEY") && err.contains("OPENAI_BASE_URL"), "{err}");
        let local = OpenAi::from_env(OPENAI, http(), env(&[("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")])).unwrap();
        assert_eq!(local.endpoint, "http://127.0.0.1:9/v1/chat/completions");
        let err = OpenAi::from_env(OPENAI, http(), env(&[("OPENAI_BASE_URL", "ftp://x")])).unwrap_err().to_string();
        assert!(err.contains("OPENAI_BASE_URL") && err.contains("http"), "{err}");
    }

    #[test]
    fn a_body_without_choices_is_malformed() {
        let err = parse_completion("openai", &json!({"object": "list"}), "{\"object\":\"list\"}").unwrap_err();
        assert!(err.to_string().contains("no choices[0].message"), "{err}");
    }
}
