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

use serde::Serialize;
use serde_json::Value;

use crate::error::{ConfigError, JudgeError};
use crate::judge::providers::client::{Conversation, JudgeClient};
use crate::judge::providers::openai_reply;
use crate::judge::providers::preset::Preset;
use crate::judge::providers::refusals::{
    FORMAT_JSON_OBJECT, FORMAT_JSON_SCHEMA, LENGTH_MAX_COMPLETION_TOKENS, LENGTH_MAX_TOKENS, RefusalRecord, Refusals,
    Shape,
};
use crate::judge::techniques::prompt::Message;
use crate::judge::techniques::reply::Completion;
use crate::judge::techniques::schema::Schema;
use crate::judge::transport::api_key::ApiKey;
use crate::judge::transport::http::{Endpoint, HttpClient, Post};
use crate::raw_json::RawJson;
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
    endpoint: Endpoint,
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
            endpoint: Endpoint::new(format!("{}/chat/completions", access.base_url)),
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
        conversation: Conversation<'_>,
        schema: &Schema,
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
            request_body(model, params, conversation, schema, shape)
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
            read: openai_reply::read,
            usage: |completion| completion.usage,
            price: self.price,
        };
        self.http.post_json(post).await
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

/// A chat completion request, as sent.
#[derive(Serialize)]
struct RequestBody<'a> {
    model: &'a str,
    messages: Messages<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<ResponseFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logprobs: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_logprobs: Option<u32>,
}

/// The messages: their JSON as rendered once, or (after a re-ask) serialized now.
#[derive(Serialize)]
#[serde(untagged)]
enum Messages<'a> {
    Rendered(&'a RawJson),
    Listed(&'a [Message]),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ResponseFormat<'a> {
    JsonSchema { json_schema: NamedSchema<'a> },
    // llama-cpp-python turns a `schema` beside JSON mode into a grammar; others ignore it.
    JsonObject { schema: &'a Schema },
}

#[derive(Serialize)]
struct NamedSchema<'a> {
    name: &'static str,
    strict: bool,
    schema: &'a Schema,
}

/// A chat completion request of the given shape, as JSON.
fn request_body(
    model: &str,
    params: &GenerationParams,
    conversation: Conversation<'_>,
    schema: &Schema,
    shape: Shape,
) -> Vec<u8> {
    written_body(model, params, conversation, schema, shape, |body| crate::json_writer::to_vec(body))
}

/// [`request_body`], written by `write`.
fn written_body(
    model: &str,
    params: &GenerationParams,
    conversation: Conversation<'_>,
    schema: &Schema,
    shape: Shape,
    write: fn(&RequestBody<'_>) -> Vec<u8>,
) -> Vec<u8> {
    let mut unbounded = None;
    if !shape.bounds && schema.pointer("/properties/score").is_some() {
        let mut copy = Value::clone(schema);
        if let Some(score) = copy.pointer_mut("/properties/score").and_then(Value::as_object_mut) {
            score.remove("minimum");
            score.remove("maximum");
        }
        unbounded = Some(Schema::new(copy));
    }
    let schema = unbounded.as_deref().unwrap_or(schema);
    let max_tokens = params.max_tokens;
    let body = RequestBody {
        model,
        messages: match conversation.json {
            Some(json) => Messages::Rendered(json),
            None => Messages::Listed(conversation.messages),
        },
        response_format: match shape.format {
            FORMAT_JSON_SCHEMA => {
                Some(ResponseFormat::JsonSchema { json_schema: NamedSchema { name: "verdict", strict: true, schema } })
            }
            FORMAT_JSON_OBJECT => Some(ResponseFormat::JsonObject { schema }),
            _ => None,
        },
        temperature: params.temperature.filter(|_| shape.temperature),
        max_tokens: max_tokens.filter(|_| shape.length_field == LENGTH_MAX_TOKENS),
        max_completion_tokens: max_tokens.filter(|_| shape.length_field == LENGTH_MAX_COMPLETION_TOKENS),
        seed: params.seed.filter(|_| shape.seed),
        logprobs: shape.logprobs.then_some(true),
        top_logprobs: shape.logprobs.then_some(TOP_LOGPROBS),
    };
    write(&body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client(preset: Preset) -> OpenAi {
        OpenAi::from_env(preset, HttpClient::new(Default::default()), |_| None).unwrap()
    }

    fn all_params() -> GenerationParams {
        GenerationParams { temperature: Some(0.0), max_tokens: Some(300), seed: Some(7), weighted: true }
    }

    /// The body `request_body` makes, read back.
    fn sent(params: &GenerationParams, conversation: Conversation<'_>, schema: &Value, shape: Shape) -> Value {
        serde_json::from_slice(&request_body("m", params, conversation, &Schema::new(schema.clone()), shape)).unwrap()
    }

    fn body(client: &OpenAi) -> Value {
        let schema = Schema::of_verdict(crate::judge::techniques::verdict::Scale::default());
        sent(&all_params(), Conversation { messages: &[], json: None }, &schema, client.refusals.shape(&all_params()))
    }

    #[test]
    fn bodies_of_every_shape_are_written_as_serde_json_writes_them() {
        let schema = Schema::of_verdict(crate::judge::techniques::verdict::Scale::default());
        let messages = vec![Message {
            role: crate::judge::techniques::prompt::Role::User,
            content: "grade \"this\"\n\u{1}é".into(),
        }];
        let json = crate::judge::techniques::messages_json::to_json(
            messages.iter().map(|m| (m.role.name(), m.content.as_str())),
        );
        let serde = |body: &RequestBody<'_>| serde_json::to_vec(body).unwrap();
        let full = client(OPENAI).refusals.shape(&all_params());
        let plain = GenerationParams { temperature: None, max_tokens: None, seed: None, weighted: false };
        for shape in [full, client(OPENAI).refusals.shape(&plain), Shape { format: FORMAT_JSON_OBJECT, ..full }] {
            for conversation in [
                Conversation { messages: &messages, json: Some(&json) },
                Conversation { messages: &messages, json: None },
            ] {
                let ours = written_body("m", &all_params(), conversation, &schema, shape, |body| {
                    crate::json_writer::to_vec(body)
                });
                assert_eq!(ours, written_body("m", &all_params(), conversation, &schema, shape, serde));
            }
        }
    }

    #[test]
    fn the_messages_rendered_once_are_sent_as_they_are() {
        let messages =
            vec![Message { role: crate::judge::techniques::prompt::Role::User, content: "grade \"this\"".into() }];
        let json = crate::judge::techniques::messages_json::to_json(
            messages.iter().map(|m| (m.role.name(), m.content.as_str())),
        );
        let shape = client(OPENAI).refusals.shape(&all_params());
        let rendered = sent(&all_params(), Conversation { messages: &messages, json: Some(&json) }, &json!({}), shape);
        let listed = sent(&all_params(), Conversation { messages: &messages, json: None }, &json!({}), shape);
        assert_eq!(rendered, listed);
        assert_eq!(rendered["messages"], json!([{"role": "user", "content": "grade \"this\""}]));
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
        let body =
            sent(&unset, Conversation { messages: &[], json: None }, &json!({}), client(OLLAMA).refusals.shape(&unset));
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
        let err = client
            .complete(
                "m",
                &params,
                Conversation { messages: &[], json: None },
                &Schema::new(json!({})),
                Duration::from_secs(1),
            )
            .await
            .unwrap_err();
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
        assert_eq!(ollama.endpoint.as_str(), "http://127.0.0.1:11434/v1/chat/completions");
        let moved = OpenAi::from_env(OLLAMA, http(), env(&[("OLLAMA_HOST", "10.0.0.5:11434")])).unwrap();
        assert_eq!(moved.endpoint.as_str(), "http://10.0.0.5:11434/v1/chat/completions");
        let vllm = OpenAi::from_env(VLLM, http(), env(&[("VLLM_API_KEY", "k")])).unwrap();
        assert_eq!(vllm.endpoint.as_str(), "http://127.0.0.1:8000/v1/chat/completions");
        assert!(vllm.api_key.is_some());
        assert!(OpenAi::from_env(OPENROUTER, http(), env(&[])).unwrap().missing_key);
        assert!(OPENROUTER.missing_key().to_string().contains("OPENROUTER_API_KEY"));
        let router = OpenAi::from_env(OPENROUTER, http(), env(&[("OPENROUTER_API_KEY", "k")])).unwrap();
        assert!(router.endpoint.as_str().starts_with("https://"), "hosted presets default to HTTPS");
        let keyless = OpenAi::from_env(OPENAI, http(), env(&[])).unwrap();
        assert!(keyless.missing_key, "a key is needed only for a call");
        let err = OPENAI.missing_key().to_string();
        assert!(err.contains("OPENAI_API_KEY") && err.contains("OPENAI_BASE_URL"), "{err}");
        let local = OpenAi::from_env(OPENAI, http(), env(&[("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")])).unwrap();
        assert_eq!(local.endpoint.as_str(), "http://127.0.0.1:9/v1/chat/completions");
        let err = OpenAi::from_env(OPENAI, http(), env(&[("OPENAI_BASE_URL", "ftp://x")])).unwrap_err().to_string();
        assert!(err.contains("OPENAI_BASE_URL") && err.contains("http"), "{err}");
    }
}
