//! Retries of judge requests: which failures are worth another attempt (429, 5xx, 408, timeouts,
//! connection errors) and which are fatal, how long to wait (capped exponential backoff with
//! jitter), and the provider's `Retry-After`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::error::JudgeError;

/// How failed requests are retried.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first backoff; doubled after each failure.
    pub base_delay: Duration,
    /// No backoff is longer than this.
    pub max_delay: Duration,
    /// The longest `Retry-After` waited out (`max_retry_wait`); a provider that asks for longer
    /// fails the request, saying so.
    pub max_retry_wait: Duration,
}

/// The declared defaults of `max_attempts` and `max_retry_wait`.
impl Default for RetryPolicy {
    fn default() -> Self {
        let declared = crate::settings::run_defaults();
        Self {
            max_attempts: declared.max_attempts,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            max_retry_wait: declared.max_retry_wait,
        }
    }
}

/// A failed attempt, classified.
pub(crate) enum Failure {
    /// Worth another attempt, after `retry_after` if the provider said; `throttled` for a 429.
    Transient {
        error: JudgeError,
        retry_after: Option<Duration>,
        throttled: bool,
    },
    Fatal(JudgeError),
}

impl Failure {
    pub(crate) fn transient(error: JudgeError, retry_after: Option<Duration>) -> Self {
        Self::Transient { error, retry_after, throttled: false }
    }
}

/// 408, 429 and 5xx (Anthropic's 529 included) are worth retrying, except a 429 that says the
/// quota is spent and a 500 that is a rejection of the request in disguise (llama-cpp-python
/// answers its request validation errors with 500): the same request would fail again.
pub(crate) fn is_transient(status: u16, body: &str) -> bool {
    match status {
        429 => !body.contains("insufficient_quota"),
        500 => !body.contains("validation error"),
        408 | 501..=599 => true,
        _ => false,
    }
}

/// `Retry-After` as delay-seconds or as an HTTP-date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let when = httpdate_to_system_time(value)?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// Parses the IMF-fixdate form of RFC 9110 (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form
/// servers are allowed to send.
fn httpdate_to_system_time(value: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    let day: u64 = day.parse().ok()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| m == month)? as u64
        + 1;
    let year: u64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    // Days from the civil date (Howard Hinnant's algorithm), valid for years after 1970.
    let (y, mo) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(days * 86_400 + h * 3600 + m * 60 + s))
}

/// How long to wait before attempt `attempt + 1`: what the provider asked (`Retry-After`), or a
/// backoff without it. `Err` with what was asked when that is longer than `max_retry_wait`.
pub(crate) fn delay(policy: RetryPolicy, retry_after: Option<Duration>, attempt: u32) -> Result<Duration, Duration> {
    match retry_after {
        Some(asked) if asked > policy.max_retry_wait => Err(asked),
        Some(asked) => Ok(asked),
        None => Ok(backoff(policy, attempt)),
    }
}

/// Capped exponential backoff with full jitter in its upper half: `base·2^(n-1)·[0.5, 1.0)`.
pub(crate) fn backoff(policy: RetryPolicy, attempt: u32) -> Duration {
    let exp = policy.base_delay.saturating_mul(1 << (attempt - 1).min(16)).min(policy.max_delay);
    exp.mul_f64(0.5 + jitter() / 2.0)
}

/// A number in `[0, 1)`: a splitmix64 step over the clock and a counter. Jitter needs spread across
/// concurrent tasks, not cryptographic quality.
fn jitter() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut z = nanos ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_waited_in_full_up_to_the_cap() {
        let policy = RetryPolicy { max_retry_wait: Duration::from_secs(60), ..RetryPolicy::default() };
        // Longer than the backoff's cap (30 s), within max_retry_wait: waited as asked.
        assert_eq!(delay(policy, Some(Duration::from_secs(45)), 1), Ok(Duration::from_secs(45)));
        assert_eq!(delay(policy, Some(Duration::from_secs(60)), 1), Ok(Duration::from_secs(60)));
        assert_eq!(delay(policy, Some(Duration::from_secs(61)), 1), Err(Duration::from_secs(61)));
        assert!(delay(policy, None, 30).unwrap() <= policy.max_delay);
    }

    #[test]
    fn classifies_statuses() {
        assert!(is_transient(429, "{}"));
        assert!(!is_transient(429, r#"{"error":{"code":"insufficient_quota"}}"#));
        assert!(is_transient(408, ""));
        assert!(is_transient(503, ""));
        assert!(is_transient(500, "{}"));
        assert!(!is_transient(500, r#"{"error":{"message":"1 validation error: response_format"}}"#));
        for fatal in [400, 401, 403, 404, 422] {
            assert!(!is_transient(fatal, ""), "{fatal}");
        }
    }

    #[test]
    fn reads_retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(
            httpdate_to_system_time("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            let first = backoff(policy, 1);
            assert!(first >= Duration::from_millis(50) && first < Duration::from_millis(100), "{first:?}");
            let third = backoff(policy, 3);
            assert!(third >= Duration::from_millis(200) && third < Duration::from_millis(400), "{third:?}");
            assert!(backoff(policy, 30) < Duration::from_secs(1));
        }
    }
}
