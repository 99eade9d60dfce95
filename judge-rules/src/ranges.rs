//! The values a numeric setting takes, declared with the setting (`declarations.rs`): the attribute
//! checks them at compile time, the runtime checks the environment, judge.toml and any attribute the
//! macro did not write.

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
    /// `low..=high` (no bound above for `None`), said as `rule`; its key is the setting's, given
    /// when the setting is declared.
    pub(crate) const fn new(low: f64, high: Option<f64>, rule: &'static str) -> Self {
        Self { key: "", meaning: None, low, low_open: false, high, high_open: false, whole: false, rule }
    }

    /// Whole numbers only.
    pub(crate) const fn whole(self) -> Self {
        Self { whole: true, ..self }
    }

    /// `low` itself is out of range.
    pub(crate) const fn open_low(self) -> Self {
        Self { low_open: true, ..self }
    }

    /// `high` itself is out of range.
    pub(crate) const fn open_high(self) -> Self {
        Self { high_open: true, ..self }
    }

    /// What the setting means, where the range alone does not say.
    pub(crate) const fn meaning(self, meaning: &'static str) -> Self {
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

#[cfg(test)]
mod tests {
    #[test]
    fn ranges_say_what_they_take() {
        let range = |key| crate::settings::get(key).range();
        assert_eq!(range("threshold").check(1.5).unwrap_err(), "`threshold` must be in 0.0..=1.0, found 1.5");
        assert_eq!(
            range("trim").check(0.5).unwrap_err(),
            "`trim` is the fraction dropped at each end and must be in 0.0..0.5, found 0.5"
        );
        assert_eq!(range("samples").check(0.0).unwrap_err(), "`samples` must be a whole number in 1..=10000, found 0");
        assert!(range("samples").check(2.5).is_err() && range("samples").check(3.0).is_ok());
        assert_eq!(
            range("timeout").check(0.0).unwrap_err(),
            "`timeout` is in seconds and must be in (0, 86400], found 0"
        );
        assert!(range("timeout").check(86_400.0).is_ok() && range("timeout").check(f64::NAN).is_err());
        assert_eq!(
            range("samples").check_value(0.0).unwrap_err(),
            "0 is out of range: `samples` must be a whole number in 1..=10000"
        );
        assert!(range("tokens_per_minute").check_value(1e18).is_ok());
        // Every number has a range named after it; nothing else has one.
        for s in crate::settings::SETTINGS {
            assert_eq!(s.range.is_some(), s.is_number(), "{}", s.key);
            if let Some(r) = s.range {
                assert_eq!(r.key, s.key);
                assert!(r.check(r.low).is_ok() != r.low_open, "{}", s.key);
            }
        }
    }
}
