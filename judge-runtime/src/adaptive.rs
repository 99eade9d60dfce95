//! Adaptive samples (`samples = "adaptive"`): judge `min_samples` first, then one more at a time
//! until a confidence interval of the eval's score lies wholly above or below its threshold, or
//! `max_samples` are judged.
//!
//! The interval is a percentile bootstrap of the eval's reducer (the trimmed mean by default) at
//! [`CONFIDENCE`]: the scores are resampled with replacement [`RESAMPLES`] times, each resample
//! reduced as the eval reduces, and the interval runs between the 5th and 95th percentiles of
//! those. A bootstrap rather than a t-interval: with three samples a t-interval needs the 4.3
//! quantile of Student's t and almost never excludes a threshold, and judges' scores are bounded,
//! discrete and skewed near the ends of the scale, where a t-interval's symmetry is wrong. The
//! resamples come from a fixed seed and the scores are sorted first, so the same scores, in any
//! order, always give the same interval: a rerun on the same cache draws the same samples and
//! stops at the same one, with no judge call.

use serde::{Deserialize, Serialize};

use crate::aggregate::{Reducer, reaches};

/// The confidence of the interval.
pub(crate) const CONFIDENCE: f64 = 0.9;

/// The bootstrap's resamples.
const RESAMPLES: usize = 2000;

/// The seed of the resamples: fixed, so that an interval depends on the scores alone.
const SEED: u64 = 0x6a75_6467_655f_6169;

/// A percentile-bootstrap interval, at [`CONFIDENCE`], of `reducer`'s score over `scores` (each in
/// 0..=1). One score gives the degenerate interval of that score.
pub(crate) fn interval(scores: &[f64], reducer: &Reducer) -> (f64, f64) {
    if scores.len() < 2 {
        let score = scores.first().copied().unwrap_or(0.0);
        return (score, score);
    }
    // Sorted first: the samples judged at once finish in any order, and the interval must depend
    // on the scores alone, not on which sample finished first.
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let scores = sorted.as_slice();
    let mut rng = SplitMix64(SEED ^ scores.len() as u64);
    let mut resample = vec![0.0; scores.len()];
    let mut reduced: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            for slot in resample.iter_mut() {
                *slot = scores[rng.below(scores.len())];
            }
            reducer.summarize(&resample).score
        })
        .collect();
    reduced.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    let low = (tail * RESAMPLES as f64).floor() as usize;
    let high = ((1.0 - tail) * RESAMPLES as f64).ceil() as usize - 1;
    (reduced[low], reduced[high.min(RESAMPLES - 1)])
}

/// The verdict `interval` decides against `threshold`: passes (`Some(true)`) when it lies wholly at
/// or above it, fails when wholly below, `None` while it straddles it.
pub(crate) fn decided(interval: (f64, f64), threshold: f64) -> Option<bool> {
    if reaches(interval.0, threshold) {
        Some(true)
    } else if !reaches(interval.1, threshold) {
        Some(false)
    } else {
        None
    }
}

/// What adaptive sampling did for one eval, as the reports show it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct AdaptiveRecord {
    /// The samples judged.
    pub drawn: u32,
    /// `min_samples`.
    pub min_samples: u32,
    /// `max_samples`.
    pub max_samples: u32,
    /// The interval's confidence.
    pub confidence: f64,
    /// The interval of the score over the samples judged, `[low, high]`.
    pub interval: [f64; 2],
    /// Whether the interval decided the verdict (else `max_samples` stopped the drawing).
    pub decided: bool,
}

impl AdaptiveRecord {
    /// The record of `drawn` samples between `min_samples` and `max_samples`, whose score's
    /// interval is `interval` and which it `decided` or not.
    pub fn new(drawn: usize, min_samples: u32, max_samples: u32, interval: (f64, f64), decided: bool) -> Self {
        Self {
            drawn: drawn as u32,
            min_samples,
            max_samples,
            confidence: CONFIDENCE,
            interval: [interval.0, interval.1],
            decided,
        }
    }

    /// One line: "5 samples drawn (adaptive, 3..=15); 90% interval of the score [0.52, 0.68],
    /// undecided at max_samples".
    pub fn summary_line(&self) -> String {
        let [low, high] = self.interval;
        format!(
            "{} samples drawn (adaptive, {}..={}); {:.0}% interval of the score [{low:.2}, {high:.2}], {}",
            self.drawn,
            self.min_samples,
            self.max_samples,
            100.0 * self.confidence,
            if self.decided { "decided" } else { "undecided at max_samples" }
        )
    }
}

/// SplitMix64: a small, fast generator, enough to resample a handful of scores reproducibly.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A whole number below `n` (n ≤ a few thousand: the modulo bias is negligible).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use judge_rules::Reduce;

    fn trimmed() -> Reducer {
        Reducer::new(Reduce::TrimmedMean, 0.15)
    }

    #[test]
    fn agreeing_scores_decide_at_once_and_scattered_ones_do_not() {
        let (low, high) = interval(&[0.9, 0.9, 0.8], &trimmed());
        assert!(low >= 0.8 && high <= 0.9, "{low} {high}");
        assert_eq!(decided((low, high), 0.7), Some(true));
        let (low, high) = interval(&[0.2, 0.3, 0.3], &trimmed());
        assert_eq!(decided((low, high), 0.7), Some(false));
        let scattered = interval(&[0.5, 0.9, 0.7], &trimmed());
        assert_eq!(decided(scattered, 0.7), None, "{scattered:?}");
        // Equal scores: a point, decided unless it is the threshold itself (which passes).
        let (low, high) = interval(&[0.7, 0.7, 0.7], &trimmed());
        assert!((low - 0.7).abs() < 1e-12 && low == high, "{low} {high}");
        assert_eq!(decided((low, high), 0.7), Some(true), "0.7 within rounding reaches 0.7");
    }

    #[test]
    fn the_interval_is_the_same_for_the_same_scores_and_narrows_with_more() {
        let scores = [0.6, 0.8, 0.7, 0.7, 0.8, 0.7, 0.7, 0.6, 0.7];
        assert_eq!(interval(&scores, &trimmed()), interval(&scores, &trimmed()));
        let mut reordered = scores;
        reordered.reverse();
        assert_eq!(interval(&reordered, &trimmed()), interval(&scores, &trimmed()), "the order does not count");
        let few = interval(&scores[..3], &trimmed());
        let more = interval(&scores, &trimmed());
        assert!(more.1 - more.0 < few.1 - few.0, "{few:?} {more:?}");
        let median = interval(&scores, &Reducer::new(Reduce::Median, 0.15));
        assert!(median.0 <= 0.7 && median.1 >= 0.7, "{median:?}");
        assert_eq!(interval(&[0.4], &trimmed()), (0.4, 0.4));
    }

    #[test]
    fn the_record_says_what_was_drawn() {
        let scattered = interval(&[0.5, 0.9, 0.7], &trimmed());
        let record = AdaptiveRecord::new(3, 3, 3, scattered, decided(scattered, 0.7).is_some());
        assert_eq!((record.drawn, record.decided, record.confidence), (3, false, 0.9));
        assert!(record.summary_line().starts_with("3 samples drawn (adaptive, 3..=3); 90% interval of the score ["));
        assert!(record.summary_line().ends_with("undecided at max_samples"));
        let json = serde_json::to_value(record).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["drawn", "min_samples", "max_samples", "confidence", "interval", "decided"]);
    }
}
