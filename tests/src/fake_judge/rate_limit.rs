//! Per-key rate limiting over a sliding window, as providers limit requests per minute.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `requests` requests per API key are accepted in any `window`; more get a 429 whose
/// `Retry-After` is the whole seconds until the oldest accepted request leaves the window.
/// Requests without a key share one allowance.
///
/// ```
/// use std::time::Duration;
/// use judge_tests::RateLimit;
///
/// let three_a_second = RateLimit { requests: 3, window: Duration::from_secs(1) };
/// # let _ = three_a_second;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests accepted per window and key.
    pub requests: u32,
    /// The length of the sliding window.
    pub window: Duration,
}

/// The requests each key made in the current window.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: RateLimit,
    accepted: Mutex<HashMap<Option<String>, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self { limit, accepted: Mutex::new(HashMap::new()) }
    }

    /// Accepts a request of `key` at `now`, or says how long until one would be accepted.
    pub fn admit(&self, key: Option<&str>, now: Instant) -> Result<(), Duration> {
        let mut accepted = self.accepted.lock().unwrap();
        let times = accepted.entry(key.map(str::to_owned)).or_default();
        while times.front().is_some_and(|&t| now.duration_since(t) >= self.limit.window) {
            times.pop_front();
        }
        if times.len() < self.limit.requests as usize {
            times.push_back(now);
            return Ok(());
        }
        Err(times.front().map_or(self.limit.window, |&oldest| oldest + self.limit.window - now))
    }
}

/// `Retry-After` for a wait: its whole seconds, rounded up.
pub(crate) fn retry_after_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn accepts_up_to_the_limit_per_window() {
        let limiter = RateLimiter::new(RateLimit { requests: 2, window: 10 * SECOND });
        let t0 = Instant::now();
        assert_eq!(limiter.admit(Some("a"), t0), Ok(()));
        assert_eq!(limiter.admit(Some("a"), t0 + SECOND), Ok(()));
        assert_eq!(limiter.admit(Some("a"), t0 + 2 * SECOND), Err(8 * SECOND));
        // A refused request does not use the allowance; the window slides.
        assert_eq!(limiter.admit(Some("a"), t0 + 10 * SECOND), Ok(()));
        assert_eq!(limiter.admit(Some("a"), t0 + 10 * SECOND), Err(SECOND));
        assert_eq!(limiter.admit(Some("a"), t0 + 11 * SECOND), Ok(()));
    }

    #[test]
    fn each_key_has_its_own_allowance() {
        let limiter = RateLimiter::new(RateLimit { requests: 1, window: SECOND });
        let t0 = Instant::now();
        assert_eq!(limiter.admit(Some("a"), t0), Ok(()));
        assert_eq!(limiter.admit(Some("b"), t0), Ok(()));
        assert_eq!(limiter.admit(None, t0), Ok(()));
        assert!(limiter.admit(Some("a"), t0).is_err());
        assert!(limiter.admit(None, t0).is_err());
    }

    #[test]
    fn a_zero_limit_refuses_everything() {
        let limiter = RateLimiter::new(RateLimit { requests: 0, window: 2 * SECOND });
        assert_eq!(limiter.admit(None, Instant::now()), Err(2 * SECOND));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(SECOND), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1500)), 2);
    }
}
