//! The run's budget of judge calls, tokens and cost (`max_judge_calls`, `max_judge_tokens`,
//! `max_judge_cost`). A call is admitted only if it cannot overspend: its tokens (and, where
//! judge.toml prices the judge, its cost) are estimated and reserved before it is sent, and the
//! reservation is replaced by what the provider reports afterwards. Once spent, no new call is made
//! and the evals that needed one fail with [`JudgeError::BudgetExhausted`].
//!
//! Under nextest the run's processes keep one budget, in their shared [`Ledger`].

use std::sync::{Arc, Mutex};

use crate::error::JudgeError;
use crate::judge::transport::ledger::{Ledger, Limits, Spending};

/// Limits and spending of one run.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    limits: Limits,
    spent: Mutex<Spending>,
    /// The budget of a run that spans processes; this process's own tally is then unused.
    ledger: Option<Arc<Ledger>>,
}

/// A call's claim on the budget, settled when the call ends. A call that is dropped unsettled
/// (its eval was cancelled) gives its reservation back; its call still counts.
#[derive(Debug)]
#[must_use = "a reservation is settled with Reservation::settle"]
pub(crate) struct Reservation<'a> {
    budget: &'a Budget,
    tokens: u64,
    cost: f64,
    /// Its number in the run's ledger, when the run keeps one.
    shared: Option<u64>,
    /// Tokens used and their cost, once settled.
    used: (u64, f64),
}

impl Reservation<'_> {
    /// Ends the call: its reservation is replaced by the tokens it used and their cost (as
    /// reported; none for a call that failed before the provider said).
    pub fn settle(mut self, used_tokens: u64, cost: f64) {
        self.used = (used_tokens, cost);
        // Drop records it and releases the reservation.
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let (tokens, cost) = self.used;
        match (&self.budget.ledger, self.shared) {
            // A ledger that cannot be written now keeps the reservation until this process ends,
            // when the ledger drops it: it errs on the side of spending less.
            (Some(ledger), Some(id)) => drop(ledger.settle(id, tokens, cost)),
            _ => {
                let mut spent = self.budget.spent.lock().unwrap_or_else(|e| e.into_inner());
                spent.reserved -= self.tokens;
                spent.reserved_cost -= self.cost;
                spent.tokens += tokens;
                spent.cost += cost;
            }
        }
    }
}

impl Budget {
    pub fn new(limits: Limits) -> Self {
        Self { limits, spent: Mutex::default(), ledger: None }
    }

    /// The budget of the run `ledger` keeps, shared with its other processes.
    pub fn shared(self, ledger: Option<Arc<Ledger>>) -> Self {
        Self { ledger, ..self }
    }

    /// Claims one call of up to `estimated_tokens` tokens (and `estimated_cost`, when the judge
    /// is priced), or says which limit it would pass.
    pub fn reserve(&self, estimated_tokens: u64, estimated_cost: Option<f64>) -> Result<Reservation<'_>, JudgeError> {
        let cost = estimated_cost.unwrap_or(0.0);
        let reservation = |shared| Reservation { budget: self, tokens: estimated_tokens, cost, shared, used: (0, 0.0) };
        if let Some(ledger) = &self.ledger {
            return ledger.reserve(self.limits, estimated_tokens, cost).map(|id| reservation(Some(id)));
        }
        let mut spent = self.spent.lock().unwrap_or_else(|e| e.into_inner());
        spent.admits(self.limits, estimated_tokens, cost)?;
        spent.calls += 1;
        spent.reserved += estimated_tokens;
        spent.reserved_cost += cost;
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
            let r = budget.reserve(1_000_000, None).unwrap();
            r.settle(1_000_000, 0.0);
        }
    }

    #[test]
    fn calls_stop_at_the_limit() {
        let budget = Budget::new(Limits { max_calls: Some(2), ..Limits::default() });
        let (a, b) = (budget.reserve(10, None).unwrap(), budget.reserve(10, None).unwrap());
        let err = budget.reserve(10, None).unwrap_err().to_string();
        assert!(err.contains("max_judge_calls") && err.contains("2 of 2"), "{err}");
        a.settle(5, 0.0);
        b.settle(5, 0.0);
        assert!(budget.reserve(1, None).is_err(), "settling does not give calls back");
    }

    #[test]
    fn tokens_in_flight_are_reserved_so_the_limit_is_never_passed() {
        let budget = Budget::new(Limits { max_tokens: Some(1000), ..Limits::default() });
        let a = budget.reserve(600, None).unwrap();
        let err = budget.reserve(600, None).unwrap_err().to_string();
        assert!(err.contains("max_judge_tokens") && err.contains("600 reserved"), "{err}");
        // The call used less than estimated: the rest is free again.
        a.settle(300, 0.0);
        let b = budget.reserve(600, None).unwrap();
        b.settle(650, 0.0);
        assert!(budget.reserve(100, None).is_err(), "950 used: 100 more would pass 1000");
        let c = budget.reserve(50, None).unwrap();
        c.settle(50, 0.0);
    }

    #[test]
    fn a_priced_judge_stops_at_the_cost_limit() {
        let budget = Budget::new(Limits { max_cost: Some(1.0), ..Limits::default() });
        let a = budget.reserve(10, Some(0.6)).unwrap();
        let err = budget.reserve(10, Some(0.6)).unwrap_err().to_string();
        assert!(err.contains("max_judge_cost") && err.contains("JUDGE_MAX_JUDGE_COST"), "{err}");
        a.settle(10, 0.2);
        budget.reserve(10, Some(0.6)).unwrap().settle(10, 0.7);
        assert!(budget.reserve(10, Some(0.2)).is_err(), "0.9 spent: 0.2 more would pass 1.0");
        assert!(budget.reserve(10, None).is_ok(), "an unpriced call costs nothing");
    }

    #[test]
    fn a_dropped_call_gives_its_tokens_back() {
        let budget = Budget::new(Limits { max_calls: Some(3), max_tokens: Some(1000), max_cost: None });
        drop(budget.reserve(900, None).unwrap());
        let a = budget.reserve(900, None).unwrap();
        a.settle(100, 0.0);
        assert!(budget.reserve(950, None).is_err() && budget.reserve(900, None).is_ok());
        let err = budget.reserve(1, None).unwrap_err().to_string();
        assert!(err.contains("3 of 3 judge calls"), "dropped calls still count: {err}");
    }
}
