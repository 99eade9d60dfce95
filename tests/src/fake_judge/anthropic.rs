//! The Anthropic Messages wire format (`POST /v1/messages`): the verdict is asked for as the input
//! of the one tool the judge must call.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::grade::Verdict;
use super::handle::{Refusal, Wire, handle};
use super::request::{self, Bounds, JudgeRequest};
use super::{FakeJudgeConfig, Shared};

/// What an Anthropic request wants of its reply: a call of this tool.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    tool: String,
}

/// The Anthropic Messages format.
pub(crate) struct Anthropic;

/// `POST /v1/messages`.
pub(crate) async fn messages(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    handle::<Anthropic>(&shared, &headers, &body).await
}

impl Wire for Anthropic {
    type Reply = Reply;
    const TRUNCATED_START: &'static str = r#"{"id":"msg_fake","type":"message","role":"assistant","content":[{"#;
    const MALFORMED_JSON: &'static str = r#"{"type": "message", "content": [{"type": "tool_use", "input": "#;

    fn api_key(headers: &HeaderMap) -> Option<String> {
        Some(headers.get("x-api-key")?.to_str().ok()?.to_owned())
    }

    fn read(body: &Value, headers: &HeaderMap, config: &FakeJudgeConfig) -> Result<JudgeRequest<Reply>, Refusal> {
        read(body, headers, config).map_err(Refusal::Invalid)
    }

    fn refuse(refusal: Refusal) -> Response {
        let (status, kind, message, retry_after) = match refusal {
            Refusal::Invalid(reason) => {
                (StatusCode::BAD_REQUEST, "invalid_request_error", format!("fake judge: {reason}"), None)
            }
            Refusal::Unsupported { message, .. } => (StatusCode::BAD_REQUEST, "invalid_request_error", message, None),
            Refusal::BadKey(sent) => {
                let message = match sent {
                    Some(key) => format!("invalid x-api-key: {key}"),
                    None => "x-api-key header is required".to_owned(),
                };
                (StatusCode::UNAUTHORIZED, "authentication_error", message, None)
            }
            Refusal::QuotaExhausted => (
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to \
                 upgrade or purchase credits."
                    .to_owned(),
                None,
            ),
            Refusal::RateLimited { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "Number of requests has exceeded your rate limit. Please try again later.".to_owned(),
                retry_after,
            ),
            Refusal::ServerError(status) => match status.as_u16() {
                529 => (status, "overloaded_error", "Overloaded".to_owned(), None),
                _ => (status, "api_error", "Internal server error".to_owned(), None),
            },
            Refusal::Scripted(status) => {
                let kind = match status.as_u16() {
                    400 => "invalid_request_error",
                    401 => "authentication_error",
                    403 => "permission_error",
                    404 => "not_found_error",
                    413 => "request_too_large",
                    429 => "rate_limit_error",
                    529 => "overloaded_error",
                    _ => "api_error",
                };
                (status, kind, format!("fake judge: scripted status {}", status.as_u16()), None)
            }
        };
        let body = json!({ "type": "error", "error": { "type": kind, "message": message } });
        let mut response = (status, Json(body)).into_response();
        if let Some(value) = retry_after.and_then(|value| HeaderValue::from_str(&value).ok()) {
            response.headers_mut().insert("retry-after", value);
        }
        response
    }

    fn reply(request: &JudgeRequest<Reply>, verdict: Option<&Verdict>, prompt_tokens: u64) -> Response {
        let input = match verdict {
            Some(verdict) => verdict.to_json(),
            None => json!({ "rationale": "I would rate this output quite highly overall." }),
        };
        let output_tokens = (input.to_string().len() / 4) as u64;
        Json(json!({
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": request.model,
            "content": [{ "type": "tool_use", "id": "toolu_fake", "name": request.reply.tool, "input": input }],
            "stop_reason": "tool_use",
            "stop_sequence": null,
            "usage": { "input_tokens": prompt_tokens, "output_tokens": output_tokens }
        }))
        .into_response()
    }
}

fn read(body: &Value, headers: &HeaderMap, config: &FakeJudgeConfig) -> Result<JudgeRequest<Reply>, String> {
    for header in ["x-api-key", "anthropic-version"] {
        if !headers.contains_key(header) {
            return Err(format!("{header}: header is required"));
        }
    }
    let model = body["model"].as_str().ok_or("model: Field required")?.to_owned();
    if !body["max_tokens"].is_u64() {
        return Err("max_tokens: Field required to be an integer".into());
    }
    match &body["system"] {
        Value::String(_) => {}
        Value::Array(blocks) if blocks.iter().all(|b| b["type"] == "text" && b["text"].is_string()) => {}
        _ => return Err("system: Field required to be a string or an array of text blocks".into()),
    }
    let messages = body["messages"].as_array().ok_or("messages: Field required")?;
    check_turns(messages)?;
    let tool = check_tool(&body["tools"], &body["tool_choice"])?;
    let user = request::text_of(&messages[0]["content"]).unwrap_or_default();
    let prior_replies = messages.iter().filter(|m| m["role"] == "assistant").count() as u64;
    let prompt = request::read_prompt(&user, prior_replies, config.allow_missing_context)?;
    let bounded = body["tools"][0]["input_schema"]["properties"]["score"].get("maximum").is_some();
    let generates = prompt.steps_for.is_some() || prompt.contrast_for.is_some();
    if !bounded && prompt.second.is_none() && !generates && prompt.stated_range.is_none() {
        return Err("the schema does not bound the score and the prompt does not state its range".into());
    }
    Ok(JudgeRequest { model, prompt, reply: Reply { tool } })
}

/// Checks the turns: user first, then alternating; each a string or an array of typed blocks; each
/// `tool_use` answered by a `tool_result` in the next message, and no `tool_result` without one.
fn check_turns(messages: &[Value]) -> Result<(), String> {
    if messages.is_empty() {
        return Err("messages: at least one message is required".into());
    }
    let mut open_calls = BTreeSet::new();
    for (i, message) in messages.iter().enumerate() {
        let expected = if i % 2 == 0 { "user" } else { "assistant" };
        if message["role"] != expected {
            return Err(format!(
                "messages.{i}.role: roles must alternate between \"user\" and \"assistant\", starting with \"user\""
            ));
        }
        let blocks: Vec<&Value> = match &message["content"] {
            Value::String(_) => Vec::new(),
            Value::Array(blocks) => blocks.iter().collect(),
            _ => return Err(format!("messages.{i}.content: Input should be a string or an array of blocks")),
        };
        let mut results = BTreeSet::new();
        for (j, block) in blocks.iter().enumerate() {
            match block["type"].as_str() {
                Some("text") if block["text"].is_string() => {}
                Some("tool_use") if expected == "assistant" && block["id"].is_string() => {}
                Some("tool_result") if expected == "user" && block["tool_use_id"].is_string() => {
                    results.insert(block["tool_use_id"].as_str().unwrap_or_default().to_owned());
                }
                _ => return Err(format!("messages.{i}.content.{j}: not a valid block for a {expected} message")),
            }
        }
        if let Some(unexpected) = results.difference(&open_calls).next() {
            return Err(format!(
                "messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks: {unexpected}. Each \
                 `tool_result` block must have a corresponding `tool_use` block in the previous message."
            ));
        }
        if let Some(unanswered) = open_calls.difference(&results).next() {
            return Err(format!(
                "messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: \
                 {unanswered}. Each `tool_use` block must have a corresponding `tool_result` block in the next message."
            ));
        }
        open_calls = blocks
            .iter()
            .filter(|block| block["type"] == "tool_use")
            .filter_map(|block| block["id"].as_str().map(str::to_owned))
            .collect();
    }
    Ok(())
}

/// Checks that the judge must call the one verdict tool; its name.
fn check_tool(tools: &Value, tool_choice: &Value) -> Result<String, String> {
    let [tool] = tools.as_array().map(Vec::as_slice).unwrap_or_default() else {
        return Err("tools: exactly one tool, the verdict, is expected".into());
    };
    let name = tool["name"].as_str().filter(|name| !name.is_empty()).ok_or("tools.0.name: Field required")?;
    request::check_schema(&tool["input_schema"], Bounds::Optional)
        .map_err(|reason| format!("tools.0.input_schema: {reason}"))?;
    if tool_choice["type"] != "tool" || tool_choice["name"] != name {
        return Err(format!("tool_choice: expected {{\"type\": \"tool\", \"name\": \"{name}\"}}"));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "rationale": { "type": "string" },
                "score": { "type": "integer", "minimum": 0, "maximum": 10 }
            },
            "required": ["rationale", "score"]
        })
    }

    #[test]
    fn roles_alternate_starting_with_the_user() {
        let user = json!({ "role": "user", "content": "hi" });
        let assistant = json!({ "role": "assistant", "content": "hello" });
        assert!(check_turns(&[user.clone(), assistant.clone(), user.clone()]).is_ok());
        assert!(check_turns(&[assistant.clone(), user.clone()]).is_err());
        assert!(check_turns(&[user.clone(), user.clone()]).is_err());
        assert!(check_turns(&[]).is_err());
    }

    #[test]
    fn a_tool_call_needs_its_result_next() {
        let user = json!({ "role": "user", "content": [{ "type": "text", "text": "grade this" }] });
        let call = json!({ "role": "assistant", "content": [
            { "type": "tool_use", "id": "toolu_1", "name": "verdict", "input": {} }
        ] });
        let answered = json!({ "role": "user", "content": [
            { "type": "tool_result", "tool_use_id": "toolu_1", "content": "no score" },
            { "type": "text", "text": "again" }
        ] });
        assert!(check_turns(&[user.clone(), call.clone(), answered]).is_ok());
        let unanswered = json!({ "role": "user", "content": "again" });
        let error = check_turns(&[user.clone(), call, unanswered]).unwrap_err();
        assert!(
            error.contains("`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1"),
            "{error}"
        );
        let stray = json!({ "role": "user", "content": [{ "type": "tool_result", "tool_use_id": "toolu_9" }] });
        let prose = json!({ "role": "assistant", "content": "hm" });
        assert!(check_turns(&[user, prose, stray]).unwrap_err().contains("unexpected `tool_use_id`"));
    }

    #[test]
    fn the_verdict_tool_must_be_chosen() {
        let tools = json!([{ "name": "verdict", "input_schema": schema() }]);
        assert_eq!(check_tool(&tools, &json!({ "type": "tool", "name": "verdict" })), Ok("verdict".to_owned()));
        assert!(check_tool(&tools, &json!({ "type": "auto" })).is_err());
        assert!(check_tool(&tools, &json!({ "type": "tool", "name": "other" })).is_err());
        let two = json!([{ "name": "a", "input_schema": schema() }, { "name": "b", "input_schema": schema() }]);
        assert!(check_tool(&two, &json!({ "type": "tool", "name": "a" })).is_err());
        let rationale_only = json!({ "type": "object", "properties": { "rationale": { "type": "string" } } });
        let no_score = json!([{ "name": "verdict", "input_schema": rationale_only }]);
        assert!(check_tool(&no_score, &json!({ "type": "tool", "name": "verdict" })).is_err());
    }
}
