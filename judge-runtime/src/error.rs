//! The errors of each boundary: configuration, the judge (and its providers), the verdict cache.
//!
//! Messages are lowercase and end with what to do about the problem.

use std::path::PathBuf;

/// A setting could not be read: a bad environment variable, a bad `judge.toml`, or no judge at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An environment variable holds a value that does not parse.
    #[error("environment variable {var}={value:?} is invalid: {reason}; fix or unset it")]
    InvalidEnv {
        /// The variable's name, e.g. `JUDGE_THRESHOLD`.
        var: &'static str,
        /// The value found.
        value: String,
        /// What a valid value looks like.
        reason: String,
    },
    /// `judge.toml` could not be read or is not valid TOML.
    #[error("cannot read {}: {reason}", path.display())]
    FileUnreadable {
        /// The file.
        path: PathBuf,
        /// The I/O or TOML syntax error.
        reason: String,
    },
    /// A key of `judge.toml` is unknown or holds a bad value.
    #[error("{}: key `{key}` {reason}", path.display())]
    InvalidFileKey {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// What is wrong and what is valid.
        reason: String,
    },
    /// A value given in an `#[llm_eval]` attribute is invalid at run time (e.g. an unknown provider).
    #[error("attribute `{key}` of {eval}: {reason}")]
    InvalidAttribute {
        /// The eval's name.
        eval: String,
        /// The attribute key.
        key: &'static str,
        /// What is wrong and what is valid.
        reason: String,
    },
    /// A judge specification (`provider:model`) does not parse or names an unknown provider.
    #[error("judge {spec:?} (from {source_name}) is invalid: {reason}")]
    InvalidJudge {
        /// The specification as written.
        spec: String,
        /// Where it came from: an attribute, `JUDGE_MODEL` or `judge.toml`.
        source_name: String,
        /// What is wrong and what is valid.
        reason: String,
    },
    /// No judge is configured anywhere.
    #[error(
        "no judge is configured: set JUDGE_MODEL (e.g. JUDGE_MODEL=openai:gpt-4.1-mini with OPENAI_API_KEY, \
         or JUDGE_MODEL=openai:MODEL with OPENAI_BASE_URL=http://127.0.0.1:11434/v1 for a local \
         OpenAI-compatible server), or `judge = \"provider:model\"` in judge.toml at the workspace root \
         ({}), or `judge = \"...\"` on the eval; an API key alone does not pick a model. \
         Offline, JUDGE_MODEL=local uses the embedded judge: enable judge-runtime's `local` feature and \
         install its model with: {install_command}",
        workspace_root.display()
    )]
    NoJudge {
        /// Where `judge.toml` was looked for.
        workspace_root: PathBuf,
        /// The command that installs the embedded judge's model (`cargo judge model install`).
        install_command: String,
    },
    /// `max_judge_cost` caps the run, but judge.toml gives no price for a judge it uses.
    #[error(
        "`max_judge_cost` ({max_judge_cost}) caps the run's cost, but judge.toml gives no price for {judge}: add [prices.\"{judge}\"] with prompt = PRICE, completion = PRICE (per million tokens), or unset max_judge_cost"
    )]
    Unpriced {
        /// The judge, `provider:model`.
        judge: String,
        /// The cap.
        max_judge_cost: f64,
    },
    /// A dataset that cannot be read, or a row whose settings do not fit.
    #[error("{0}")]
    Dataset(#[from] DatasetError),
    /// The embedded judge cannot be used: not compiled in, or its model file is missing or damaged.
    #[error("{reason}")]
    LocalModel {
        /// What is wrong and the command that fixes it.
        reason: String,
    },
}

/// A judge could not deliver a verdict.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JudgeError {
    /// The provider answered with an error status.
    #[error("{provider} answered HTTP {status}: {}{}", provider_message.as_ref().unwrap_or(body_excerpt), hint(*key_var, base_url_var, *status, provider_message.as_deref().unwrap_or(body_excerpt)))]
    Http {
        /// The provider.
        provider: &'static str,
        /// The variable of the provider's API key, if it takes one: named when the key is refused.
        key_var: Option<&'static str>,
        /// The variable of the provider's base URL (`JUDGE_MODEL` for a provider without one).
        base_url_var: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The provider's own error message, when the body carried one.
        provider_message: Option<String>,
        /// The start of the raw body.
        body_excerpt: String,
    },
    /// The request could not be sent or its answer not read (connection refused, timeout, reset).
    #[error("{provider} could not be reached at {url}: {reason}; check the base URL and that the server is up")]
    Transport {
        /// The provider.
        provider: &'static str,
        /// The URL called.
        url: String,
        /// The transport error, with its causes.
        reason: String,
    },
    /// The provider answered 2xx with a body that is not the documented response.
    #[error("{provider} sent a response that is not a chat completion: {reason}: {body_excerpt}")]
    MalformedResponse {
        /// The provider.
        provider: &'static str,
        /// What is missing or wrong.
        reason: String,
        /// The start of the raw body.
        body_excerpt: String,
    },
    /// The embedded judge failed (llama.cpp could not load the model or decode).
    #[error("the embedded judge failed: {reason}")]
    Local {
        /// What llama.cpp reported.
        reason: String,
    },
    /// A call needs an API key that is not set. Only a call needs it: verdicts replayed from the
    /// cache need none.
    #[error("{provider} needs an API key: set {var}, or point {base_url_var} at a server that needs none")]
    MissingApiKey {
        /// The provider.
        provider: &'static str,
        /// The key's variable.
        var: &'static str,
        /// The base URL's variable.
        base_url_var: &'static str,
    },
    /// A transient failure (429, 5xx, timeout, reset, truncated body) persisted through every
    /// attempt.
    #[error("gave up after {attempts} attempts ({}); the last failure: {last}", retry_hint())]
    RetriesExhausted {
        /// Attempts made, the first included.
        attempts: u32,
        /// The last attempt's failure.
        last: Box<JudgeError>,
    },
    /// The provider asked to wait longer before a retry (`Retry-After`) than `max_retry_wait` allows.
    #[error(
        "{provider} asked to wait {} s before retrying (Retry-After), more than `max_retry_wait` allows ({} s): raise it (judge.toml `max_retry_wait` or JUDGE_MAX_RETRY_WAIT) or rerun later; the refused attempt: {last}",
        seconds(*asked),
        seconds(*cap)
    )]
    RetryAfterTooLong {
        /// The provider.
        provider: &'static str,
        /// How long it asked to wait.
        asked: std::time::Duration,
        /// `max_retry_wait`.
        cap: std::time::Duration,
        /// The refused attempt's failure.
        last: Box<JudgeError>,
    },
    /// The run's budget of judge calls or tokens is spent: no new call is made.
    #[error(
        "the run's judge budget is spent ({spent}): `{limit}` stops new judge calls; raise it (judge.toml `{limit}` or {var}) or rerun with the verdicts cached so far"
    )]
    BudgetExhausted {
        /// The setting that stopped the call: `max_judge_calls` or `max_judge_tokens`.
        limit: &'static str,
        /// Its environment variable.
        var: &'static str,
        /// What was spent.
        spent: String,
    },
    /// The ledger that the processes of a nextest run share (budget, pacing, claims) could not be
    /// read or written.
    #[error("the run's ledger at {} could not be updated: {reason}; check that the target directory is writable", path.display())]
    Ledger {
        /// The ledger file.
        path: std::path::PathBuf,
        /// What failed.
        reason: String,
    },
    /// The judge's reply could not be read as a verdict, even after being asked again.
    #[error("the judge's reply is not a valid verdict after {attempts} attempts ({reason}); last reply: {raw_excerpt}")]
    UnparseableVerdict {
        /// How many replies were read.
        attempts: u32,
        /// Why the last one was rejected.
        reason: String,
        /// The start of the last raw reply.
        raw_excerpt: String,
    },
}

impl JudgeError {
    /// `max_judge_calls` stopped a call: `calls` of `max` made.
    pub(crate) fn calls_spent(calls: u64, max: u64) -> JudgeError {
        JudgeError::BudgetExhausted {
            limit: "max_judge_calls",
            var: "JUDGE_MAX_JUDGE_CALLS",
            spent: format!("{calls} of {max} judge calls made"),
        }
    }

    /// `max_judge_cost` stopped a call that may cost up to `estimated`.
    pub(crate) fn cost_spent(cost: f64, reserved: f64, max: f64, estimated: f64) -> JudgeError {
        JudgeError::BudgetExhausted {
            limit: "max_judge_cost",
            var: "JUDGE_MAX_JUDGE_COST",
            spent: format!(
                "{cost:.4} of {max} spent and {reserved:.4} reserved by calls in flight, by judge.toml's prices; the next call may cost up to {estimated:.4}"
            ),
        }
    }

    /// `max_judge_tokens` stopped a call of up to `estimated` tokens.
    pub(crate) fn tokens_spent(tokens: u64, reserved: u64, max: u64, estimated: u64) -> JudgeError {
        JudgeError::BudgetExhausted {
            limit: "max_judge_tokens",
            var: "JUDGE_MAX_JUDGE_TOKENS",
            spent: format!(
                "{tokens} of {max} tokens used and {reserved} reserved by calls in flight; the next call may use up to {estimated}"
            ),
        }
    }
}

/// What to do about an HTTP error of a provider whose key and base URL are in `key_var` and
/// `base_var`: which variable to fix.
fn hint(key_var: Option<&str>, base_var: &str, status: u16, message: &str) -> String {
    match status {
        401 | 403 => match key_var {
            Some(var) => format!("; the API key was refused: check {var}"),
            None => format!("; the server wants credentials this provider sends none of; check {base_var}"),
        },
        404 => format!("; check the model name and the base URL ({base_var})"),
        429 if message.contains("quota") => {
            "; the account's quota is spent: retrying cannot help; add credit or use another key".to_owned()
        }
        429 => "; rate limited: lower max_concurrency or set requests_per_minute / tokens_per_minute".to_owned(),
        300..=399 => format!("; the server redirected, which is not followed: set {base_var} to the final address"),
        400 | 422 => "; the server rejected the request".to_owned(),
        _ => String::new(),
    }
}

/// A duration in seconds, as messages write it: `45`, `0.5`.
fn seconds(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 { format!("{s:.0}") } else { format!("{s:.1}") }
}

fn retry_hint() -> &'static str {
    "raise `max_attempts` (JUDGE_MAX_ATTEMPTS) or `timeout` (JUDGE_TIMEOUT) if the provider is slow or overloaded"
}

/// The verdict cache could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// A cache directory or file could not be created or written.
    #[error("verdict cache at {} is not writable: {source}; check permissions or set JUDGE_CACHE_DIR", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `JUDGE_CACHE=replay` and the verdict is not in the cache.
    #[error(
        "no cached verdict for this sample (key {key}) in {location}, and JUDGE_CACHE=replay forbids judge \
         calls; run the evals once with a judge (JUDGE_CACHE=on) and keep that cache"
    )]
    ReplayMiss {
        /// The cache key.
        key: String,
        /// The cache: its directory, or `s3://BUCKET/PREFIX`.
        location: String,
    },
    /// The object store holding the cache (`JUDGE_CACHE_DIR=s3://…`) failed a request, or could
    /// not be set up from the environment.
    #[error(
        "the verdict cache at {location} could not be {action}: {message}; check AWS_ENDPOINT_URL, \
         AWS_REGION and the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), and \
         that the bucket exists (the cache does not create it), or set JUDGE_CACHE_DIR to a directory"
    )]
    Store {
        /// `s3://BUCKET/PREFIX`.
        location: String,
        /// What was done: "read", "written", "opened".
        action: &'static str,
        /// The store's error, without secrets.
        message: String,
    },
}

/// A dataset (`#[llm_eval(dataset = "…")]`) could not be read: its message starts `PATH:LINE:`,
/// or `PATH:` when it is about the whole file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}: {message}", path.display(), line.map(|line| format!(":{line}")).unwrap_or_default())]
#[non_exhaustive]
pub struct DatasetError {
    /// The dataset file, resolved.
    pub path: PathBuf,
    /// The line of the row at fault, if one is.
    pub line: Option<usize>,
    /// What is wrong, and what to do.
    pub message: String,
}

impl DatasetError {
    pub(crate) fn new(path: &std::path::Path, line: Option<usize>, message: String) -> Self {
        Self { path: path.to_owned(), line, message }
    }
}

/// A report or the score baseline could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A file could not be written (or its lock taken).
    #[error("cannot write {what} {}: {source}; check the path ({setting}) and its directory's permissions", path.display())]
    Write {
        /// Which file: "the JSON report", "the score baseline", ...
        what: &'static str,
        /// Its setting's variable, e.g. `JUDGE_REPORT_HTML`.
        setting: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The score baseline to compare with is missing or does not parse.
    #[error(
        "cannot read the score baseline {} (JUDGE_SCORE_BASELINE, score_baseline): {reason}; \
         save one with JUDGE_SAVE_SCORE_BASELINE={}, or unset the setting",
        path.display(), path.display()
    )]
    Baseline {
        /// The baseline file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `max_score_drop` without a baseline: the gate would silently never close.
    #[error(
        "max_score_drop (JUDGE_MAX_SCORE_DROP) is set, but there is no score baseline to compare with: \
         set JUDGE_SCORE_BASELINE (score_baseline), or unset max_score_drop"
    )]
    DropWithoutBaseline,
}

/// The message of a caught panic: `panicked: ` and its payload when that is text.
pub(crate) fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string payload".to_owned());
    format!("panicked: {text}")
}
