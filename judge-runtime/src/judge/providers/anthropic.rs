//! The Anthropic Messages API. The verdict comes through a forced tool call: the tool's input
//! schema is the verdict's (rationale, then score), and `tool_choice` makes the model call it, so
//! the reply is the verdict's JSON.

use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{ConfigError, JudgeError};
use crate::judge::providers::client::{Conversation, JudgeClient};
use crate::judge::providers::preset::Preset;
use crate::judge::techniques::prompt::{Message, Role};
use crate::judge::techniques::reply::Completion;
use crate::judge::techniques::schema::Schema;
use crate::judge::techniques::verdict::Usage;
use crate::judge::transport::api_key::ApiKey;
use crate::judge::transport::http::{Endpoint, HttpClient, Post, Unreadable};
use crate::settings::params::GenerationParams;
use crate::settings::prices::Price;

/// The public API, its key, and `ANTHROPIC_BASE_URL` (without `/v1`, as Anthropic's SDKs read it).
pub(crate) const ANTHROPIC: Preset = Preset {
    name: "anthropic",
    base_url_var: "ANTHROPIC_BASE_URL",
    default_base_url: "https://api.anthropic.com",
    key_var: Some("ANTHROPIC_API_KEY"),
    key_required: true,
};
const NAME: &str = ANTHROPIC.name;
/// The API version this client speaks.
const API_VERSION: &str = "2023-06-01";
/// The Messages API requires a reply limit; this one is used when `max_tokens` is not set.
pub(crate) const DEFAULT_MAX_TOKENS: u32 = 1024;
/// The tool the model is made to call.
const TOOL: &str = "record_verdict";

/// A client of the Anthropic Messages API.
#[derive(Debug)]
pub(crate) struct Anthropic {
    endpoint: Endpoint,
    api_key: Option<ApiKey>,
    /// A call fails for want of a key (see `preset::Access::missing_key`).
    missing_key: bool,
    /// The price of the judge's tokens, when judge.toml gives one.
    price: Option<Price>,
    http: HttpClient,
}

impl Anthropic {
    /// Reads `ANTHROPIC_BASE_URL` and `ANTHROPIC_API_KEY` through `var`. The public API needs a
    /// key; a server at another base URL may not.
    pub fn from_env(http: HttpClient, var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // A base URL that includes `/v1` would double it.
        let access = ANTHROPIC.read(var, |url| url.strip_suffix("/v1").map(str::to_owned).unwrap_or(url))?;
        Ok(Self {
            endpoint: Endpoint::new(format!("{}/v1/messages", access.base_url)),
            api_key: access.api_key,
            missing_key: access.missing_key,
            price: None,
            http,
        })
    }

    /// The client of a judge whose tokens cost `price`, by judge.toml's `prices`.
    pub fn priced(self, price: Option<Price>) -> Self {
        Self { price, ..self }
    }

    /// The parameters a request is sent with: the reply limit is always set (the API requires
    /// it), there is no seed to send, and no token probabilities come back, so the score is always
    /// the one stated, whatever `scoring` says.
    pub fn effective(params: &GenerationParams) -> GenerationParams {
        GenerationParams {
            temperature: params.temperature,
            max_tokens: Some(params.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
            seed: None,
            weighted: true,
        }
    }
}

impl JudgeClient for Anthropic {
    /// Asks `model` for a verdict on the conversation through a forced call of a tool whose
    /// input schema is `schema`.
    async fn complete(
        &self,
        model: &str,
        params: &GenerationParams,
        conversation: Conversation<'_>,
        schema: &Schema,
        timeout: Duration,
    ) -> Result<Completion, JudgeError> {
        if self.missing_key {
            return Err(ANTHROPIC.missing_key());
        }
        let params = Self::effective(params);
        // The system messages go elsewhere than OpenAI's: the rendered JSON does not serve.
        let body = crate::json_writer::to_vec(&request_body(model, &params, conversation.messages, schema));
        let mut headers = vec![("anthropic-version", API_VERSION)];
        if let Some(key) = &self.api_key {
            headers.push(("x-api-key", key.expose()));
        }
        let post = Post {
            provider: NAME,
            url: &self.endpoint,
            headers: &headers,
            secret: self.api_key.as_ref(),
            body: &|| body.clone(),
            adapt: &|_| false,
            timeout,
            max_reply_tokens: params.max_tokens.map_or(u64::from(DEFAULT_MAX_TOKENS), u64::from),
            read: read_message,
            usage: |completion| completion.usage,
            price: self.price,
        };
        self.http.post_json(post).await
    }

    fn key_params(&self, params: &GenerationParams) -> Value {
        Self::effective(params).to_json()
    }
}

/// A Messages API request: system messages go to `system`, the rest alternate user/assistant.
fn request_body(model: &str, params: &GenerationParams, messages: &[Message], schema: &Value) -> Value {
    let system: Vec<&str> = messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
    let turns: Vec<Value> = messages
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| json!({ "role": if m.role == Role::Assistant { "assistant" } else { "user" }, "content": m.content }))
        .collect();
    let mut body = json!({
        "model": model,
        "max_tokens": params.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        "system": system.join("\n\n"),
        "messages": turns,
        "tools": [{
            "name": TOOL,
            "description": "Record your verdict on the output: your rationale first, then the score that follows from it.",
            "input_schema": schema,
        }],
        "tool_choice": { "type": "tool", "name": TOOL },
    });
    if let Some(t) = params.temperature {
        body["temperature"] = json!(t);
    }
    body
}

fn usage_of(body: &Value) -> Usage {
    let count = |field: &str| body.pointer(&format!("/usage/{field}")).and_then(Value::as_u64).unwrap_or(0);
    Usage { prompt_tokens: count("input_tokens"), completion_tokens: count("output_tokens") }
}

/// Reads a response body as a message: the verdict's JSON from the tool call (or, if the model
/// answered in text, that text, which the verdict parser then reads or re-asks about). A message
/// is small (no logprobs): read as a JSON value.
fn read_message(raw: &str) -> Result<Completion, Unreadable> {
    let body: Value =
        serde_json::from_str(raw).map_err(|e| Unreadable::NotJson(format!("the body is not JSON ({e})")))?;
    parse_message(&body)
}

/// The completion of a message's body.
fn parse_message(body: &Value) -> Result<Completion, Unreadable> {
    let malformed = |reason: &str| Unreadable::Malformed(reason.to_owned());
    let content = body.get("content").and_then(Value::as_array).ok_or_else(|| malformed("no content array"))?;
    let tool_input =
        content.iter().find(|block| block["type"] == "tool_use" && block["name"] == TOOL).map(|block| &block["input"]);
    let text = match tool_input {
        Some(input) => input.to_string(),
        None => content.iter().filter_map(|block| block["text"].as_str()).collect::<Vec<_>>().join("\n"),
    };
    Ok(Completion { text, usage: usage_of(body), tokens: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::techniques::verdict::{Scale, schema};

    #[test]
    fn forces_the_verdict_tool_and_moves_system_messages() {
        let messages = vec![
            Message { role: Role::System, content: "be strict".into() },
            Message { role: Role::User, content: "grade this".into() },
            Message { role: Role::Assistant, content: "prose".into() },
            Message { role: Role::User, content: "again, as JSON".into() },
        ];
        let params = Anthropic::effective(&GenerationParams {
            temperature: Some(0.0),
            max_tokens: None,
            seed: Some(3),
            weighted: false,
        });
        let body = request_body("claude-x", &params, &messages, &schema(Scale::default()));
        assert_eq!(body["system"], "be strict");
        assert_eq!(body["max_tokens"], DEFAULT_MAX_TOKENS);
        assert_eq!(body["temperature"], 0.0);
        assert!(body.get("seed").is_none());
        assert_eq!(body["messages"].as_array().unwrap().len(), 3);
        assert_eq!(body["messages"][1]["role"], "assistant");
        assert_eq!(body["tool_choice"], json!({ "type": "tool", "name": TOOL }));
        let properties = body["tools"][0]["input_schema"]["properties"].as_object().unwrap();
        assert_eq!(properties.keys().collect::<Vec<_>>(), ["rationale", "score"]);
    }

    #[test]
    fn reads_the_tool_input_as_the_verdict() {
        let body = json!({
            "content": [
                { "type": "text", "text": "Let me grade." },
                { "type": "tool_use", "id": "t", "name": TOOL, "input": { "rationale": "good", "score": 8 } }
            ],
            "usage": { "input_tokens": 100, "output_tokens": 20 }
        });
        let c = parse_message(&body).unwrap();
        assert_eq!(c.text, r#"{"rationale":"good","score":8}"#);
        assert_eq!(c.usage, Usage { prompt_tokens: 100, completion_tokens: 20 });
        let text_only = json!({ "content": [{ "type": "text", "text": "I give it 8." }] });
        assert_eq!(parse_message(&text_only).unwrap().text, "I give it 8.");
        assert_eq!(parse_message(&json!({})).unwrap_err(), Unreadable::Malformed("no content array".to_owned()));
        assert!(matches!(read_message("<html>"), Err(Unreadable::NotJson(_))));
    }

    #[test]
    fn needs_a_key_for_the_public_api_only() {
        let http = || HttpClient::new(Default::default());
        // Without a key the client is made (a replay needs none); a call fails, naming the variable.
        assert!(Anthropic::from_env(http(), |_| None).unwrap().missing_key);
        let err = ANTHROPIC.missing_key().to_string();
        assert!(err.contains("ANTHROPIC_API_KEY"), "{err}");
        let local = Anthropic::from_env(http(), |name| {
            (name == "ANTHROPIC_BASE_URL").then(|| "http://127.0.0.1:9/".to_owned())
        });
        assert_eq!(local.unwrap().endpoint.as_str(), "http://127.0.0.1:9/v1/messages");
        let with_v1 = Anthropic::from_env(http(), |name| {
            (name == "ANTHROPIC_BASE_URL").then(|| "http://127.0.0.1:9/v1".to_owned())
        });
        assert_eq!(with_v1.unwrap().endpoint.as_str(), "http://127.0.0.1:9/v1/messages", "/v1 is not doubled");
        let keyed = Anthropic::from_env(http(), |name| (name == "ANTHROPIC_API_KEY").then(|| "k".to_owned())).unwrap();
        assert_eq!(keyed.endpoint.as_str(), "https://api.anthropic.com/v1/messages");
    }
}
