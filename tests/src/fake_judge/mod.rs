//! A fake judge: a real HTTP server on 127.0.0.1 that speaks the OpenAI Chat Completions format
//! (`POST /v1/chat/completions`) and the Anthropic Messages format (`POST /v1/messages`).
//!
//! It is strict, as real servers are: a request that is not a valid judge request (no rubric, no
//! input or reference unless allowed, not exactly one unbroken fence around the output, a verdict
//! schema other than `rationale` then an integer `score`) gets a 400. It derives its score from
//! the judged text, so a test cannot pass by accident:
//!
//! - `[score:N]` in the output: the score is N;
//! - otherwise: the share of the reference answer's words found in the output, times 10.
//!
//! Further markers script its behaviour: `[malformed:N]` answers the first N asks of a
//! conversation with prose instead of a verdict (re-asks carry the earlier replies, so this needs
//! no state); `[delay:MS]` waits MS milliseconds; `[status:CODE]` answers with that HTTP status;
//! `[dist:7=0.6,8=0.4]` sets the score token's log-probabilities; `[normal:0.6]` draws the score
//! around 6/10 with a standard deviation of 1.5, from the whole output's hash.
//!
//! [`FakeJudgeConfig`] makes it behave like a particular provider or a bad day: request features
//! it refuses ([`Rejects`]), random transport and server faults ([`Faults`]), per-key rate limits
//! ([`RateLimit`]), a required API key, an exhausted quota and redirects.
//!
//! # Usage
//!
//! ```no_run
//! use judge_tests::{FakeJudge, FakeJudgeConfig, Faults};
//!
//! let judge = FakeJudge::start_with(FakeJudgeConfig {
//!     faults: Faults { seed: 7, rate_503: 0.2, ..Faults::default() },
//!     ..FakeJudgeConfig::default()
//! });
//! // Point a harness run at it: OPENAI_BASE_URL=judge.base_url(), or
//! // ANTHROPIC_BASE_URL=judge.anthropic_base_url().
//! assert_eq!(judge.requests(), 0);
//! ```

mod account;
mod anthropic;
mod faults;
mod grade;
mod handle;
mod logprobs;
mod openai;
mod rate_limit;
mod request;
mod stats;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use serde_json::Value;

use self::faults::Conversations;
pub use self::faults::Faults;
pub use self::openai::Rejects;
pub use self::rate_limit::RateLimit;
use self::rate_limit::RateLimiter;
use self::stats::Stats;

/// How the fake judge behaves. The default is a well-behaved server that accepts every valid
/// judge request and needs no API key.
#[derive(Debug, Clone, Default)]
pub struct FakeJudgeConfig {
    /// Added to every chat completion or message.
    pub latency: Duration,
    /// Accept requests without an input or reference section.
    pub allow_missing_context: bool,
    /// Request features the OpenAI endpoint refuses with a 400, as some models and servers do.
    pub rejects: Rejects,
    /// Faults injected at random, reproducibly. Default: none.
    pub faults: Faults,
    /// At most this many requests per API key in a sliding window; more get a 429. Default: no limit.
    pub rate_limit: Option<RateLimit>,
    /// The only API key accepted (`Authorization: Bearer KEY`, or `x-api-key: KEY` for Anthropic);
    /// other keys get a 401 whose message echoes the key sent. Default: any key, or none.
    pub require_key: Option<String>,
    /// Answer every request as an account whose quota is used up (OpenAI: 429 `insufficient_quota`
    /// without `Retry-After`; Anthropic: 400 "credit balance is too low"). Default: false.
    pub quota_exhausted: bool,
    /// Answer every request with `307 Temporary Redirect` to this URL, as a moved or hostile
    /// server would. Default: none.
    pub redirect_to: Option<String>,
    /// When two outputs grade the same, name the one shown first the winner instead of a tie, as
    /// a judge biased to position does. Default: false.
    pub position_bias: bool,
    /// Grade longer outputs higher, a point more for every 100 characters (at most 10), as a judge
    /// biased to length does. Default: false.
    pub verbosity_bias: bool,
    /// Answer an OpenAI request that asks for `logprobs` as OpenAI does: every token of the reply
    /// with its `bytes` and as many `top_logprobs` (with theirs) as asked, the rationale written at
    /// a judge's usual length (about 100 tokens). Default: false (three tokens, alternatives for the
    /// score's alone), which keeps replies small.
    pub full_logprobs: bool,
}

/// What every request handler shares: the configuration, the statistics and the state that
/// outlives a request.
pub(crate) struct Shared {
    pub config: FakeJudgeConfig,
    pub stats: Stats,
    pub conversations: Conversations,
    pub rate_limiter: Option<RateLimiter>,
    /// Set to true when the server stops: waits (latency, stalls) end early so it stops at once.
    pub shutdown: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    /// Waits `duration`, or less if the server stops first; true if it waited the whole time.
    pub async fn sleep(&self, duration: Duration) -> bool {
        if duration.is_zero() {
            return true;
        }
        let mut stopped = self.shutdown.subscribe();
        tokio::select! {
            () = tokio::time::sleep(duration) => true,
            _ = stopped.wait_for(|stopped| *stopped) => false,
        }
    }
}

/// A running fake judge. Dropping it stops the server.
pub struct FakeJudge {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeJudge {
    /// Starts a fake judge with the default configuration on a free port of 127.0.0.1.
    pub fn start() -> Self {
        Self::start_with(FakeJudgeConfig::default())
    }

    /// Starts a fake judge on a free port of 127.0.0.1.
    ///
    /// # Panics
    ///
    /// If a fault rate is not in 0.0..=1.0.
    pub fn start_with(config: FakeJudgeConfig) -> Self {
        Self::start_on(config, 0)
    }

    /// Starts a fake judge on `port` of 127.0.0.1 (0 for a free one).
    ///
    /// # Panics
    ///
    /// If a fault rate is not in 0.0..=1.0, or the port cannot be bound.
    pub fn start_on(config: FakeJudgeConfig, port: u16) -> Self {
        if let Err(reason) = config.faults.validate() {
            panic!("fake judge: {reason}");
        }
        let shared = Arc::new(Shared {
            rate_limiter: config.rate_limit.map(RateLimiter::new),
            config,
            stats: Stats::default(),
            conversations: Conversations::default(),
            shutdown: tokio::sync::watch::Sender::new(false),
        });
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
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
                    let mut stopped = state.shutdown.subscribe();
                    let app = axum::Router::new()
                        .route("/v1/chat/completions", post(openai::chat_completions))
                        .route("/v1/models", get(openai::models))
                        .route("/v1/messages", post(anthropic::messages))
                        .with_state(state);
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = stopped.wait_for(|stopped| *stopped).await;
                        })
                        .await
                        .expect("the fake judge serves");
                });
            })
            .expect("spawn the fake judge's thread");
        let addr = addr_rx.recv().expect("the fake judge reports its address");
        Self { addr, shared, thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT/v1`, for `OPENAI_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `http://127.0.0.1:PORT`, for `ANTHROPIC_BASE_URL` (which, unlike OpenAI's, has no `/v1`).
    pub fn anthropic_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The gaps between consecutive requests, in the order they arrived.
    pub fn gaps(&self) -> Vec<std::time::Duration> {
        self.shared.stats.arrivals().windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// Chat completion and message requests received, refused ones included.
    pub fn requests(&self) -> u64 {
        self.shared.stats.requests()
    }

    /// Requests answered with 400: not a valid judge request, or asking for a feature that
    /// [`Rejects`] refuses.
    pub fn rejected(&self) -> u64 {
        self.shared.stats.rejected()
    }

    /// The most requests that were in flight at one time.
    pub fn max_in_flight(&self) -> u64 {
        self.shared.stats.max_in_flight()
    }

    /// The fenced outputs of the requests that were answered with a verdict, in arrival order.
    pub fn judged_outputs(&self) -> Vec<String> {
        self.shared.stats.judged_outputs()
    }

    /// The `model` values valid requests named.
    pub fn models(&self) -> BTreeSet<String> {
        self.shared.stats.models()
    }

    /// The `Authorization` and `x-api-key` headers requests carried.
    pub fn authorizations(&self) -> BTreeSet<String> {
        self.shared.stats.authorizations()
    }

    /// Every chat completion and message request body received, in arrival order, parsed; bodies
    /// that are not JSON are left out.
    pub fn bodies(&self) -> Vec<Value> {
        self.shared.stats.bodies()
    }

    /// Requests answered with a valid verdict. A stalled request counts if it was answered
    /// after its stall, even when its client had given up by then.
    pub fn verdicts(&self) -> u64 {
        self.shared.stats.verdicts()
    }

    /// Faults injected by [`Faults`], of every kind.
    pub fn faults_injected(&self) -> u64 {
        self.faults().values().sum()
    }

    /// Faults injected by [`Faults`], by kind: `"429"`, `"500"`, `"503"`, `"529"`, `"stall"`,
    /// `"malformed_json"`, `"truncated"`, `"wrong_content_type"`, `"malformed_verdict"`. Kinds
    /// never injected are absent.
    pub fn faults(&self) -> BTreeMap<&'static str, u64> {
        self.shared.stats.faults()
    }

    /// Requests answered with 429 by the [`RateLimit`].
    pub fn rate_limited(&self) -> u64 {
        self.shared.stats.rate_limited()
    }

    /// How many responses were sent with each HTTP status (a truncated body counts as its 200).
    pub fn status_counts(&self) -> BTreeMap<u16, u64> {
        self.shared.stats.status_counts()
    }
}

impl Drop for FakeJudge {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests;
