//! The ranges of the numeric settings, written once: the attribute checks them at compile time, the
//! runtime checks the environment, judge.toml and any attribute the macro did not write.

/// The values a numeric setting takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// The setting's key.
    pub key: &'static str,
    /// What the setting means, where the range alone does not say ("is in seconds").
    pub meaning: Option<&'static str>,
    /// The lowest value.
    pub low: f64,
    /// Whether `low` itself is out of range (a duration is above 0).
    pub low_open: bool,
    /// The highest value; `None`: no bound.
    pub high: Option<f64>,
    /// Whether `high` itself is out of range (`trim` stays below 0.5).
    pub high_open: bool,
    /// Whether the value is a whole number.
    pub whole: bool,
    /// The range in words, after "must be": "in 0.0..=1.0", "a whole number in 1..=10000".
    pub rule: &'static str,
}

impl Range {
    const fn new(key: &'static str, low: f64, high: Option<f64>, rule: &'static str) -> Self {
        Self { key, meaning: None, low, low_open: false, high, high_open: false, whole: false, rule }
    }

    const fn whole(self) -> Self {
        Self { whole: true, ..self }
    }

    const fn meaning(self, meaning: &'static str) -> Self {
        Self { meaning: Some(meaning), ..self }
    }

    /// Whether `v` is in range.
    pub fn contains(&self, v: f64) -> bool {
        let above_low = if self.low_open { v > self.low } else { v >= self.low };
        let below_high = match self.high {
            None => true,
            Some(high) if self.high_open => v < high,
            Some(high) => v <= high,
        };
        v.is_finite() && above_low && below_high && (!self.whole || v.fract() == 0.0)
    }

    /// What the setting must be: "`trim` is the fraction dropped at each end and must be in 0.0..0.5".
    pub fn must(&self) -> String {
        match self.meaning {
            Some(meaning) => format!("`{}` {meaning} and must be {}", self.key, self.rule),
            None => format!("`{}` must be {}", self.key, self.rule),
        }
    }

    /// Checks `v`, as the attribute says it: "`threshold` must be in 0.0..=1.0, found 1.5".
    pub fn check(&self, v: f64) -> Result<(), String> {
        if self.contains(v) { Ok(()) } else { Err(format!("{}, found {v}", self.must())) }
    }

    /// Checks `v`, as the runtime says it after a variable or key: "1.5 is out of range: `threshold`
    /// must be in 0.0..=1.0".
    pub fn check_value(&self, v: f64) -> Result<(), String> {
        if self.contains(v) { Ok(()) } else { Err(format!("{v} is out of range: {}", self.must())) }
    }
}

/// `threshold`: the pass mark of the reduced score.
pub const THRESHOLD: Range = Range::new("threshold", 0.0, Some(1.0), "in 0.0..=1.0");
/// `samples`: outputs generated and judged per eval.
pub const SAMPLES: Range = Range::new("samples", 1.0, Some(10_000.0), "a whole number in 1..=10000").whole();
/// `trim`: the fraction of scores dropped at each end.
pub const TRIM: Range = Range { high_open: true, ..Range::new("trim", 0.0, Some(0.5), "in 0.0..0.5") }
    .meaning("is the fraction dropped at each end");
/// `temperature`: the judge's sampling temperature.
pub const TEMPERATURE: Range = Range::new("temperature", 0.0, Some(2.0), "in 0.0..=2.0");
/// `max_tokens`: the longest judge reply.
pub const MAX_TOKENS: Range = Range::new("max_tokens", 1.0, Some(1_000_000.0), "a whole number in 1..=1000000").whole();
/// `seed`: the judge's sampling seed.
pub const SEED: Range = Range::new("seed", 0.0, None, "a whole number ≥ 0").whole();
/// `timeout`: the limit on one judge request, in seconds.
pub const TIMEOUT: Range =
    Range { low_open: true, ..Range::new("timeout", 0.0, Some(86_400.0), "in (0, 86400]") }.meaning("is in seconds");
/// `deadline`: the limit on one whole eval, in seconds.
pub const DEADLINE: Range = Range { key: "deadline", ..TIMEOUT };
/// `max_attempts`: attempts of a transiently failing judge request, the first included.
pub const MAX_ATTEMPTS: Range =
    Range::new("max_attempts", 1.0, Some(100.0), "a whole number in 1..=100 (1 means no retry)").whole();
/// `max_concurrency`: judge requests in flight at once, per process.
pub const MAX_CONCURRENCY: Range =
    Range::new("max_concurrency", 1.0, Some(4096.0), "a whole number in 1..=4096").whole();
/// `requests_per_minute`: requests to one provider per minute.
pub const REQUESTS_PER_MINUTE: Range =
    Range::new("requests_per_minute", 1.0, Some(u32::MAX as f64), "a whole number ≥ 1").whole();
/// `tokens_per_minute`: tokens to one provider per minute.
pub const TOKENS_PER_MINUTE: Range = Range::new("tokens_per_minute", 1.0, None, "a whole number ≥ 1").whole();
/// `max_judge_calls`: the run's budget of judge calls.
pub const MAX_JUDGE_CALLS: Range = Range { key: "max_judge_calls", ..TOKENS_PER_MINUTE };
/// `max_judge_tokens`: the run's budget of judge tokens.
pub const MAX_JUDGE_TOKENS: Range = Range { key: "max_judge_tokens", ..TOKENS_PER_MINUTE };
/// `max_output_chars`: the output length shown to the judge.
pub const MAX_OUTPUT_CHARS: Range =
    Range::new("max_output_chars", 100.0, Some(100_000_000.0), "a whole number in 100..=100000000").whole();
/// `max_score_drop`: the largest allowed fall below the score baseline.
pub const MAX_SCORE_DROP: Range =
    Range::new("max_score_drop", 0.0, Some(1.0), "in 0.0..=1.0").meaning("is a drop of the 0..1 score");
/// `max_spread`: the largest spread between an ensemble's scores that is not flagged.
pub const MAX_SPREAD: Range = Range::new("max_spread", 0.0, Some(1.0), "in 0.0..=1.0")
    .meaning("is the largest gap between judges' scores not flagged");

/// Every range, for the documentation check.
pub const ALL: &[Range] = &[
    THRESHOLD,
    SAMPLES,
    TRIM,
    TEMPERATURE,
    MAX_TOKENS,
    SEED,
    TIMEOUT,
    DEADLINE,
    MAX_ATTEMPTS,
    MAX_CONCURRENCY,
    REQUESTS_PER_MINUTE,
    TOKENS_PER_MINUTE,
    MAX_JUDGE_CALLS,
    MAX_JUDGE_TOKENS,
    MAX_OUTPUT_CHARS,
    MAX_SCORE_DROP,
    MAX_SPREAD,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_say_what_they_take() {
        assert_eq!(THRESHOLD.check(1.5).unwrap_err(), "`threshold` must be in 0.0..=1.0, found 1.5");
        assert_eq!(
            TRIM.check(0.5).unwrap_err(),
            "`trim` is the fraction dropped at each end and must be in 0.0..0.5, found 0.5"
        );
        assert_eq!(SAMPLES.check(0.0).unwrap_err(), "`samples` must be a whole number in 1..=10000, found 0");
        assert!(SAMPLES.check(2.5).is_err() && SAMPLES.check(3.0).is_ok());
        assert_eq!(TIMEOUT.check(0.0).unwrap_err(), "`timeout` is in seconds and must be in (0, 86400], found 0");
        assert!(TIMEOUT.check(86_400.0).is_ok() && TIMEOUT.check(f64::NAN).is_err());
        assert_eq!(
            SAMPLES.check_value(0.0).unwrap_err(),
            "0 is out of range: `samples` must be a whole number in 1..=10000"
        );
        assert!(TOKENS_PER_MINUTE.check_value(1e18).is_ok());
        assert!(ALL.iter().all(|r| r.check(r.low).is_ok() != r.low_open));
    }
}
