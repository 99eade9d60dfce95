//! Reducing the scores of an eval's samples to the eval's score: a trimmed mean by default, or
//! another [`Reducer`], with mean, median, min, max and standard deviation alongside.

use judge_rules::Reduce;

/// Scores closer than this to the threshold count as reaching it, so that five verdicts of 7/10
/// pass a threshold of 0.7 despite floating-point rounding.
const EPSILON: f64 = 1e-9;

/// Whether `score` reaches `threshold`, within rounding.
pub(crate) fn reaches(score: f64, threshold: f64) -> bool {
    score + EPSILON >= threshold
}

/// The trimmed mean: drops `⌊k·trim⌋` scores at each end of the `k` sorted scores and averages the
/// rest. Seven samples at `trim = 0.15` drop the lowest and the highest and average five.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrimmedMean {
    trim: f64,
}

impl TrimmedMean {
    /// A trimmed mean dropping the fraction `trim` (in `0.0..0.5`) at each end.
    ///
    /// # Panics
    /// If `trim` is outside `0.0..0.5`; settings are validated before they get here.
    pub fn new(trim: f64) -> Self {
        assert!((0.0..0.5).contains(&trim), "trim {trim} is outside 0.0..0.5");
        Self { trim }
    }

    /// How many scores are dropped at each end of `k`.
    pub fn dropped_each_side(self, k: usize) -> usize {
        // The small epsilon keeps 20 × 0.15 = 2.9999999999999996 from flooring to 2.
        let dropped = (k as f64 * self.trim + EPSILON).floor() as usize;
        // Always keep at least one score.
        dropped.min(k.saturating_sub(1) / 2)
    }

    /// Summarises `scores` (each in `0.0..=1.0`, in sample order).
    ///
    /// # Panics
    /// If `scores` is empty.
    pub fn summarize(self, scores: &[f64]) -> Summary {
        assert!(!scores.is_empty(), "an eval has at least one sample");
        let k = scores.len();
        let mut order: Vec<usize> = (0..k).collect();
        // Ties keep sample order, so which of two equal scores is trimmed is stable.
        order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
        let dropped = self.dropped_each_side(k);
        let mut trimmed = vec![false; k];
        for &i in order[..dropped].iter().chain(&order[k - dropped..]) {
            trimmed[i] = true;
        }
        let kept: Vec<f64> = order[dropped..k - dropped].iter().map(|&i| scores[i]).collect();
        let sorted: Vec<f64> = order.iter().map(|&i| scores[i]).collect();
        // Over the sorted scores: samples judged at once finish in any order, and the same scores
        // must give the same statistics to the last bit (a sharded run is compared with one run).
        let mean = sorted.iter().sum::<f64>() / k as f64;
        let variance =
            if k > 1 { sorted.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (k - 1) as f64 } else { 0.0 };
        Summary {
            score: kept.iter().sum::<f64>() / kept.len() as f64,
            mean,
            median: if k % 2 == 1 { sorted[k / 2] } else { (sorted[k / 2 - 1] + sorted[k / 2]) / 2.0 },
            min: sorted[0],
            max: sorted[k - 1],
            std_dev: variance.sqrt(),
            trimmed,
        }
    }
}

/// What the samples' scores came to.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Summary {
    /// The eval's score: the reduced scores (by default the mean of those kept after trimming).
    pub score: f64,
    /// The mean of all scores.
    pub mean: f64,
    /// The median of all scores.
    pub median: f64,
    /// The lowest score.
    pub min: f64,
    /// The highest score.
    pub max: f64,
    /// The sample standard deviation of all scores (0 for one sample).
    pub std_dev: f64,
    /// For each sample, in order, whether the trimmed mean dropped it (none for other reducers).
    pub trimmed: Vec<bool>,
}

impl Summary {
    /// Whether the eval passes: its score reaches `threshold`.
    pub fn passes(&self, threshold: f64) -> bool {
        reaches(self.score, threshold)
    }

    /// How many samples the reduction kept.
    pub fn kept(&self) -> usize {
        self.trimmed.iter().filter(|t| !**t).count()
    }
}

/// How an eval's sample scores reduce to its score: the `reduce` rule (attribute, `JUDGE_REDUCE`,
/// judge.toml) and the eval's `trim`, which the trimmed mean uses. The eval passes when the score
/// reaches its threshold.
///
/// The rules: `trimmed_mean` (the default) drops the fraction `trim` at each end, robust to a
/// judge's occasional outlier; `mean` averages every score; `median` is robust to outliers on
/// either side, however many; `min` lets the worst sample decide; `at_least(k)` takes the `k`-th
/// highest score, which reaches the threshold exactly when `k` samples do; `pass_all` takes the
/// lowest, so every sample must reach the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Reducer {
    /// The rule.
    pub rule: Reduce,
    /// The fraction the trimmed mean drops at each end, in `0.0..0.5`; the other rules drop none.
    pub trim: f64,
}

impl Reducer {
    /// The reducer of `rule`, with `trim` for the trimmed mean.
    pub fn new(rule: Reduce, trim: f64) -> Self {
        Self { rule, trim }
    }

    /// Summarises `scores` (each in `0.0..=1.0`, in sample order).
    ///
    /// # Panics
    /// If `scores` is empty, or `at_least(k)` has fewer than `k` scores.
    pub fn summarize(self, scores: &[f64]) -> Summary {
        let trim = if self.rule == Reduce::TrimmedMean { self.trim } else { 0.0 };
        let mut summary = TrimmedMean::new(trim).summarize(scores);
        let mut descending = scores.to_vec();
        descending.sort_by(|a, b| b.total_cmp(a));
        summary.score = match self.rule {
            Reduce::TrimmedMean | Reduce::Mean => summary.score,
            Reduce::Median => summary.median,
            Reduce::Min | Reduce::PassAll => summary.min,
            Reduce::AtLeast(k) => {
                assert!(k as usize <= scores.len(), "at_least({k}) over {} scores", scores.len());
                descending[k as usize - 1]
            }
        };
        summary
    }

    /// Whether the reducer asks about single samples (`min`, `at_least(k)`, `pass_all`) rather than
    /// their central tendency (`trimmed_mean`, `mean`, `median`).
    pub(crate) fn judges_each_sample(self) -> bool {
        matches!(self.rule, Reduce::Min | Reduce::AtLeast(_) | Reduce::PassAll)
    }

    /// The `reduce` value that names this reducer, e.g. `at_least(3)`.
    pub fn name(self) -> String {
        self.rule.to_string()
    }

    /// How the score was reduced from `k` samples, for messages: "median of 7 samples".
    pub fn describe(self, k: usize) -> String {
        let trim = self.trim;
        match self.rule {
            Reduce::TrimmedMean => match TrimmedMean::new(trim).dropped_each_side(k) {
                0 => format!("mean of all {k} samples (trim {trim} drops none of {k})"),
                n => format!("trimmed mean of {} of {k} samples (trim {trim} drops {n} at each end)", k - 2 * n),
            },
            Reduce::Mean => format!("mean of all {k} samples"),
            Reduce::Median => format!("median of {k} samples"),
            Reduce::Min => format!("lowest of {k} samples"),
            Reduce::AtLeast(n) => format!("{n}. highest of {k} samples: at least {n} must reach the threshold"),
            Reduce::PassAll => format!("lowest of {k} samples: every one must reach the threshold"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reducer_reduces_as_documented() {
        let scores = [0.9, 0.1, 0.6, 0.7, 1.0, 0.5, 0.8];
        let reducer = |rule: Reduce| Reducer::new(rule, 0.15);
        let score = |rule: Reduce| reducer(rule).summarize(&scores).score;
        assert!(close(score(Reduce::TrimmedMean), 0.7));
        assert!(close(score(Reduce::Mean), 4.6 / 7.0));
        assert_eq!(score(Reduce::Median), 0.7);
        assert_eq!(score(Reduce::Min), 0.1);
        assert_eq!(score(Reduce::PassAll), 0.1);
        assert_eq!(score(Reduce::AtLeast(3)), 0.8, "the third highest");
        assert_eq!(score(Reduce::AtLeast(7)), 0.1);
        assert!(reducer(Reduce::AtLeast(3)).summarize(&scores).passes(0.8));
        assert!(!reducer(Reduce::AtLeast(4)).summarize(&scores).passes(0.8));
        assert_eq!(reducer(Reduce::Median).summarize(&scores).trimmed, vec![false; 7], "only the trimmed mean trims");
    }

    #[test]
    fn reducers_are_named_and_described_by_their_rule() {
        assert_eq!(Reducer::new(Reduce::AtLeast(3), 0.15).name(), "at_least(3)");
        assert_eq!(Reducer::new(Reduce::Median, 0.15).describe(7), "median of 7 samples");
        assert_eq!(
            Reducer::new(Reduce::TrimmedMean, 0.15).describe(7),
            "trimmed mean of 5 of 7 samples (trim 0.15 drops 1 at each end)"
        );
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn seven_samples_at_fifteen_percent_drop_one_each_side() {
        let s = TrimmedMean::new(0.15).summarize(&[0.9, 0.1, 0.6, 0.7, 1.0, 0.5, 0.8]);
        // Drops 0.1 and 1.0; mean of 0.5, 0.6, 0.7, 0.8, 0.9.
        assert!(close(s.score, 0.7), "{}", s.score);
        assert_eq!(s.trimmed, vec![false, true, false, false, true, false, false]);
        assert_eq!(s.kept(), 5);
        assert!(close(s.median, 0.7));
        assert_eq!((s.min, s.max), (0.1, 1.0));
        // Sample standard deviation of the seven scores.
        let mean = 4.6 / 7.0;
        let var = [0.9f64, 0.1, 0.6, 0.7, 1.0, 0.5, 0.8].iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 6.0;
        assert!(close(s.std_dev, var.sqrt()));
    }

    #[test]
    fn how_many_are_dropped() {
        let t = TrimmedMean::new(0.15);
        assert_eq!([1, 2, 3, 6, 7, 13, 14, 20].map(|k| t.dropped_each_side(k)), [0, 0, 0, 0, 1, 1, 2, 3]);
        assert_eq!(TrimmedMean::new(0.0).dropped_each_side(100), 0);
        // Never drops everything.
        assert_eq!(TrimmedMean::new(0.49).dropped_each_side(3), 1);
        assert_eq!(TrimmedMean::new(0.49).dropped_each_side(2), 0);
    }

    #[test]
    fn one_sample_is_its_own_summary() {
        let s = TrimmedMean::new(0.15).summarize(&[0.4]);
        assert_eq!((s.score, s.median, s.min, s.max, s.std_dev), (0.4, 0.4, 0.4, 0.4, 0.0));
        assert_eq!(s.trimmed, vec![false]);
    }

    #[test]
    fn ties_trim_the_earlier_low_and_the_later_high() {
        let s = TrimmedMean::new(0.2).summarize(&[0.5, 0.5, 0.5, 0.5, 0.5]);
        assert_eq!(s.trimmed, vec![true, false, false, false, true]);
    }

    #[test]
    fn threshold_is_reached_despite_rounding() {
        let s = TrimmedMean::new(0.15).summarize(&[0.7; 7]);
        assert!(s.passes(0.7));
        let s = TrimmedMean::new(0.0).summarize(&[0.6, 0.7, 0.8]);
        assert!(s.passes(0.7));
        assert!(!s.passes(0.71));
    }

    #[test]
    fn the_statistics_do_not_depend_on_the_order_of_the_samples() {
        let scores = [0.9, 0.2, 0.6, 0.7, 1.0, 0.5, 0.8];
        let mut reversed = scores;
        reversed.reverse();
        let (a, b) = (TrimmedMean::new(0.15).summarize(&scores), TrimmedMean::new(0.15).summarize(&reversed));
        assert_eq!(
            (a.score.to_bits(), a.mean.to_bits(), a.std_dev.to_bits()),
            (b.score.to_bits(), b.mean.to_bits(), b.std_dev.to_bits())
        );
    }

    #[test]
    fn even_counts_average_the_middle_pair() {
        let s = TrimmedMean::new(0.0).summarize(&[0.2, 0.8, 0.4, 0.6]);
        assert!(close(s.median, 0.5));
        assert!(close(s.score, 0.5));
    }
}
