//! The run's budget of judge calls and tokens (`max_judge_calls`, `max_judge_tokens`). A call is
//! admitted only if it cannot overspend: its tokens are estimated and reserved before it is sent,
//! and the reservation is replaced by what the provider reports afterwards. Once spent, no new
//! call is made and the evals that needed one fail with [`JudgeError::BudgetExhausted`].
//!
//! Under nextest the run's processes keep one budget, in their shared [`Ledger`].

use std::sync::{Arc, Mutex};

use crate::error::JudgeError;
use crate::judge::transport::ledger::{Ledger, Limits};

/// Limits and spending of one run.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    max_calls: Option<u64>,
    max_tokens: Option<u64>,
    spent: Mutex<Spent>,
    /// The budget of a run that spans processes; this process's own tally is then unused.
    ledger: Option<Arc<Ledger>>,
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
    /// Its number in the run's ledger, when the run keeps one.
    shared: Option<u64>,
    /// Tokens used, once settled.
    used: u64,
}

impl Reservation<'_> {
    /// Ends the call: its reservation is replaced by the tokens it used (as reported; 0 for a
    /// call that failed before the provider said).
    pub fn settle(mut self, used_tokens: u64) {
        self.used = used_tokens;
        // Drop records it and releases the reservation.
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        match (&self.budget.ledger, self.shared) {
            // A ledger that cannot be written now keeps the reservation until this process ends,
            // when the ledger drops it: it errs on the side of spending less.
            (Some(ledger), Some(id)) => drop(ledger.settle(id, self.used)),
            _ => {
                let mut spent = self.budget.spent.lock().unwrap_or_else(|e| e.into_inner());
                spent.reserved -= self.tokens;
                spent.tokens += self.used;
            }
        }
    }
}

impl Budget {
    pub fn new(max_calls: Option<u64>, max_tokens: Option<u64>) -> Self {
        Self { max_calls, max_tokens, spent: Mutex::default(), ledger: None }
    }

    /// The budget of the run `ledger` keeps, shared with its other processes.
    pub fn shared(self, ledger: Option<Arc<Ledger>>) -> Self {
        Self { ledger, ..self }
    }

    /// Claims one call of up to `estimated_tokens` tokens, or says which limit it would pass.
    pub fn reserve(&self, estimated_tokens: u64) -> Result<Reservation<'_>, JudgeError> {
        let reservation = |shared| Reservation { budget: self, tokens: estimated_tokens, shared, used: 0 };
        if let Some(ledger) = &self.ledger {
            let limits = Limits { max_calls: self.max_calls, max_tokens: self.max_tokens };
            return ledger.reserve(limits, estimated_tokens).map(|id| reservation(Some(id)));
        }
        let mut spent = self.spent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(max) = self.max_calls.filter(|max| spent.calls >= *max) {
            return Err(JudgeError::calls_spent(spent.calls, max));
        }
        if let Some(max) = self.max_tokens.filter(|max| spent.tokens + spent.reserved + estimated_tokens > *max) {
            return Err(JudgeError::tokens_spent(spent.tokens, spent.reserved, max, estimated_tokens));
        }
        spent.calls += 1;
        spent.reserved += estimated_tokens;
        Ok(reservation(None))
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
