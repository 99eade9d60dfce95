//! A fake judge: a real HTTP server on 127.0.0.1 that speaks the OpenAI Chat Completions format.
//!
//! It is strict: a request without the verdict's `json_schema`, without a rubric, an input or a
//! reference (unless allowed), or without exactly one unbroken fence around the output gets a 400.
//! It derives its score from the judged text, so a test cannot pass by accident:
//!
//! - `[score:N]` in the output: the score is N;
//! - otherwise: the share of the reference answer's words found in the output, times 10.
//!
//! Further markers script its behaviour: `[malformed:N]` answers the first N asks of a
//! conversation with prose instead of JSON (re-asks carry the earlier replies, so this needs no
//! state); `[delay:MS]` waits MS milliseconds; `[status:CODE]` answers with that HTTP status.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// How the fake judge behaves.
#[derive(Debug, Clone, Default)]
pub struct FakeJudgeConfig {
    /// Added to every chat completion.
    pub latency: Duration,
    /// Accept requests without an input or reference section.
    pub allow_missing_context: bool,
}

#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    rejected: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    judged: Mutex<Vec<String>>,
    models: Mutex<BTreeSet<String>>,
    authorizations: Mutex<BTreeSet<String>>,
}

struct Shared {
    config: FakeJudgeConfig,
    stats: Stats,
}

/// A running fake judge. Dropping it stops the server.
pub struct FakeJudge {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeJudge {
    /// Starts a fake judge with the default configuration on a free port of 127.0.0.1.
    pub fn start() -> Self {
        Self::start_with(FakeJudgeConfig::default())
    }

    /// Starts a fake judge on a free port of 127.0.0.1.
    pub fn start_with(config: FakeJudgeConfig) -> Self {
        Self::start_on(config, 0)
    }

    /// Starts a fake judge on `port` of 127.0.0.1 (0 for a free one).
    pub fn start_on(config: FakeJudgeConfig, port: u16) -> Self {
        let shared = Arc::new(Shared { config, stats: Stats::default() });
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("fake-judge".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("the fake judge's runtime starts");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind 127.0.0.1");
                    addr_tx.send(listener.local_addr().expect("a bound address")).expect("the starter waits");
                    let app = axum::Router::new()
                        .route("/v1/chat/completions", post(chat_completions))
                        .route("/v1/models", get(models))
                        .with_state(state);
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = shutdown_rx.await;
                        })
                        .await
                        .expect("the fake judge serves");
                });
            })
            .expect("spawn the fake judge's thread");
        let addr = addr_rx.recv().expect("the fake judge reports its address");
        Self { addr, shared, shutdown: Some(shutdown), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT/v1`, for `OPENAI_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Chat completion requests received, rejected ones included.
    pub fn requests(&self) -> u64 {
        self.shared.stats.requests.load(Ordering::SeqCst)
    }

    /// Requests answered with 400 for not being a valid judge request.
    pub fn rejected(&self) -> u64 {
        self.shared.stats.rejected.load(Ordering::SeqCst)
    }

    /// The most chat completion requests that were in flight at one time.
    pub fn max_in_flight(&self) -> u64 {
        self.shared.stats.max_in_flight.load(Ordering::SeqCst)
    }

    /// The fenced outputs of the requests that were answered with a verdict, in arrival order.
    pub fn judged_outputs(&self) -> Vec<String> {
        self.shared.stats.judged.lock().unwrap().clone()
    }

    /// The `model` values requests named.
    pub fn models(&self) -> BTreeSet<String> {
        self.shared.stats.models.lock().unwrap().clone()
    }

    /// The `Authorization` headers requests carried.
    pub fn authorizations(&self) -> BTreeSet<String> {
        self.shared.stats.authorizations.lock().unwrap().clone()
    }
}

impl Drop for FakeJudge {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn models() -> Json<Value> {
    Json(json!({ "object": "list", "data": [{ "id": "fake-judge", "object": "model", "owned_by": "judge-tests" }] }))
}

struct InFlight<'a>(&'a Stats);

impl<'a> InFlight<'a> {
    fn enter(stats: &'a Stats) -> Self {
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn chat_completions(State(shared): State<Arc<Shared>>, headers: axum::http::HeaderMap, body: String) -> Response {
    let stats = &shared.stats;
    stats.requests.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight::enter(stats);
    if let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        stats.authorizations.lock().unwrap().insert(auth.to_owned());
    }
    let request = match check_request(&body, &shared.config) {
        Ok(request) => request,
        Err(reason) => {
            stats.rejected.fetch_add(1, Ordering::SeqCst);
            return error(StatusCode::BAD_REQUEST, &format!("fake judge: {reason}"));
        }
    };
    stats.models.lock().unwrap().insert(request.model.clone());
    let delay = shared.config.latency + Duration::from_millis(marker(&request.output, "delay").unwrap_or(0));
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(code) = marker(&request.output, "status") {
        let status = StatusCode::from_u16(code as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return error(status, &format!("fake judge: scripted status {code}"));
    }
    let (content, logprobs) = if marker(&request.output, "malformed").is_some_and(|n| request.prior_replies < n) {
        ("I would rate this output quite highly overall.".to_owned(), Value::Null)
    } else {
        let (score, rationale) = grade(&request.output, request.reference.as_deref());
        stats.judged.lock().unwrap().push(request.output.clone());
        let content = json!({ "rationale": rationale, "score": score }).to_string();
        let logprobs = if request.logprobs { token_logprobs(&content, score, &request.output) } else { Value::Null };
        (content, logprobs)
    };
    let prompt_tokens = (body.len() / 4) as u64;
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

/// OpenAI's `logprobs` for `content`, as three tokens: up to the score, the score, the rest. The
/// score token's alternatives follow `[dist:7=0.6,8=0.4]` in the output, else the score alone.
fn token_logprobs(content: &str, score: u64, output: &str) -> Value {
    let digits = score.to_string();
    let at = content.rfind(&format!(":{digits}}}")).map_or(0, |i| i + 1);
    let alternatives: Vec<(String, f64)> = match output.find("[dist:") {
        Some(start) => output[start + 6..]
            .split(']')
            .next()
            .unwrap_or("")
            .split(',')
            .filter_map(|pair| {
                let (token, p) = pair.split_once('=')?;
                Some((token.to_owned(), p.parse::<f64>().ok()?.ln()))
            })
            .collect(),
        None => vec![(digits.clone(), 0.0)],
    };
    let token = |text: &str, top: &[(String, f64)]| {
        json!({
            "token": text,
            "logprob": top.first().map_or(0.0, |t| t.1),
            "top_logprobs": top.iter().map(|(t, lp)| json!({ "token": t, "logprob": lp })).collect::<Vec<_>>()
        })
    };
    let (head, tail) = (&content[..at], &content[at + digits.len()..]);
    json!({ "content": [token(head, &[]), token(&digits, &alternatives), token(tail, &[])] })
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": { "message": message, "type": "invalid_request_error" } }))).into_response()
}

/// What the fake judge reads from a valid request.
struct JudgeRequest {
    model: String,
    /// Whether token log-probabilities were asked for.
    logprobs: bool,
    output: String,
    reference: Option<String>,
    /// Assistant messages already in the conversation: replies that were re-asked.
    prior_replies: u64,
}

fn check_request(body: &str, config: &FakeJudgeConfig) -> Result<JudgeRequest, String> {
    let body: Value = serde_json::from_str(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let model = body["model"].as_str().ok_or("no model")?.to_owned();
    let format = &body["response_format"];
    if format["type"] != "json_schema" {
        return Err("response_format is not json_schema".into());
    }
    let schema = &format["json_schema"]["schema"];
    let properties = schema["properties"].as_object().ok_or("the schema has no properties")?;
    let keys: Vec<&String> = properties.keys().collect();
    if keys != ["rationale", "score"] {
        return Err(format!("the schema's properties are {keys:?}, not rationale then score"));
    }
    let score = &properties["score"];
    if score["type"] != "integer" || !score["minimum"].is_u64() || !score["maximum"].is_u64() {
        return Err("the score is not an integer with a minimum and a maximum".into());
    }
    let messages = body["messages"].as_array().ok_or("no messages")?;
    let user =
        messages.iter().find(|m| m["role"] == "user").and_then(|m| m["content"].as_str()).ok_or("no user message")?;
    let prior_replies = messages.iter().filter(|m| m["role"] == "assistant").count() as u64;
    section(user, "## Rubric\n").ok_or("no rubric")?;
    let input = section(user, "## Input given to the AI system\n");
    let reference = section(user, "## Reference answer");
    if !config.allow_missing_context {
        input.as_ref().ok_or("no input")?;
        reference.as_ref().ok_or("no reference answer")?;
    }
    let output = fenced_output(user)?;
    let logprobs = body["logprobs"] == true;
    Ok(JudgeRequest { model, logprobs, output, reference, prior_replies })
}

/// The non-empty text of the section that starts at `header`, up to the next `## ` header.
fn section(text: &str, header: &str) -> Option<String> {
    let start = text.find(header)? + header.len();
    let rest = &text[start..];
    let rest = &rest[rest.find('\n').map_or(0, |i| if header.ends_with('\n') { 0 } else { i + 1 })..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    let body = rest[..end].trim();
    (!body.is_empty()).then(|| body.to_owned())
}

/// The output between the one `<output-ID>` and its `</output-ID>`, where ID is 16 hex digits that
/// the output does not contain.
fn fenced_output(text: &str) -> Result<String, String> {
    let opens: Vec<(usize, &str)> = text
        .match_indices("<output-")
        .filter_map(|(i, _)| {
            let id = text.get(i + 8..i + 24)?;
            (id.chars().all(|c| c.is_ascii_hexdigit()) && text.get(i + 24..i + 25) == Some(">")).then_some((i, id))
        })
        .collect();
    let [(open, id)] = opens.as_slice() else {
        return Err(format!("{} opening output fences, not exactly one", opens.len()));
    };
    let close_tag = format!("</output-{id}>");
    let closes: Vec<usize> = text.match_indices(&close_tag).map(|(i, _)| i).collect();
    let [close] = closes.as_slice() else {
        return Err(format!("{} closing fences for output-{id}, not exactly one", closes.len()));
    };
    let start = open + 25;
    if *close < start {
        return Err("the closing fence comes before the opening one".into());
    }
    let output = text[start..*close].strip_prefix('\n').unwrap_or(&text[start..*close]);
    let output = output.strip_suffix('\n').unwrap_or(output);
    if output.contains(*id) {
        return Err("the fenced output contains its own fence id".into());
    }
    Ok(output.to_owned())
}

/// The number after `[name:` in `text`, e.g. `[score:7]`.
fn marker(text: &str, name: &str) -> Option<u64> {
    let start = text.find(&format!("[{name}:"))? + name.len() + 2;
    let end = text[start..].find(']')? + start;
    text[start..end].parse().ok()
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The score and rationale the fake judge gives `output`.
fn grade(output: &str, reference: Option<&str>) -> (u64, String) {
    if let Some(score) = marker(output, "score") {
        return (score, format!("The output carries the score marker {score}."));
    }
    let Some(reference) = reference else {
        return (5, "There is no reference answer to compare with; the output is middling.".to_owned());
    };
    let expected: BTreeSet<String> = words(reference).into_iter().collect();
    let found: BTreeSet<String> = words(output).into_iter().collect();
    let missing: Vec<&String> = expected.difference(&found).collect();
    let hits = expected.len() - missing.len();
    let score =
        if expected.is_empty() { 0 } else { (10 * hits as u64 + expected.len() as u64 / 2) / expected.len() as u64 };
    let rationale = if missing.is_empty() {
        format!("The output contains every word of the reference answer ({hits} of {}).", expected.len())
    } else {
        format!(
            "The output contains {hits} of the {} words of the reference answer; it lacks: {}.",
            expected.len(),
            missing.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(", ")
        )
    };
    (score, rationale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_markers() {
        assert_eq!(marker("x [score:7] y", "score"), Some(7));
        assert_eq!(marker("x [score:high]", "score"), None);
        assert_eq!(marker("none", "delay"), None);
    }

    #[test]
    fn grades_by_reference_overlap() {
        assert_eq!(grade("They overlap 22 times a day.", Some("22 times")).0, 10);
        assert_eq!(grade("24 times.", Some("22 times")).0, 5);
        assert_eq!(grade("[score:3] 22 times", Some("22 times")).0, 3);
    }

    #[test]
    fn finds_exactly_one_fence() {
        let ok =
            "## Rubric\nr\n\n## Output under evaluation\n<output-0123456789abcdef>\nhi\n</output-0123456789abcdef>\n";
        assert_eq!(fenced_output(ok).unwrap(), "hi");
        let two = format!("{ok}{ok}");
        assert!(fenced_output(&two).is_err());
        let unclosed = "<output-0123456789abcdef>\nhi\n";
        assert!(fenced_output(unclosed).is_err());
        let broken = "<output-0123456789abcdef>\nhi</output-0123456789abcdef>\n</output-0123456789abcdef>";
        assert!(fenced_output(broken).is_err());
    }

    #[test]
    fn sections_end_at_the_next_header() {
        let text = "## Rubric\nbe right\n\n## Reference answer (correct)\n22\n\n## Output under evaluation\nx";
        assert_eq!(section(text, "## Rubric\n").as_deref(), Some("be right"));
        assert_eq!(section(text, "## Reference answer").as_deref(), Some("22"));
        assert_eq!(section(text, "## Input given to the AI system\n"), None);
    }
}
