//! What the judge calls of a run cost: calls sent, retries, 429s, tokens. Counted by the HTTP
//! client, summed over the run, and printed at its end.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Tokens a judge call used, as the provider reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens of the request.
    pub prompt_tokens: u64,
    /// Tokens of the reply.
    pub completion_tokens: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Self) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
    }
}

/// Counters shared by every request of a run.
#[derive(Debug, Default)]
pub(crate) struct CallStats {
    calls: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
    /// What priced calls cost, in billionths of the prices' unit; `priced` once a call had a price.
    cost_nanos: AtomicU64,
    priced: AtomicBool,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CallTotals {
    /// HTTP requests sent, retries included.
    pub calls: u64,
    /// Requests that were retries of a failed one.
    pub retries: u64,
    /// 429 answers.
    pub throttled: u64,
    /// Tokens the providers reported.
    pub usage: Usage,
    /// What the calls cost, in billionths of the prices' unit, when judge.toml prices the judges.
    pub cost_nanos: Option<u64>,
}

impl CallTotals {
    /// What the calls cost, by judge.toml's `prices`, when it prices the judges.
    pub fn cost(&self) -> Option<f64> {
        self.cost_nanos.map(|nanos| nanos as f64 / 1e9)
    }
}

impl CallStats {
    pub fn sent(&self, retry: bool) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if retry {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    pub fn used(&self, usage: Usage, cost: Option<f64>) {
        self.prompt_tokens.fetch_add(usage.prompt_tokens, Ordering::Relaxed);
        self.completion_tokens.fetch_add(usage.completion_tokens, Ordering::Relaxed);
        if let Some(cost) = cost {
            self.cost_nanos.fetch_add((cost * 1e9).round() as u64, Ordering::Relaxed);
            self.priced.store(true, Ordering::Relaxed);
        }
    }

    pub fn totals(&self) -> CallTotals {
        CallTotals {
            calls: self.calls.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            usage: Usage {
                prompt_tokens: self.prompt_tokens.load(Ordering::Relaxed),
                completion_tokens: self.completion_tokens.load(Ordering::Relaxed),
            },
            cost_nanos: self.priced.load(Ordering::Relaxed).then(|| self.cost_nanos.load(Ordering::Relaxed)),
        }
    }
}
