//! `samples`: how many outputs an eval generates and judges — a fixed number, or `"adaptive"`: a
//! few first (`min_samples`), then one more at a time until an interval of the score is decided
//! against the threshold, or `max_samples` are judged.

use crate::reduce::Reduce;

/// The word that asks for adaptive samples.
pub const ADAPTIVE: &str = "adaptive";

/// A `samples` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Samples {
    /// A fixed number, judged at once.
    Fixed(u32),
    /// `"adaptive"`.
    Adaptive,
}

impl Samples {
    /// The samples to draw: the fixed number, or at most `max_samples` when adaptive.
    pub fn count(self, max_samples: u32) -> u32 {
        match self {
            Self::Fixed(n) => n,
            Self::Adaptive => max_samples,
        }
    }
}

/// Checks adaptive samples' bounds and the eval's reducer: at least as many samples first as at
/// most, and a reducer of the samples' centre, whose interval narrows as samples come (the others
/// decide on single samples).
pub fn check_adaptive(min_samples: u32, max_samples: u32, reduce: Reduce) -> Result<(), String> {
    if min_samples > max_samples {
        return Err(format!("`min_samples` ({min_samples}) is above `max_samples` ({max_samples})"));
    }
    match reduce {
        Reduce::TrimmedMean | Reduce::Mean | Reduce::Median => Ok(()),
        other => Err(format!(
            "`samples = \"adaptive\"` stops once an interval of the score is decided, which needs a reducer of \
             the samples' centre (trimmed_mean, mean or median), not {other}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_samples_need_ordered_bounds_and_a_central_reducer() {
        assert_eq!(check_adaptive(3, 15, Reduce::TrimmedMean), Ok(()));
        assert_eq!(check_adaptive(4, 4, Reduce::Median), Ok(()));
        assert_eq!(check_adaptive(5, 3, Reduce::Mean).unwrap_err(), "`min_samples` (5) is above `max_samples` (3)");
        assert!(check_adaptive(3, 15, Reduce::AtLeast(2)).unwrap_err().contains("not at_least(2)"));
        assert!(check_adaptive(3, 15, Reduce::Min).unwrap_err().contains("trimmed_mean, mean or median"));
    }
}
