//! HTTP for judge providers: the run-wide in-flight limit, the budget, per-provider rate limits,
//! per-request timeouts, and retries of transient failures (`retry.rs` says which, and how long to
//! wait). API keys never reach an error message: whatever a provider echoes is redacted.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Semaphore;

use crate::error::JudgeError;
use crate::judge::transport::api_key::ApiKey;
use crate::judge::transport::budget::Budget;
use crate::judge::transport::call_stats::{CallStats, CallTotals, Usage};
use crate::judge::transport::ledger::{Ledger, Limits};
use crate::judge::transport::rate_limit::ProviderGate;
use crate::judge::transport::retry::{Failure, backoff, delay, is_transient, parse_retry_after};
use crate::settings::prices::Price;

pub(crate) use crate::judge::transport::retry::RetryPolicy;

/// The limits of a run's judge calls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpConfig {
    pub max_concurrency: usize,
    pub retry: RetryPolicy,
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u64>,
    pub max_judge_calls: Option<u64>,
    pub max_judge_tokens: Option<u64>,
    pub max_judge_cost: Option<f64>,
}

impl HttpConfig {
    /// The run's budget.
    fn limits(&self) -> Limits {
        Limits { max_calls: self.max_judge_calls, max_tokens: self.max_judge_tokens, max_cost: self.max_judge_cost }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_concurrency: crate::settings::run_defaults().max_concurrency,
            retry: RetryPolicy::default(),
            requests_per_minute: None,
            tokens_per_minute: None,
            max_judge_calls: None,
            max_judge_tokens: None,
            max_judge_cost: None,
        }
    }
}

/// A JSON-over-HTTP client shared by every judge of a run. Each request waits for a slot of the
/// run-wide in-flight limit, so the limit holds whatever the number of evals or test threads.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    client: reqwest::Client,
    in_flight: Arc<Semaphore>,
    config: HttpConfig,
    /// One gate per endpoint URL: its pacing and its 429 pause.
    gates: Arc<Mutex<HashMap<String, Arc<ProviderGate>>>>,
    budget: Arc<Budget>,
    stats: Arc<CallStats>,
    /// The ledger of a run that spans processes.
    ledger: Option<Arc<Ledger>>,
}

/// One POST of a JSON body to a provider.
pub(crate) struct Post<'a, T> {
    /// The provider's name, for messages.
    pub provider: &'static str,
    pub url: &'a Endpoint,
    /// Headers besides `content-type`.
    pub headers: &'a [(&'a str, &'a str)],
    /// The API key the headers carry: redacted from anything the provider sends back.
    pub secret: Option<&'a ApiKey>,
    /// Builds the body (JSON), just before each attempt is sent: a provider that learned what the
    /// server rejects while this request waited for its turn sends what it knows now.
    pub body: &'a (dyn Fn() -> Vec<u8> + Sync),
    /// Reads a refusal of the request (4xx): whether the provider learned from it what to leave
    /// out, so that a body built anew would be accepted. Called before the next request is let
    /// through, so that none is sent with what is already known to be refused.
    pub adapt: &'a (dyn Fn(&JudgeError) -> bool + Sync),
    /// The limit on each attempt.
    pub timeout: Duration,
    /// The longest reply the request allows, in tokens: with the request's own length, the
    /// estimate that the budget and the tokens-per-minute limit reserve.
    pub max_reply_tokens: u64,
    /// Reads a successful response body as the provider's reply.
    pub read: fn(&str) -> Result<T, Unreadable>,
    /// The tokens a reply used, which count against the budget.
    pub usage: fn(&T) -> Usage,
    /// The price of the judge's tokens, when judge.toml gives one: what the call costs, and what
    /// `max_judge_cost` reserves for it.
    pub price: Option<Price>,
}

/// The URL a provider posts to, parsed once: reqwest parses a URL given as text on every request.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    text: String,
    /// `None` when `text` is no URL: then it is given to reqwest as text, which reports why.
    parsed: Option<reqwest::Url>,
}

impl Endpoint {
    pub fn new(text: String) -> Self {
        let parsed = reqwest::Url::parse(&text).ok();
        Self { text, parsed }
    }

    /// The URL as configured.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Why a successful (2xx) response body could not be read as a completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// The body is not JSON: a truncated body or a proxy's page, worth another try.
    NotJson(String),
    /// JSON, but not the provider's completion: no use asking again.
    Malformed(String),
}

impl HttpClient {
    pub fn new(config: HttpConfig) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // A redirect could carry the key to another host, or from HTTPS to plain HTTP.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client with only timeouts and a redirect policy set always builds");
        Self {
            client,
            in_flight: Arc::new(Semaphore::new(config.max_concurrency)),
            config,
            gates: Arc::default(),
            budget: Arc::new(Budget::new(config.limits())),
            stats: Arc::default(),
            ledger: None,
        }
    }

    /// The client of a run that spans processes (nextest's), whose budget, pacing and 429 pauses
    /// `ledger` keeps for all of them.
    pub fn shared(mut self, ledger: Option<Arc<Ledger>>) -> Self {
        let budget = Budget::new(self.config.limits());
        self.budget = Arc::new(budget.shared(ledger.clone()));
        self.ledger = ledger;
        self
    }

    /// What the run's calls have cost so far.
    pub fn totals(&self) -> CallTotals {
        self.stats.totals()
    }

    /// Requests holding a slot of the in-flight limit now.
    pub fn in_flight(&self) -> usize {
        self.config.max_concurrency.saturating_sub(self.in_flight.available_permits())
    }

    fn gate(&self, url: &str) -> Arc<ProviderGate> {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        let gate = gates.entry(url.to_owned()).or_insert_with(|| {
            let gate = ProviderGate::new(self.config.requests_per_minute, self.config.tokens_per_minute);
            Arc::new(gate.shared(self.ledger.clone(), url))
        });
        Arc::clone(gate)
    }

    /// POSTs `post.body` as JSON, retrying transient failures; the reply read by `post.read`.
    pub async fn post_json<T>(&self, post: Post<'_, T>) -> Result<T, JudgeError> {
        let gate = self.gate(post.url.as_str());
        let retry = self.config.retry;
        let mut attempt = 1;
        loop {
            let result = {
                let _slot = self.in_flight.acquire().await.expect("the semaphore is never closed");
                let bytes = (post.body)();
                // About four bytes of English text per token.
                let estimated_prompt = bytes.len() as u64 / 4;
                let estimated_tokens = estimated_prompt + post.max_reply_tokens;
                let estimated_cost = post.price.map(|p| p.cost(estimated_prompt, post.max_reply_tokens));
                gate.admit(estimated_tokens).await?;
                let reservation = self.budget.reserve(estimated_tokens, estimated_cost)?;
                self.stats.sent(attempt > 1);
                let result = self.send_once(&post, bytes).await;
                let usage = result.as_ref().map_or(Usage::default(), post.usage);
                let cost = post.price.map(|p| p.cost(usage.prompt_tokens, usage.completion_tokens));
                self.stats.used(usage, cost);
                reservation.settle(usage.prompt_tokens + usage.completion_tokens, cost.unwrap_or(0.0));
                match result {
                    Err(Failure::Fatal(error)) if (post.adapt)(&error) => None,
                    result => Some(result),
                }
            };
            let (error, retry_after, throttled) = match result {
                // Refused for a part the provider can do without: sent again at once, without it.
                None => continue,
                Some(Ok(response)) => {
                    gate.succeeded();
                    return Ok(response);
                }
                Some(Err(Failure::Fatal(error))) => return Err(error),
                Some(Err(Failure::Transient { error, retry_after, throttled })) => (error, retry_after, throttled),
            };
            if attempt >= retry.max_attempts {
                return Err(JudgeError::RetriesExhausted { attempts: attempt, last: Box::new(error) });
            }
            let delay = match delay(retry, retry_after, attempt) {
                Err(asked) => {
                    let cap = retry.max_retry_wait;
                    return Err(JudgeError::RetryAfterTooLong {
                        provider: post.provider,
                        asked,
                        cap,
                        last: Box::new(error),
                    });
                }
                // Every request to this provider waits out the pause, this one included.
                Ok(_) if throttled => {
                    self.stats.throttled();
                    gate.throttled(retry_after, |streak| backoff(retry, streak));
                    Duration::ZERO
                }
                Ok(delay) => delay,
            };
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn send_once<T>(&self, post: &Post<'_, T>, bytes: Vec<u8>) -> Result<T, Failure> {
        let provider = post.provider;
        let redacted = |text: &str| redact(Cow::Borrowed(text), post.secret).into_owned();
        let timeout = post.timeout;
        let transport = |e: reqwest::Error| {
            let reason = if e.is_timeout() {
                format!("no complete answer within {} s (the `timeout` setting)", timeout.as_secs_f64())
            } else {
                redacted(&error_chain(&e))
            };
            Failure::transient(JudgeError::Transport { provider, url: post.url.as_str().to_owned(), reason }, None)
        };
        let request = match &post.url.parsed {
            Some(url) => self.client.post(url.clone()),
            None => self.client.post(post.url.as_str()),
        };
        let mut request =
            request.timeout(timeout).header(reqwest::header::CONTENT_TYPE, "application/json").body(bytes);
        for (name, value) in post.headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = response.bytes().await.map_err(transport)?;
        // Read where it lies: `str::from_utf8` is the standard library's optimized code, even in a
        // debug build (`String::from_utf8_lossy` walks the bytes in code compiled unoptimized);
        // only a body that is not valid UTF-8 is copied, with replacements.
        let text = match std::str::from_utf8(&body) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&body),
        };
        let text = redact(text, post.secret);
        if (200..300).contains(&status) {
            let malformed =
                |reason: String| JudgeError::MalformedResponse { provider, reason, body_excerpt: excerpt(&text, 500) };
            return match (post.read)(&text) {
                Ok(reply) => Ok(reply),
                // A 2xx whose body is not JSON is a truncated body or a proxy's error page: worth
                // another try.
                Err(Unreadable::NotJson(reason)) => Err(Failure::transient(malformed(reason), None)),
                Err(Unreadable::Malformed(reason)) => Err(Failure::Fatal(malformed(reason))),
            };
        }
        let (key_var, base_url_var) = crate::judge::provider_variables(provider);
        let error = JudgeError::Http {
            provider,
            key_var,
            base_url_var,
            status,
            provider_message: provider_message(&text),
            body_excerpt: excerpt(&text, 500),
        };
        if is_transient(status, &text) {
            Err(Failure::Transient { error, retry_after, throttled: status == 429 })
        } else {
            Err(Failure::Fatal(error))
        }
    }
}

/// `text` with every occurrence of the key replaced; searched first, as a key is rarely there.
fn redact<'a>(text: Cow<'a, str>, secret: Option<&ApiKey>) -> Cow<'a, str> {
    match secret {
        Some(key) if !key.expose().is_empty() && text.contains(key.expose()) => {
            Cow::Owned(text.replace(key.expose(), "<redacted>"))
        }
        _ => text,
    }
}

/// The `error.message` of an OpenAI- or Anthropic-style error body.
fn provider_message(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let error = value.get("error")?;
    error.get("message").and_then(Value::as_str).or_else(|| error.as_str()).map(str::to_owned)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// At most `max` characters of `text`, with an ellipsis where it was cut.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_on_char_boundaries() {
        assert_eq!(excerpt("héllo", 2), "hé…");
        assert_eq!(excerpt("hi", 2), "hi");
    }

    #[test]
    fn provider_messages_are_extracted() {
        assert_eq!(provider_message(r#"{"error":{"message":"bad key"}}"#).as_deref(), Some("bad key"));
        assert_eq!(provider_message("not json"), None);
    }
}
