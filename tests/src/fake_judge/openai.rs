//! The OpenAI Chat Completions wire format (`POST /v1/chat/completions`), and the request
//! features an OpenAI-compatible server may refuse.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::grade::Verdict;
use super::handle::{Refusal, Wire, handle};
use super::logprobs::{self, Logprobs};
use super::request::{self, Bounds, JudgeRequest};
use super::{FakeJudgeConfig, Shared};

/// Request features the OpenAI endpoint refuses with a 400 `unsupported_parameter` error whose
/// message and `param` name the feature, as OpenAI does for models that lack it. Default: none.
///
/// ```
/// use judge_tests::{FakeJudgeConfig, Rejects};
///
/// // llama-cpp-python's server: JSON mode with a schema, no `json_schema`.
/// let config = FakeJudgeConfig { rejects: Rejects { json_schema: true, ..Rejects::default() }, ..Default::default() };
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rejects {
    /// `response_format` of type `json_schema` (structured outputs).
    pub json_schema: bool,
    /// `response_format` of type `json_object` (JSON mode).
    pub json_object: bool,
    /// `minimum` and `maximum` in the score of a `json_schema`, which strict mode long refused.
    pub schema_bounds: bool,
    /// `temperature`.
    pub temperature: bool,
    /// `max_tokens`; `max_completion_tokens` is always accepted.
    pub max_tokens: bool,
    /// `logprobs` and `top_logprobs`.
    pub logprobs: bool,
    /// `seed`.
    pub seed: bool,
}

impl Rejects {
    /// What OpenAI's reasoning models (o1, o3, ...) refuse: `temperature`, `max_tokens` and
    /// `logprobs`.
    pub fn reasoning_model() -> Self {
        Self { temperature: true, max_tokens: true, logprobs: true, ..Self::default() }
    }

    /// The first feature of `body` refused, as OpenAI words it.
    fn refusal(&self, body: &Value) -> Option<Refusal> {
        let unsupported = |message: String, param| Some(Refusal::Unsupported { message, param });
        let format = &body["response_format"];
        let kind = format["type"].as_str();
        for (kind_refused, refused) in [("json_schema", self.json_schema), ("json_object", self.json_object)] {
            if refused && kind == Some(kind_refused) {
                return unsupported(
                    format!(
                        "Invalid parameter: 'response_format' of type '{kind_refused}' is not supported with \
                         this model."
                    ),
                    "response_format",
                );
            }
        }
        if self.schema_bounds && kind == Some("json_schema") {
            let score = &format["json_schema"]["schema"]["properties"]["score"];
            if let Some(bound) = ["minimum", "maximum"].into_iter().find(|bound| score.get(bound).is_some()) {
                let name = format["json_schema"]["name"].as_str().unwrap_or_default();
                return unsupported(
                    format!(
                        "Invalid schema for response_format '{name}': In context=('properties', 'score'), \
                         '{bound}' is not permitted."
                    ),
                    "response_format",
                );
            }
        }
        let present = |param: &str| body.get(param).is_some_and(|value| !value.is_null());
        let not_supported = |param: &str| format!("Unsupported parameter: '{param}' is not supported with this model.");
        if self.temperature && present("temperature") {
            return unsupported(not_supported("temperature"), "temperature");
        }
        if self.max_tokens && present("max_tokens") {
            return unsupported(
                format!("{} Use 'max_completion_tokens' instead.", not_supported("max_tokens")),
                "max_tokens",
            );
        }
        if self.logprobs && (present("logprobs") || present("top_logprobs")) {
            return unsupported(not_supported("logprobs"), "logprobs");
        }
        if self.seed && present("seed") {
            return unsupported(not_supported("seed"), "seed");
        }
        None
    }
}

/// How a request asks for its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `json_schema`: strict structured output; `bounded` if the score's range is in the schema.
    JsonSchema { bounded: bool },
    /// `json_object`: JSON mode, with or without a schema beside it.
    JsonObject,
    /// No `response_format`: the reply is prose around the JSON.
    Text,
}

/// What an OpenAI request wants of its reply.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reply {
    mode: Mode,
    /// The logprobs to send, when the request asks for them.
    logprobs: Option<Logprobs>,
}

/// The OpenAI Chat Completions format.
pub(crate) struct OpenAi;

/// `POST /v1/chat/completions`.
pub(crate) async fn chat_completions(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    handle::<OpenAi>(&shared, &headers, &body).await
}

/// `GET /v1/models`.
pub(crate) async fn models() -> Json<Value> {
    Json(json!({ "object": "list", "data": [{ "id": "fake-judge", "object": "model", "owned_by": "judge-tests" }] }))
}

impl Wire for OpenAi {
    type Reply = Reply;
    const TRUNCATED_START: &'static str =
        r#"{"id":"chatcmpl-fake","object":"chat.completion","created":0,"choices":[{"#;
    const MALFORMED_JSON: &'static str = r#"{"choices": [{"message": "#;

    fn api_key(headers: &HeaderMap) -> Option<String> {
        let value = headers.get("authorization")?.to_str().ok()?;
        Some(value.strip_prefix("Bearer ").unwrap_or(value).to_owned())
    }

    fn read(body: &Value, _headers: &HeaderMap, config: &FakeJudgeConfig) -> Result<JudgeRequest<Reply>, Refusal> {
        if let Some(refusal) = config.rejects.refusal(body) {
            return Err(refusal);
        }
        let invalid = |reason: &str| Refusal::Invalid(reason.to_owned());
        let model = body["model"].as_str().ok_or_else(|| invalid("no model"))?.to_owned();
        let mode = mode(&body["response_format"], &config.rejects).map_err(Refusal::Invalid)?;
        let messages = body["messages"].as_array().ok_or_else(|| invalid("no messages"))?;
        let mut user = None;
        for (i, message) in messages.iter().enumerate() {
            let role = message["role"].as_str().unwrap_or_default();
            if !["system", "developer", "user", "assistant"].contains(&role) {
                return Err(Refusal::Invalid(format!("messages[{i}] has no known role")));
            }
            let text = request::text_of(&message["content"])
                .ok_or_else(|| Refusal::Invalid(format!("messages[{i}].content is not text")))?;
            if role == "user" && user.is_none() {
                user = Some(text);
            }
        }
        let user = user.ok_or_else(|| invalid("no user message"))?;
        let prior_replies = messages.iter().filter(|m| m["role"] == "assistant").count() as u64;
        let prompt =
            request::read_prompt(&user, prior_replies, config.allow_missing_context).map_err(Refusal::Invalid)?;
        let compares = prompt.second.is_some();
        if !compares
            && prompt.steps_for.is_none()
            && prompt.contrast_for.is_none()
            && mode != (Mode::JsonSchema { bounded: true })
            && prompt.stated_range.is_none()
        {
            return Err(invalid(
                "the schema does not bound the score and the prompt does not state its range \
                 (\"from MIN (worst) to MAX (best)\")",
            ));
        }
        let logprobs = (body["logprobs"] == true).then(|| match config.full_logprobs {
            true => Logprobs::Full { top: body["top_logprobs"].as_u64().unwrap_or(0) as usize },
            false => Logprobs::Score,
        });
        Ok(JudgeRequest { model, prompt, reply: Reply { mode, logprobs } })
    }

    fn refuse(refusal: Refusal) -> Response {
        let (status, body, retry_after) = match refusal {
            Refusal::Invalid(reason) => {
                let body = error(format!("fake judge: {reason}"), "invalid_request_error", None, None);
                (StatusCode::BAD_REQUEST, body, None)
            }
            Refusal::Unsupported { message, param } => {
                let body = error(message, "invalid_request_error", Some(param), Some("unsupported_parameter"));
                (StatusCode::BAD_REQUEST, body, None)
            }
            Refusal::BadKey(sent) => {
                let message = match sent {
                    Some(key) => format!("Incorrect API key provided: {key}."),
                    None => "You didn't provide an API key. You need to provide your API key in an Authorization \
                             header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
                        .to_owned(),
                };
                (StatusCode::UNAUTHORIZED, error(message, "invalid_request_error", None, Some("invalid_api_key")), None)
            }
            Refusal::QuotaExhausted => {
                let message = "You exceeded your current quota, please check your plan and billing details.";
                let body = json!({ "error": {
                    "message": message, "type": "insufficient_quota", "param": null, "code": "insufficient_quota"
                } });
                (StatusCode::TOO_MANY_REQUESTS, body, None)
            }
            Refusal::RateLimited { retry_after } => {
                let message = "Rate limit reached for requests. Please try again later.".to_owned();
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    error(message, "requests", None, Some("rate_limit_exceeded")),
                    retry_after,
                )
            }
            Refusal::ServerError(status) => {
                let message = match status {
                    StatusCode::INTERNAL_SERVER_ERROR => {
                        "The server had an error while processing your request. Sorry about that!"
                    }
                    StatusCode::SERVICE_UNAVAILABLE => "The engine is currently overloaded, please try again later.",
                    _ => "Overloaded",
                };
                (status, error(message.to_owned(), "server_error", None, None), None)
            }
            Refusal::Scripted(status) => {
                let body = error(
                    format!("fake judge: scripted status {}", status.as_u16()),
                    "invalid_request_error",
                    None,
                    None,
                );
                (status, body, None)
            }
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(value) = retry_after.and_then(|value| HeaderValue::from_str(&value).ok()) {
            response.headers_mut().insert("retry-after", value);
        }
        response
    }

    fn reply(request: &JudgeRequest<Reply>, verdict: Option<&Verdict>, prompt_tokens: u64) -> Response {
        let (content, logprobs) = match verdict {
            None => ("I would rate this output quite highly overall.".to_owned(), Value::Null),
            Some(verdict) => {
                let mut object = verdict.to_json();
                if let (Some(Logprobs::Full { .. }), Some(rationale)) =
                    (request.reply.logprobs, object.get_mut("rationale"))
                {
                    *rationale = json!(logprobs::judges_length(rationale.as_str().unwrap_or_default()));
                }
                let object = object.to_string();
                let content = match request.reply.mode {
                    Mode::JsonSchema { .. } | Mode::JsonObject => object,
                    Mode::Text => format!("Here is my verdict:\n```json\n{object}\n```\nI hope this helps."),
                };
                // One score token to weigh: not in a comparison or a reply with several scores.
                let one_score = verdict.winner.is_none() && verdict.criteria.is_empty() && verdict.steps.is_none();
                let output = &request.prompt.output;
                let logprobs = match request.reply.logprobs.filter(|_| one_score) {
                    Some(Logprobs::Score) => logprobs::score_only(&content, verdict.score, output),
                    Some(Logprobs::Full { top }) => logprobs::every_token(&content, verdict.score, output, top),
                    None => Value::Null,
                };
                (content, logprobs)
            }
        };
        let completion_tokens = (content.len() / 4) as u64;
        Json(json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": request.model,
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": content },
                "logprobs": logprobs,
                "finish_reason": "stop"
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens
            }
        }))
        .into_response()
    }
}

/// An OpenAI error body.
fn error(message: String, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({ "error": { "message": message, "type": kind, "param": param, "code": code } })
}

/// Reads and checks `response_format`.
fn mode(format: &Value, rejects: &Rejects) -> Result<Mode, String> {
    if format.is_null() {
        return Ok(Mode::Text);
    }
    match format["type"].as_str() {
        Some("text") => Ok(Mode::Text),
        Some("json_schema") => {
            let spec = &format["json_schema"];
            if spec["name"].as_str().is_none_or(str::is_empty) {
                return Err("response_format.json_schema has no name".into());
            }
            if spec["strict"] != true {
                return Err("response_format.json_schema is not strict".into());
            }
            let schema = &spec["schema"];
            // Refused bounds were answered already: here they are absent.
            let bounds = if rejects.schema_bounds { Bounds::Optional } else { Bounds::Required };
            request::check_schema(schema, bounds)?;
            // Strict mode's own rules.
            if schema["additionalProperties"] != false {
                return Err("a strict schema needs \"additionalProperties\": false".into());
            }
            let mut required: Vec<&str> =
                schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            required.sort_unstable();
            let mut properties: Vec<&str> =
                schema["properties"].as_object().into_iter().flatten().map(|(k, _)| k.as_str()).collect();
            properties.sort_unstable();
            if required != properties {
                return Err("a strict schema requires every property".into());
            }
            Ok(Mode::JsonSchema { bounded: !rejects.schema_bounds })
        }
        Some("json_object") => {
            if let Some(schema) = format.get("schema") {
                request::check_schema(schema, Bounds::Optional)?;
            }
            Ok(Mode::JsonObject)
        }
        other => Err(format!("response_format type {other:?} is not text, json_schema or json_object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(bounded: bool) -> Value {
        let mut score = json!({ "type": "integer" });
        if bounded {
            score["minimum"] = json!(0);
            score["maximum"] = json!(10);
        }
        json!({
            "type": "object",
            "properties": { "rationale": { "type": "string" }, "score": score },
            "required": ["rationale", "score"],
            "additionalProperties": false
        })
    }

    fn body(format: Value) -> Value {
        json!({
            "model": "m",
            "messages": [{ "role": "user", "content": "x" }],
            "response_format": format,
            "temperature": 0.0,
            "logprobs": true,
            "top_logprobs": 10,
            "seed": 1,
            "max_tokens": 100
        })
    }

    fn strict(schema: Value) -> Value {
        json!({ "type": "json_schema", "json_schema": { "name": "verdict", "strict": true, "schema": schema } })
    }

    fn refused(rejects: Rejects, body: &Value) -> Option<(String, &'static str)> {
        match rejects.refusal(body)? {
            Refusal::Unsupported { message, param } => Some((message, param)),
            other => panic!("not an unsupported parameter: {other:?}"),
        }
    }

    #[test]
    fn accepts_everything_by_default() {
        assert_eq!(refused(Rejects::default(), &body(strict(schema(true)))), None);
    }

    #[test]
    fn rejected_features_are_named_like_openai_does() {
        let json_schema = body(strict(schema(true)));
        let cases = [
            (
                Rejects { json_schema: true, ..Rejects::default() },
                &json_schema,
                "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
                "response_format",
            ),
            (
                Rejects { json_object: true, ..Rejects::default() },
                &body(json!({ "type": "json_object" })),
                "Invalid parameter: 'response_format' of type 'json_object' is not supported with this model.",
                "response_format",
            ),
            (
                Rejects { schema_bounds: true, ..Rejects::default() },
                &json_schema,
                "Invalid schema for response_format 'verdict': In context=('properties', 'score'), 'minimum' is not \
                 permitted.",
                "response_format",
            ),
            (
                Rejects { temperature: true, ..Rejects::default() },
                &json_schema,
                "Unsupported parameter: 'temperature' is not supported with this model.",
                "temperature",
            ),
            (
                Rejects { max_tokens: true, ..Rejects::default() },
                &json_schema,
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' \
                 instead.",
                "max_tokens",
            ),
            (
                Rejects { logprobs: true, ..Rejects::default() },
                &json_schema,
                "Unsupported parameter: 'logprobs' is not supported with this model.",
                "logprobs",
            ),
            (
                Rejects { seed: true, ..Rejects::default() },
                &json_schema,
                "Unsupported parameter: 'seed' is not supported with this model.",
                "seed",
            ),
        ];
        for (rejects, body, message, param) in cases {
            assert_eq!(refused(rejects, body), Some((message.to_owned(), param)), "{rejects:?}");
        }
    }

    #[test]
    fn a_refused_feature_that_is_absent_is_no_refusal() {
        let mut plain = json!({ "model": "m", "messages": [], "max_completion_tokens": 100 });
        let all = Rejects {
            json_schema: true,
            json_object: true,
            schema_bounds: true,
            temperature: true,
            max_tokens: true,
            logprobs: true,
            seed: true,
        };
        assert_eq!(refused(all, &plain), None);
        assert_eq!(refused(Rejects { schema_bounds: true, ..Rejects::default() }, &body(strict(schema(false)))), None);
        plain["top_logprobs"] = json!(5);
        assert_eq!(refused(all, &plain).unwrap().1, "logprobs");
    }

    #[test]
    fn reads_the_response_format() {
        let none = Rejects::default();
        assert_eq!(mode(&Value::Null, &none), Ok(Mode::Text));
        assert_eq!(mode(&strict(schema(true)), &none), Ok(Mode::JsonSchema { bounded: true }));
        assert!(mode(&strict(schema(false)), &none).unwrap_err().contains("no minimum and maximum"));
        let no_bounds = Rejects { schema_bounds: true, ..none };
        assert_eq!(mode(&strict(schema(false)), &no_bounds), Ok(Mode::JsonSchema { bounded: false }));
        assert_eq!(mode(&json!({ "type": "json_object", "schema": schema(true) }), &none), Ok(Mode::JsonObject));
        assert_eq!(mode(&json!({ "type": "json_object" }), &none), Ok(Mode::JsonObject));
        let mut loose = strict(schema(true));
        loose["json_schema"]["strict"] = json!(false);
        assert!(mode(&loose, &none).is_err());
        let mut open = strict(schema(true));
        open["json_schema"]["schema"]["additionalProperties"] = json!(true);
        assert!(mode(&open, &none).is_err());
    }
}
