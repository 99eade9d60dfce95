//! The OpenAI Chat Completions wire format, spoken by OpenAI and by OpenAI-compatible servers
//! (Ollama, vLLM, llama.cpp's server) through `OPENAI_BASE_URL`.

use serde_json::{Value, json};

use crate::error::{ConfigError, JudgeError};
use crate::judge::api_key::ApiKey;
use crate::judge::http::{HttpClient, excerpt};
use crate::judge::prompt::Message;
use crate::judge::verdict::Usage;

/// The public API's base URL, used when `OPENAI_BASE_URL` is unset.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
const PROVIDER: &str = "openai";

/// A reply of the judge model.
#[derive(Debug, Clone)]
pub(crate) struct Completion {
    pub text: String,
    pub usage: Usage,
}

/// A client of one OpenAI-compatible server.
#[derive(Debug)]
pub(crate) struct OpenAi {
    endpoint: String,
    api_key: Option<ApiKey>,
    http: HttpClient,
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
        Ok(Self { endpoint: format!("{base_url}/chat/completions"), api_key, http })
    }

    /// Asks `model` for a reply to `messages` that follows the JSON `schema`.
    pub async fn complete(
        &self,
        model: &str,
        params: &Value,
        messages: &[Message],
        schema: &Value,
    ) -> Result<Completion, JudgeError> {
        let mut body = json!({
            "model": model,
            "messages": messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": { "name": "verdict", "strict": true, "schema": schema }
            }
        });
        if let (Some(body), Some(params)) = (body.as_object_mut(), params.as_object()) {
            body.extend(params.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let authorization = self.api_key.as_ref().map(|key| format!("Bearer {}", key.expose()));
        let headers: Vec<(&str, &str)> =
            authorization.as_deref().map(|value| ("authorization", value)).into_iter().collect();
        let response = self.http.post_json(PROVIDER, &self.endpoint, &headers, &body).await?;
        parse_completion(&response.body, &response.text)
    }
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
    let tokens = |field: &str| body.pointer(&format!("/usage/{field}")).and_then(Value::as_u64).unwrap_or(0);
    Ok(Completion {
        text,
        usage: Usage { prompt_tokens: tokens("prompt_tokens"), completion_tokens: tokens("completion_tokens") },
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
    }

    #[test]
    fn a_body_without_choices_is_malformed() {
        let err = parse_completion(&json!({"object": "list"}), "{\"object\":\"list\"}").unwrap_err();
        assert!(err.to_string().contains("no choices[0].message"), "{err}");
    }
}
