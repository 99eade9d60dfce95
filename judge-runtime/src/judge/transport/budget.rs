//! The run's budget of judge calls and tokens (`max_judge_calls`, `max_judge_tokens`). A call is
//! admitted only if it cannot overspend: its tokens are estimated and reserved before it is sent,
//! and the reservation is replaced by what the provider reports afterwards. Once spent, no new
//! call is made and the evals that needed one fail with [`JudgeError::BudgetExhausted`].

use std::sync::Mutex;

use crate::error::JudgeError;

/// Limits and spending of one run.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    max_calls: Option<u64>,
    max_tokens: Option<u64>,
    spent: Mutex<Spent>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Spent {
    calls: u64,
    /// Tokens reported by finished calls.
    tokens: u64,
    /// Tokens reserved by calls in flight.
    reserved: u64,
}

/// A call's claim on the budget, settled when the call ends. A call that is dropped unsettled
/// (its eval was cancelled) gives its reserved tokens back; its call still counts.
#[derive(Debug)]
#[must_use = "a reservation is settled with Reservation::settle"]
pub(crate) struct Reservation<'a> {
    budget: &'a Budget,
    tokens: u64,
}

impl Reservation<'_> {
    /// Ends the call: its reservation is replaced by the tokens it used (as reported; 0 for a
    /// call that failed before the provider said).
    pub fn settle(self, used_tokens: u64) {
        self.budget.spent.lock().unwrap_or_else(|e| e.into_inner()).tokens += used_tokens;
        // Drop releases the reservation.
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.budget.spent.lock().unwrap_or_else(|e| e.into_inner()).reserved -= self.tokens;
    }
}

impl Budget {
    pub fn new(max_calls: Option<u64>, max_tokens: Option<u64>) -> Self {
        Self { max_calls, max_tokens, spent: Mutex::default() }
    }

    /// Claims one call of up to `estimated_tokens` tokens, or says which limit it would pass.
    pub fn reserve(&self, estimated_tokens: u64) -> Result<Reservation<'_>, JudgeError> {
        let mut spent = self.spent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(max) = self.max_calls.filter(|max| spent.calls >= *max) {
            return Err(JudgeError::BudgetExhausted {
                limit: "max_judge_calls",
                var: "JUDGE_MAX_JUDGE_CALLS",
                spent: format!("{} of {max} judge calls made", spent.calls),
            });
        }
        if let Some(max) = self.max_tokens.filter(|max| spent.tokens + spent.reserved + estimated_tokens > *max) {
            return Err(JudgeError::BudgetExhausted {
                limit: "max_judge_tokens",
                var: "JUDGE_MAX_JUDGE_TOKENS",
                spent: format!(
                    "{} of {max} tokens used and {} reserved by calls in flight; the next call may use up to {estimated_tokens}",
                    spent.tokens, spent.reserved
                ),
            });
        }
        spent.calls += 1;
        spent.reserved += estimated_tokens;
        Ok(Reservation { budget: self, tokens: estimated_tokens })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_by_default() {
        let budget = Budget::default();
        for _ in 0..1000 {
            let r = budget.reserve(1_000_000).unwrap();
            r.settle(1_000_000);
        }
    }

    #[test]
    fn calls_stop_at_the_limit() {
        let budget = Budget::new(Some(2), None);
        let (a, b) = (budget.reserve(10).unwrap(), budget.reserve(10).unwrap());
        let err = budget.reserve(10).unwrap_err().to_string();
        assert!(err.contains("max_judge_calls") && err.contains("2 of 2"), "{err}");
        a.settle(5);
        b.settle(5);
        assert!(budget.reserve(1).is_err(), "settling does not give calls back");
    }

    #[test]
    fn tokens_in_flight_are_reserved_so_the_limit_is_never_passed() {
        let budget = Budget::new(None, Some(1000));
        let a = budget.reserve(600).unwrap();
        let err = budget.reserve(600).unwrap_err().to_string();
        assert!(err.contains("max_judge_tokens") && err.contains("600 reserved"), "{err}");
        // The call used less than estimated: the rest is free again.
        a.settle(300);
        let b = budget.reserve(600).unwrap();
        b.settle(650);
        assert!(budget.reserve(100).is_err(), "950 used: 100 more would pass 1000");
        let c = budget.reserve(50).unwrap();
        c.settle(50);
    }

    #[test]
    fn a_dropped_call_gives_its_tokens_back() {
        let budget = Budget::new(Some(3), Some(1000));
        drop(budget.reserve(900).unwrap());
        let a = budget.reserve(900).unwrap();
        a.settle(100);
        assert!(budget.reserve(950).is_err() && budget.reserve(900).is_ok());
        let err = budget.reserve(1).unwrap_err().to_string();
        assert!(err.contains("3 of 3 judge calls"), "dropped calls still count: {err}");
    }
}
