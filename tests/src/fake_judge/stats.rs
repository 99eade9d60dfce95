//! What the fake judge saw and did, for tests to assert on.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

/// Counters and records of every request; each is safe to update from concurrent handlers.
#[derive(Default)]
pub(crate) struct Stats {
    requests: AtomicU64,
    rejected: AtomicU64,
    rate_limited: AtomicU64,
    verdicts: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    judged: Mutex<Vec<String>>,
    models: Mutex<BTreeSet<String>>,
    authorizations: Mutex<BTreeSet<String>>,
    bodies: Mutex<Vec<Value>>,
    faults: Mutex<BTreeMap<&'static str, u64>>,
    statuses: Mutex<BTreeMap<u16, u64>>,
    /// When each request arrived.
    arrivals: Mutex<Vec<std::time::Instant>>,
}

impl Stats {
    /// Counts a request and marks it in flight until the guard drops.
    pub fn arrive(&self) -> InFlight<'_> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.arrivals.lock().unwrap().push(std::time::Instant::now());
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(self)
    }

    /// When each request arrived, in order.
    pub fn arrivals(&self) -> Vec<std::time::Instant> {
        self.arrivals.lock().unwrap().clone()
    }

    pub fn record_authorization(&self, value: &str) {
        self.authorizations.lock().unwrap().insert(value.to_owned());
    }

    pub fn record_body(&self, body: &Value) {
        self.bodies.lock().unwrap().push(body.clone());
    }

    pub fn record_model(&self, model: &str) {
        self.models.lock().unwrap().insert(model.to_owned());
    }

    pub fn record_rejected(&self) {
        self.rejected.fetch_add(1, Ordering::SeqCst);
    }

    pub fn record_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::SeqCst);
    }

    pub fn record_fault(&self, kind: &'static str) {
        *self.faults.lock().unwrap().entry(kind).or_default() += 1;
    }

    pub fn record_verdict(&self, output: &str) {
        self.verdicts.fetch_add(1, Ordering::SeqCst);
        self.judged.lock().unwrap().push(output.to_owned());
    }

    pub fn record_status(&self, status: u16) {
        *self.statuses.lock().unwrap().entry(status).or_default() += 1;
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::SeqCst)
    }

    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::SeqCst)
    }

    pub fn verdicts(&self) -> u64 {
        self.verdicts.load(Ordering::SeqCst)
    }

    pub fn max_in_flight(&self) -> u64 {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    pub fn judged_outputs(&self) -> Vec<String> {
        self.judged.lock().unwrap().clone()
    }

    pub fn models(&self) -> BTreeSet<String> {
        self.models.lock().unwrap().clone()
    }

    pub fn authorizations(&self) -> BTreeSet<String> {
        self.authorizations.lock().unwrap().clone()
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    pub fn faults(&self) -> BTreeMap<&'static str, u64> {
        self.faults.lock().unwrap().clone()
    }

    pub fn status_counts(&self) -> BTreeMap<u16, u64> {
        self.statuses.lock().unwrap().clone()
    }
}

/// A request in flight; dropping it ends the request.
pub(crate) struct InFlight<'a>(&'a Stats);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
