//! The ledger of a run that spans processes: under `cargo nextest run` each eval is a process of
//! its own, and the processes of one run (one `NEXTEST_RUN_ID`) share, through one small JSON file
//! under the target directory's `judge-locks`, updated under a lock:
//! - the budget (`max_judge_calls`, `max_judge_tokens`): calls made, tokens used, and the tokens
//!   reserved by calls in flight, each reservation held by its process;
//! - the pacing of each provider endpoint (`requests_per_minute`, `tokens_per_minute`) and its 429
//!   pause;
//! - the claims on verdicts being judged, so that two processes never pay for the same verdict:
//!   the second waits for the first's cache entry.
//!
//! A process that dies holding a reservation or a claim loses it: entries of processes that are no
//! longer alive are dropped at the next update. A plain `cargo test` run is one process and keeps
//! no ledger.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::JudgeError;

/// The ledger file of one run, shared by its processes.
#[derive(Debug)]
pub(crate) struct Ledger {
    path: PathBuf,
    lock_dir: PathBuf,
    pid: u32,
}

/// What the ledger file holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Book {
    /// Judge calls made, by every process of the run.
    calls: u64,
    /// Tokens that finished calls used.
    tokens: u64,
    /// What finished calls cost, by the judges' prices.
    #[serde(default)]
    cost: f64,
    /// Calls in flight, with the tokens they reserved.
    #[serde(default)]
    held: Vec<Held>,
    /// Each endpoint's schedule and pause.
    #[serde(default)]
    endpoints: BTreeMap<String, Clock>,
    /// Verdicts being judged, by cache key: the process judging each.
    #[serde(default)]
    claims: BTreeMap<String, u32>,
    /// The last reservation's number.
    #[serde(default)]
    last_id: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Held {
    id: u64,
    pid: u32,
    tokens: u64,
    #[serde(default)]
    cost: f64,
}

/// One endpoint's shared schedule, as milliseconds since the Unix epoch.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Clock {
    next_request_ms: u64,
    next_token_ms: u64,
    paused_until_ms: u64,
}

/// The limits of the run's budget.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Limits {
    pub max_calls: Option<u64>,
    pub max_tokens: Option<u64>,
    pub max_cost: Option<f64>,
}

impl Ledger {
    /// The ledger of the nextest run this process belongs to, kept in `lock_dir`; `None` outside
    /// nextest.
    pub fn of_nextest_run(lock_dir: &Path) -> Option<Self> {
        let run = std::env::var("NEXTEST_RUN_ID").ok().filter(|id| !id.trim().is_empty())?;
        // The run id is a UUID; anything else is kept to what a file name can hold.
        let name: String = run.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(64).collect();
        sweep(lock_dir);
        Some(Self::at(lock_dir, &name))
    }

    /// The ledger named `run` in `lock_dir`.
    pub fn at(lock_dir: &Path, run: &str) -> Self {
        Self {
            path: lock_dir.join(format!("run-{run}.ledger.json")),
            lock_dir: lock_dir.to_owned(),
            pid: std::process::id(),
        }
    }

    /// The book as it stands, without the lock: it is always written whole (temporary file, then
    /// rename), so a reader sees one version or the next; one that does not read is empty.
    fn read(&self) -> Book {
        std::fs::read(&self.path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
    }

    /// Reads, changes and writes the book under the lock. A book that does not read (a process
    /// killed mid-write cannot leave one: it is written whole) starts afresh.
    fn update<T>(&self, change: impl FnOnce(&mut Book) -> T) -> Result<T, JudgeError> {
        let failed = |e: std::io::Error| JudgeError::Ledger { path: self.path.clone(), reason: e.to_string() };
        crate::atomic_file::with_lock(&self.lock_dir, &self.path, || {
            let mut book = self.read();
            book.held.retain(|h| alive(h.pid));
            book.claims.retain(|_, pid| alive(*pid));
            let result = change(&mut book);
            let bytes = serde_json::to_vec(&book).expect("a book always serializes");
            crate::atomic_file::write(&self.path, &bytes).map(|()| result)
        })
        .map_err(failed)?
        .map_err(failed)
    }

    /// Claims one call of up to `estimated_tokens` tokens costing up to `estimated_cost` against
    /// the run's `limits`; returns the reservation's number, or says which limit the call would pass.
    pub fn reserve(&self, limits: Limits, estimated_tokens: u64, estimated_cost: f64) -> Result<u64, JudgeError> {
        let pid = self.pid;
        self.update(|book| {
            let reserved: u64 = book.held.iter().map(|h| h.tokens).sum();
            let reserved_cost: f64 = book.held.iter().map(|h| h.cost).sum();
            let spent = Spending { calls: book.calls, tokens: book.tokens, reserved, cost: book.cost, reserved_cost };
            spent.admits(limits, estimated_tokens, estimated_cost)?;
            book.calls += 1;
            book.last_id += 1;
            book.held.push(Held { id: book.last_id, pid, tokens: estimated_tokens, cost: estimated_cost });
            Ok(book.last_id)
        })?
    }

    /// Ends reservation `id`: the `used` tokens and `cost` (none for a call given up) replace what
    /// it reserved.
    pub fn settle(&self, id: u64, used_tokens: u64, cost: f64) -> Result<(), JudgeError> {
        self.update(|book| {
            book.held.retain(|h| h.id != id);
            book.tokens += used_tokens;
            book.cost += cost;
        })
    }

    /// When a request of `tokens` tokens to `endpoint` may start, at most `per_minute` requests
    /// and `tokens_per_minute` tokens per minute run-wide, and not before the endpoint's pause
    /// ends; its slot is reserved.
    pub fn schedule(
        &self,
        endpoint: &str,
        per_minute: Option<u32>,
        tokens_per_minute: Option<u64>,
        tokens: u64,
    ) -> Result<SystemTime, JudgeError> {
        let now = millis(SystemTime::now());
        let start = self.update(|book| {
            let clock = book.endpoints.entry(endpoint.to_owned()).or_default();
            let mut start = now.max(clock.paused_until_ms);
            if let Some(n) = per_minute {
                start = start.max(clock.next_request_ms);
                clock.next_request_ms = start + 60_000 / u64::from(n.max(1));
            }
            if let Some(n) = tokens_per_minute {
                start = start.max(clock.next_token_ms);
                clock.next_token_ms = start + tokens.saturating_mul(60_000) / n.max(1);
            }
            start
        })?;
        Ok(UNIX_EPOCH + Duration::from_millis(start))
    }

    /// Pauses `endpoint` for every process of the run until `until` (a 429).
    pub fn pause(&self, endpoint: &str, until: SystemTime) -> Result<(), JudgeError> {
        self.update(|book| {
            let clock = book.endpoints.entry(endpoint.to_owned()).or_default();
            clock.paused_until_ms = clock.paused_until_ms.max(millis(until));
        })
    }

    /// Until when `endpoint` is paused, if it is.
    pub fn paused_until(&self, endpoint: &str) -> Result<Option<SystemTime>, JudgeError> {
        let until = self.read().endpoints.get(endpoint).map_or(0, |c| c.paused_until_ms);
        Ok((until > millis(SystemTime::now())).then(|| UNIX_EPOCH + Duration::from_millis(until)))
    }

    /// Claims the verdict `key` for this process: `true` if no other live process is judging it.
    pub fn claim(&self, key: &str) -> Result<bool, JudgeError> {
        let pid = self.pid;
        self.update(|book| match book.claims.get(key) {
            Some(other) if *other != pid => false,
            _ => {
                book.claims.insert(key.to_owned(), pid);
                true
            }
        })
    }

    /// Gives up the claim on `key`: its verdict is stored, or judging it failed.
    pub fn release(&self, key: &str) -> Result<(), JudgeError> {
        let pid = self.pid;
        self.update(|book| {
            if book.claims.get(key) == Some(&pid) {
                book.claims.remove(key);
            }
        })
    }
}

/// What a run has spent and reserved, against its limits.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Spending {
    pub calls: u64,
    /// Tokens finished calls used.
    pub tokens: u64,
    /// Tokens calls in flight reserved.
    pub reserved: u64,
    /// What finished calls cost.
    pub cost: f64,
    /// What calls in flight may cost.
    pub reserved_cost: f64,
}

impl Spending {
    /// Whether one more call of up to `tokens` tokens and `cost` stays within `limits`; if not,
    /// which limit stops it.
    pub fn admits(&self, limits: Limits, tokens: u64, cost: f64) -> Result<(), JudgeError> {
        if let Some(max) = limits.max_calls.filter(|max| self.calls >= *max) {
            return Err(JudgeError::calls_spent(self.calls, max));
        }
        if let Some(max) = limits.max_tokens.filter(|max| self.tokens + self.reserved + tokens > *max) {
            return Err(JudgeError::tokens_spent(self.tokens, self.reserved, max, tokens));
        }
        if let Some(max) = limits.max_cost.filter(|max| self.cost + self.reserved_cost + cost > *max) {
            return Err(JudgeError::cost_spent(self.cost, self.reserved_cost, max, cost));
        }
        Ok(())
    }
}

/// A ledger untouched this long belongs to a run that is over.
const FINISHED_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Removes the ledgers of runs that are over, best effort: one small file per nextest run would
/// otherwise pile up in `lock_dir`.
fn sweep(lock_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(lock_dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > FINISHED_AFTER));
        if name.starts_with("run-") && name.ends_with(".ledger.json") && old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Whether process `pid` is alive. Where that cannot be told, it is taken to be.
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") { Path::new("/proc").join(pid.to_string()).exists() } else { true }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_share_one_budget() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (Ledger::at(dir.path(), "r"), Ledger::at(dir.path(), "r"));
        let limits = Limits { max_calls: Some(3), max_tokens: Some(1000), max_cost: None };
        let first = a.reserve(limits, 600, 0.0).unwrap();
        let err = b.reserve(limits, 600, 0.0).unwrap_err().to_string();
        assert!(err.contains("max_judge_tokens") && err.contains("600 reserved"), "{err}");
        a.settle(first, 300, 0.0).unwrap();
        b.settle(b.reserve(limits, 600, 0.0).unwrap(), 100, 0.0).unwrap();
        let err =
            a.reserve(limits, 1, 0.0).map(|_| ()).and_then(|()| b.reserve(limits, 1, 0.0).map(|_| ())).unwrap_err();
        assert!(err.to_string().contains("3 of 3 judge calls"), "{err}");
        assert!(Ledger::at(dir.path(), "other").reserve(limits, 1, 0.0).is_ok(), "another run has its own");
    }

    #[test]
    fn the_dead_hold_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::at(dir.path(), "r");
        let dead = Ledger { pid: u32::MAX, ..Ledger::at(dir.path(), "r") };
        dead.reserve(Limits { max_tokens: Some(100), ..Limits::default() }, 100, 0.0).unwrap();
        assert!(dead.claim("k").unwrap());
        if cfg!(target_os = "linux") {
            assert!(ledger.claim("k").unwrap(), "the claim of a dead process is dropped");
            assert!(ledger.reserve(Limits { max_tokens: Some(100), ..Limits::default() }, 100, 0.0).is_ok());
        }
    }

    #[test]
    fn claims_and_pauses_are_run_wide() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::at(dir.path(), "r");
        let other = Ledger { pid: std::process::id().wrapping_add(0), ..Ledger::at(dir.path(), "r") };
        assert!(ledger.claim("k").unwrap() && other.claim("k").unwrap(), "one process may claim twice");
        ledger.release("k").unwrap();
        let until = SystemTime::now() + Duration::from_secs(5);
        ledger.pause("e", until).unwrap();
        assert!(other.paused_until("e").unwrap().is_some_and(|t| millis(t) == millis(until)));
        assert_eq!(other.paused_until("f").unwrap(), None);
    }

    #[test]
    fn requests_are_spaced_run_wide() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (Ledger::at(dir.path(), "r"), Ledger::at(dir.path(), "r"));
        let first = a.schedule("e", Some(120), None, 10).unwrap();
        let second = b.schedule("e", Some(120), None, 10).unwrap();
        let third = a.schedule("e", Some(120), None, 10).unwrap();
        assert_eq!(second.duration_since(first).unwrap(), Duration::from_millis(500));
        assert_eq!(third.duration_since(second).unwrap(), Duration::from_millis(500));
        let paced = a.schedule("e", None, Some(6000), 100).unwrap();
        assert!(paced.duration_since(first).unwrap() < Duration::from_secs(1), "tokens have a schedule of their own");
    }
}
