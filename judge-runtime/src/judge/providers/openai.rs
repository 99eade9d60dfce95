//! The OpenAI Chat Completions wire format, spoken by OpenAI and by OpenAI-compatible servers
//! (Ollama, vLLM, llama.cpp's server, llama-cpp-python's server) through `OPENAI_BASE_URL`.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::error::{ConfigError, JudgeError};
use crate::judge::api_key::ApiKey;
use crate::judge::geval::TokenLogprobs;
use crate::judge::http::{HttpClient, excerpt};
use crate::judge::prompt::Message;
use crate::judge::verdict::Usage;

/// The public API's base URL, used when `OPENAI_BASE_URL` is unset.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
const PROVIDER: &str = "openai";

/// How many alternatives per token are asked for; the score's alternatives give its distribution.
const TOP_LOGPROBS: u32 = 10;

/// A reply of the judge model.
#[derive(Debug, Clone)]
pub(crate) struct Completion {
    pub text: String,
    pub usage: Usage,
    /// Each token of `text` with its most likely alternatives, when the server returned logprobs.
    pub tokens: Option<Vec<TokenLogprobs>>,
}

/// A client of one OpenAI-compatible server.
#[derive(Debug)]
pub(crate) struct OpenAi {
    endpoint: String,
    api_key: Option<ApiKey>,
    http: HttpClient,
    /// Set once the server rejected `logprobs` (reasoning models do): not asked for again this run.
    logprobs_rejected: AtomicBool,
    /// Set once the server rejected `response_format` `json_schema`: JSON mode with the schema
    /// beside it is asked for instead for the rest of the run.
    json_schema_rejected: AtomicBool,
}

impl OpenAi {
    /// Reads `OPENAI_BASE_URL` (which includes `/v1`) and `OPENAI_API_KEY`. The public API needs a
    /// key; a server at another base URL may not.
    pub fn from_env(http: HttpClient) -> Result<Self, ConfigError> {
        let base_url = std::env::var("OPENAI_BASE_URL")
            .ok()
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(ConfigError::InvalidEnv {
                var: "OPENAI_BASE_URL",
                value: base_url,
                reason: "a base URL starts with http:// or https:// and ends in /v1".to_owned(),
            });
        }
        let api_key = ApiKey::from_env("OPENAI_API_KEY");
        if api_key.is_none() && base_url == DEFAULT_BASE_URL {
            return Err(ConfigError::MissingApiKey {
                provider: PROVIDER,
                var: "OPENAI_API_KEY",
                base_url_var: "OPENAI_BASE_URL",
            });
        }
        Ok(Self {
            endpoint: format!("{base_url}/chat/completions"),
            api_key,
            http,
            logprobs_rejected: AtomicBool::new(false),
            json_schema_rejected: AtomicBool::new(false),
        })
    }

    /// Asks `model` for a reply to `messages` that follows the JSON `schema`.
    pub async fn complete(
        &self,
        model: &str,
        params: &Value,
        messages: &[Message],
        schema: &Value,
    ) -> Result<Completion, JudgeError> {
        let authorization = self.api_key.as_ref().map(|key| format!("Bearer {}", key.expose()));
        let headers: Vec<(&str, &str)> =
            authorization.as_deref().map(|value| ("authorization", value)).into_iter().collect();
        // A server that rejects a part of the request it can do without is asked again without it,
        // and never asked for it again this run; each retry turns one part off, so this ends.
        loop {
            let json_schema = !self.json_schema_rejected.load(Ordering::Relaxed);
            let logprobs = !self.logprobs_rejected.load(Ordering::Relaxed);
            let body = request_body(model, params, messages, schema, json_schema, logprobs);
            match self.http.post_json(PROVIDER, &self.endpoint, &headers, &body).await {
                // llama-cpp-python takes only `json_object` (with a `schema` beside it), and answers
                // a request it cannot validate with a 500 whose message names the value it refused.
                Err(JudgeError::Http { status: 400 | 422 | 500, provider_message, body_excerpt, .. })
                    if json_schema && provider_message.as_deref().unwrap_or(&body_excerpt).contains("json_schema") =>
                {
                    self.json_schema_rejected.store(true, Ordering::Relaxed);
                }
                Err(JudgeError::Http { status: 400 | 422, provider_message, body_excerpt, .. })
                    if logprobs && provider_message.as_deref().unwrap_or(&body_excerpt).contains("logprobs") =>
                {
                    self.logprobs_rejected.store(true, Ordering::Relaxed);
                }
                result => return result.and_then(|response| parse_completion(&response.body, &response.text)),
            }
        }
    }
}

/// A chat completion request. Structured output is `json_schema` (OpenAI's strict mode) or, for a
/// server that rejected it, JSON mode with the schema beside it, which llama-cpp-python turns into
/// a grammar. Token probabilities make the probability-weighted score possible.
fn request_body(
    model: &str,
    params: &Value,
    messages: &[Message],
    schema: &Value,
    json_schema: bool,
    logprobs: bool,
) -> Value {
    let response_format = if json_schema {
        json!({ "type": "json_schema", "json_schema": { "name": "verdict", "strict": true, "schema": schema } })
    } else {
        json!({ "type": "json_object", "schema": schema })
    };
    let mut body = json!({ "model": model, "messages": messages, "response_format": response_format });
    if let (Some(body), Some(params)) = (body.as_object_mut(), params.as_object()) {
        body.extend(params.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    if logprobs {
        body["logprobs"] = json!(true);
        body["top_logprobs"] = json!(TOP_LOGPROBS);
    }
    body
}

fn parse_completion(body: &Value, raw: &str) -> Result<Completion, JudgeError> {
    let malformed = |reason: &str| JudgeError::MalformedResponse {
        provider: PROVIDER,
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
    let count = |field: &str| body.pointer(&format!("/usage/{field}")).and_then(Value::as_u64).unwrap_or(0);
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
    Ok(Completion {
        text,
        usage: Usage { prompt_tokens: count("prompt_tokens"), completion_tokens: count("completion_tokens") },
        tokens,
    })
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
        let c = parse_completion(&body, "").unwrap();
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
        let tokens = parse_completion(&body, "").unwrap().tokens.unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].text, "7");
        assert_eq!(tokens[0].top, vec![("7".to_owned(), -0.5), ("8".to_owned(), -1.2)]);
    }

    #[test]
    fn asks_for_json_schema_and_falls_back_to_json_mode_with_the_schema() {
        let schema = json!({"type": "object"});
        let params = json!({"temperature": 0.0});
        let body = request_body("m", &params, &[], &schema, true, true);
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(body["response_format"]["json_schema"]["strict"], true);
        assert_eq!(body["response_format"]["json_schema"]["schema"], schema);
        assert_eq!(
            (&body["logprobs"], &body["top_logprobs"], &body["temperature"]),
            (&json!(true), &json!(10), &json!(0.0))
        );
        let body = request_body("m", &params, &[], &schema, false, false);
        assert_eq!(body["response_format"], json!({"type": "json_object", "schema": schema}));
        assert!(body.get("logprobs").is_none() && body.get("top_logprobs").is_none(), "{body}");
    }

    #[test]
    fn a_body_without_choices_is_malformed() {
        let err = parse_completion(&json!({"object": "list"}), "{\"object\":\"list\"}").unwrap_err();
        assert!(err.to_string().contains("no choices[0].message"), "{err}");
    }
}
