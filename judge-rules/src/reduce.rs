//! `reduce`: how an eval's sample scores reduce to its score.

/// A `reduce` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduce {
    /// `trimmed_mean` (the default).
    TrimmedMean,
    /// `mean`.
    Mean,
    /// `median`.
    Median,
    /// `min`.
    Min,
    /// `at_least(k)`: at least `k` samples reach the threshold.
    AtLeast(u32),
    /// `pass_all`.
    PassAll,
}

/// The value as written: `median`, `at_least(3)`.
impl std::fmt::Display for Reduce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TrimmedMean => f.write_str("trimmed_mean"),
            Self::Mean => f.write_str("mean"),
            Self::Median => f.write_str("median"),
            Self::Min => f.write_str("min"),
            Self::AtLeast(k) => write!(f, "at_least({k})"),
            Self::PassAll => f.write_str("pass_all"),
        }
    }
}

/// The values `reduce` takes, for messages.
pub const VALUES: &str = "trimmed_mean, mean, median, min, at_least(k), pass_all";

/// Reads a `reduce` value.
pub fn parse(s: &str) -> Result<Reduce, String> {
    let k = s.strip_prefix("at_least(").and_then(|rest| rest.strip_suffix(')'));
    match (s, k) {
        ("trimmed_mean", _) => Ok(Reduce::TrimmedMean),
        ("mean", _) => Ok(Reduce::Mean),
        ("median", _) => Ok(Reduce::Median),
        ("min", _) => Ok(Reduce::Min),
        ("pass_all", _) => Ok(Reduce::PassAll),
        (_, Some(k)) => match k.trim().parse::<u32>() {
            Ok(k) => {
                check(Reduce::AtLeast(k)).map(|()| Reduce::AtLeast(k)).map_err(|reason| format!("{s:?}: {reason}"))
            }
            _ => Err(format!("{s:?}: {AT_LEAST}")),
        },
        _ => Err(format!("{s:?} is not one of: {VALUES}")),
    }
}

const AT_LEAST: &str = "at_least takes a whole number of samples ≥ 1, e.g. at_least(3)";

/// Checks a `reduce` value built as a value rather than read (`#[llm_eval]`'s expansion, or code
/// that drives the runtime): `at_least(k)` needs `k ≥ 1`.
pub fn check(reduce: Reduce) -> Result<(), String> {
    match reduce {
        Reduce::AtLeast(0) => Err(AT_LEAST.to_owned()),
        _ => Ok(()),
    }
}

/// Checks `reduce` against the eval's number of samples: `at_least(k)` needs `k` of them.
pub fn check_samples(reduce: Reduce, samples: u32) -> Result<(), String> {
    match reduce {
        Reduce::AtLeast(k) if k > samples => {
            Err(format!("at_least({k}) needs at least {k} samples, and the eval has {samples}"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_value() {
        assert_eq!(parse("median"), Ok(Reduce::Median));
        assert_eq!(parse("at_least(3)"), Ok(Reduce::AtLeast(3)));
        assert!(parse("at_least(0)").unwrap_err().contains("≥ 1"));
        assert!(parse("max").unwrap_err().contains(VALUES));
        assert!(check(Reduce::AtLeast(0)).unwrap_err().contains("≥ 1"));
        assert_eq!(check(Reduce::Median), Ok(()));
        assert!(
            check_samples(Reduce::AtLeast(4), 3).unwrap_err().contains("needs at least 4 samples, and the eval has 3")
        );
        assert_eq!(check_samples(Reduce::AtLeast(3), 3), Ok(()));
        for value in ["trimmed_mean", "mean", "median", "min", "at_least(3)", "pass_all"] {
            assert_eq!(parse(value).unwrap().to_string(), value);
        }
    }
}
