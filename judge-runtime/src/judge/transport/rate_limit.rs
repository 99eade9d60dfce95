//! Rate limits of one provider endpoint, shared by every request of a run: optional
//! requests-per-minute and tokens-per-minute pacing, and a common pause when the provider
//! answers 429, so that a storm of 429s backs the whole provider off rather than each request on
//! its own.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::error::JudgeError;
use crate::judge::transport::ledger::Ledger;

/// Spaces events out so that at most `per_minute` units pass per minute: each unit reserves
/// `60 s / per_minute` of a shared schedule (a leaky bucket without burst). Waiting requests are
/// served in the order they reserved.
#[derive(Debug)]
pub(crate) struct Pacer {
    per_unit: Duration,
    next_free: Mutex<Option<Instant>>,
}

impl Pacer {
    pub fn per_minute(per_minute: u64) -> Self {
        Self { per_unit: Duration::from_secs(60).div_f64(per_minute.max(1) as f64), next_free: Mutex::new(None) }
    }

    /// Reserves `units` and returns when this reservation may start.
    fn reserve(&self, units: u64, now: Instant) -> Instant {
        let mut next_free = self.next_free.lock().unwrap_or_else(|e| e.into_inner());
        let start = next_free.map_or(now, |free| free.max(now));
        *next_free = Some(start + self.per_unit.saturating_mul(u32::try_from(units).unwrap_or(u32::MAX)));
        start
    }
}

/// The shared state of one endpoint: its pacers and its 429 pause.
#[derive(Debug, Default)]
pub(crate) struct ProviderGate {
    requests: Option<Pacer>,
    tokens: Option<Pacer>,
    throttle: Mutex<Throttle>,
    /// Under nextest: the run's ledger and this endpoint's name in it, whose schedule and pause
    /// every process of the run keeps.
    shared: Option<(Arc<Ledger>, String)>,
    limits: (Option<u32>, Option<u64>),
}

#[derive(Debug, Default)]
struct Throttle {
    /// No request is sent before this.
    paused_until: Option<Instant>,
    /// 429s answered since the last success; grows the shared backoff.
    streak: u32,
}

impl ProviderGate {
    pub fn new(requests_per_minute: Option<u32>, tokens_per_minute: Option<u64>) -> Self {
        Self {
            requests: requests_per_minute.map(|n| Pacer::per_minute(n.into())),
            tokens: tokens_per_minute.map(Pacer::per_minute),
            throttle: Mutex::default(),
            shared: None,
            limits: (requests_per_minute, tokens_per_minute),
        }
    }

    /// The gate of `endpoint` in the run that `ledger` keeps: its pacing and pause are run-wide.
    pub fn shared(self, ledger: Option<Arc<Ledger>>, endpoint: &str) -> Self {
        Self { shared: ledger.map(|ledger| (ledger, endpoint.to_owned())), ..self }
    }

    /// Waits for this request's turn: until the provider's pause is over and the pacers allow a
    /// request of `estimated_tokens` tokens.
    pub async fn admit(&self, estimated_tokens: u64) -> Result<(), JudgeError> {
        if let Some((ledger, endpoint)) = &self.shared {
            let (per_minute, tokens_per_minute) = self.limits;
            let start = ledger.schedule(endpoint, per_minute, tokens_per_minute, estimated_tokens)?;
            sleep_until(start).await;
            // A pause may begin, or be extended, by any process while this request waits for it.
            while let Some(until) = ledger.paused_until(endpoint)? {
                sleep_until(until).await;
            }
            return Ok(());
        }
        let now = Instant::now();
        let mut start = now;
        if let Some(pacer) = &self.requests {
            start = start.max(pacer.reserve(1, now));
        }
        if let Some(pacer) = &self.tokens {
            start = start.max(pacer.reserve(estimated_tokens, now));
        }
        tokio::time::sleep_until(start).await;
        // A pause may begin, or be extended, while this request waits for it.
        while let Some(until) = self.paused_until() {
            tokio::time::sleep_until(until).await;
        }
        Ok(())
    }

    fn paused_until(&self) -> Option<Instant> {
        let throttle = self.throttle.lock().unwrap_or_else(|e| e.into_inner());
        throttle.paused_until.filter(|until| *until > Instant::now())
    }

    /// The provider answered 429: every request to it waits `retry_after` (when the provider said
    /// how long) or the shared backoff for the current streak of 429s. Returns the pause.
    pub fn throttled(&self, retry_after: Option<Duration>, backoff: impl Fn(u32) -> Duration) -> Duration {
        let mut throttle = self.throttle.lock().unwrap_or_else(|e| e.into_inner());
        throttle.streak += 1;
        let pause = retry_after.unwrap_or_else(|| backoff(throttle.streak));
        let until = Instant::now() + pause;
        throttle.paused_until = Some(throttle.paused_until.map_or(until, |current| current.max(until)));
        if let Some((ledger, endpoint)) = &self.shared {
            // Not kept, the pause still holds in this process; the others learn of it by their 429s.
            drop(ledger.pause(endpoint, SystemTime::now() + pause));
        }
        pause
    }

    /// A request succeeded: the 429 streak is over.
    pub fn succeeded(&self) {
        self.throttle.lock().unwrap_or_else(|e| e.into_inner()).streak = 0;
    }
}

/// Sleeps until `time` on the system clock (which the processes of a run share).
async fn sleep_until(time: SystemTime) {
    if let Ok(wait) = time.duration_since(SystemTime::now()) {
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pacer_spaces_reservations_evenly() {
        let pacer = Pacer::per_minute(120);
        let now = Instant::now();
        let starts: Vec<Duration> = (0..4).map(|_| pacer.reserve(1, now) - now).collect();
        assert_eq!(starts, [0, 500, 1000, 1500].map(Duration::from_millis));
        // Units weigh: 3 units take three slots.
        let tokens = Pacer::per_minute(60);
        assert_eq!(tokens.reserve(3, now), now);
        assert_eq!(tokens.reserve(1, now) - now, Duration::from_secs(3));
    }

    #[test]
    fn an_idle_pacer_does_not_bank_capacity() {
        let pacer = Pacer::per_minute(60);
        let now = Instant::now();
        pacer.reserve(1, now);
        let later = now + Duration::from_secs(10);
        assert_eq!(pacer.reserve(1, later), later);
        assert_eq!(pacer.reserve(1, later) - later, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_every_request_to_the_provider() {
        let gate = ProviderGate::new(None, None);
        let start = Instant::now();
        gate.admit(0).await.unwrap();
        assert_eq!(Instant::now(), start, "no pause before a 429");
        let pause = gate.throttled(None, |streak| Duration::from_secs(u64::from(streak)));
        assert_eq!(pause, Duration::from_secs(1));
        assert_eq!(gate.throttled(None, |streak| Duration::from_secs(u64::from(streak))), Duration::from_secs(2));
        // Retry-After wins over the backoff; the pause only ever extends.
        gate.throttled(Some(Duration::from_millis(100)), |_| Duration::ZERO);
        let (a, b) = tokio::join!(gate.admit(0), gate.admit(0));
        let _ = (a, b);
        assert_eq!(Instant::now() - start, Duration::from_secs(2));
        gate.succeeded();
        assert_eq!(gate.throttled(None, |streak| Duration::from_secs(u64::from(streak))), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn requests_per_minute_are_paced() {
        let gate = ProviderGate::new(Some(600), None);
        let start = Instant::now();
        for _ in 0..5 {
            gate.admit(0).await.unwrap();
        }
        assert_eq!(Instant::now() - start, Duration::from_millis(400));
    }
}
