//! One request's way through the fake judge, the same for every wire format: record it, check
//! the account and the rate limit, read it, wait, inject a fault or answer with a verdict.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::faults::{ConversationId, Fault};
use super::grade::{Verdict, grade_as, grade_criteria, grade_pair, lengthened, marker, write_contrast, write_steps};
use super::rate_limit::retry_after_seconds;
use super::request::JudgeRequest;
use super::{FakeJudgeConfig, Shared, account};

/// Why a request gets an error instead of a verdict. Each wire format words it its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not a valid judge request: 400, with "fake judge: " and this reason.
    Invalid(String),
    /// A parameter [`super::Rejects`] refuses: 400 `unsupported_parameter`, naming `param`.
    Unsupported { message: String, param: &'static str },
    /// Not the required API key: 401, echoing the key sent.
    BadKey(Option<String>),
    /// The account's quota is used up.
    QuotaExhausted,
    /// 429 from the rate limit or an injected fault, with this `Retry-After`.
    RateLimited { retry_after: Option<String> },
    /// An injected server error: 500, 503 or 529.
    ServerError(StatusCode),
    /// A `[status:CODE]` marker.
    Scripted(StatusCode),
}

/// A wire format: how requests are read and answers written.
pub(crate) trait Wire {
    /// What a request says about the reply it wants.
    type Reply;
    /// The start of a valid response body; a truncated response is cut after it.
    const TRUNCATED_START: &'static str;
    /// A body sent as `application/json` that is not JSON.
    const MALFORMED_JSON: &'static str;

    /// The API key a request carries.
    fn api_key(headers: &HeaderMap) -> Option<String>;
    /// Reads a request body, refusing it if it is not a valid judge request.
    fn read(body: &Value, headers: &HeaderMap, config: &FakeJudgeConfig) -> Result<JudgeRequest<Self::Reply>, Refusal>;
    /// The error response for `refusal`.
    fn refuse(refusal: Refusal) -> Response;
    /// A 200 that carries `verdict`, or, when it is None, a well-formed reply that is no verdict.
    fn reply(request: &JudgeRequest<Self::Reply>, verdict: Option<&Verdict>, prompt_tokens: u64) -> Response;
}

/// Answers one request to the endpoint of wire format `W`.
pub(crate) async fn handle<W: Wire>(shared: &Shared, headers: &HeaderMap, body: &str) -> Response {
    let stats = &shared.stats;
    let _in_flight = stats.arrive();
    for name in ["authorization", "x-api-key"] {
        if let Some(value) = headers.get(name).and_then(|value| value.to_str().ok()) {
            stats.record_authorization(value);
        }
    }
    let json = serde_json::from_str::<Value>(body);
    if let Ok(json) = &json {
        stats.record_body(json);
    }
    let response = match &shared.config.redirect_to {
        Some(location) => Response::builder()
            .status(StatusCode::TEMPORARY_REDIRECT)
            .header(header::LOCATION, location)
            .body(Body::empty())
            .expect("a redirect response builds"),
        None => respond::<W>(shared, headers, json, body.len()).await,
    };
    stats.record_status(response.status().as_u16());
    response
}

async fn respond<W: Wire>(
    shared: &Shared,
    headers: &HeaderMap,
    body: serde_json::Result<Value>,
    body_len: usize,
) -> Response {
    let (config, stats) = (&shared.config, &shared.stats);
    let key = W::api_key(headers);
    if let Err(refusal) = account::check(config, key.as_deref()) {
        return W::refuse(refusal);
    }
    if let Some(Err(wait)) = shared.rate_limiter.as_ref().map(|limiter| limiter.admit(key.as_deref(), Instant::now())) {
        stats.record_rate_limited();
        let retry_after = retry_after_seconds(wait).max(1).to_string();
        return W::refuse(Refusal::RateLimited { retry_after: Some(retry_after) });
    }
    let read = body
        .map_err(|e| Refusal::Invalid(format!("the body is not JSON: {e}")))
        .and_then(|body| Ok((W::read(&body, headers, config)?, ConversationId::of(&body["messages"]))));
    let (request, conversation) = match read {
        Ok(read) => read,
        Err(refusal) => {
            stats.record_rejected();
            return W::refuse(refusal);
        }
    };
    stats.record_model(&request.model);
    let prompt = &request.prompt;
    let prompt_tokens = (body_len / 4) as u64;

    let delay = config.latency + Duration::from_millis(marker(&prompt.output, "delay").unwrap_or(0));
    if !shared.sleep(delay).await {
        return W::refuse(Refusal::ServerError(StatusCode::SERVICE_UNAVAILABLE));
    }
    if let Some(code) = marker(&prompt.output, "status") {
        let status = u16::try_from(code).ok().and_then(|code| StatusCode::from_u16(code).ok());
        return W::refuse(Refusal::Scripted(status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)));
    }

    let (fault, _attempt) = shared.conversations.next(&config.faults, conversation, prompt.prior_replies);
    if let Some(fault) = fault {
        stats.record_fault(fault.name());
        match fault {
            Fault::TooManyRequests => {
                return W::refuse(Refusal::RateLimited { retry_after: config.faults.retry_after.clone() });
            }
            Fault::InternalServerError => return W::refuse(Refusal::ServerError(StatusCode::INTERNAL_SERVER_ERROR)),
            Fault::ServiceUnavailable => return W::refuse(Refusal::ServerError(StatusCode::SERVICE_UNAVAILABLE)),
            Fault::Overloaded => return W::refuse(Refusal::ServerError(overloaded())),
            Fault::Stall => {
                if !shared.sleep(config.faults.stall).await {
                    return W::refuse(Refusal::ServerError(StatusCode::SERVICE_UNAVAILABLE));
                }
            }
            Fault::MalformedJson => return plain(StatusCode::OK, "application/json", W::MALFORMED_JSON),
            Fault::Truncated => return truncated(W::TRUNCATED_START),
            Fault::WrongContentType => {
                return plain(StatusCode::OK, "text/html; charset=utf-8", "<html><body>502 Bad Gateway</body></html>");
            }
            Fault::MalformedVerdict => return W::reply(&request, None, prompt_tokens),
        }
    }

    if marker(&prompt.output, "malformed").is_some_and(|asks| prompt.prior_replies < asks) {
        return W::reply(&request, None, prompt_tokens);
    }
    let reference = prompt.reference.as_deref();
    let verdict = match (&prompt.second, prompt.criteria.is_empty()) {
        _ if prompt.steps_for.is_some() => write_steps(prompt.steps_for.as_deref().unwrap_or_default()),
        _ if prompt.contrast_for.is_some() => {
            let (task, good) = prompt.contrast_for.clone().unwrap_or_default();
            write_contrast(&task, &good)
        }
        (Some(second), _) => grade_pair(&prompt.output, second, reference, config.position_bias, config.verbosity_bias),
        (None, false) => grade_criteria(&prompt.output, reference, &prompt.criteria),
        (None, true) => {
            let verdict = grade_as(&request.model, &prompt.output, reference);
            lengthened(verdict, &prompt.output, config.verbosity_bias).in_levels(&prompt.levels)
        }
    };
    stats.record_verdict(&prompt.output);
    W::reply(&request, Some(&verdict), prompt_tokens)
}

/// 529, which Anthropic sends when it is overloaded.
fn overloaded() -> StatusCode {
    StatusCode::from_u16(529).expect("529 is a valid status code")
}

fn plain(status: StatusCode, content_type: &'static str, body: &'static str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("a response with a valid header builds")
}

/// A 200 whose body stops after `start`: the stream fails, so the server aborts the connection
/// mid-body. The pause lets the headers and `start` reach the client first.
fn truncated(start: &'static str) -> Response {
    use futures_util::StreamExt;
    let first = futures_util::stream::iter([Ok::<_, std::io::Error>(start)]);
    let cut = futures_util::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "fake judge: truncated response"))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(first.chain(cut)))
        .expect("a response with a valid header builds")
}
