//! Reducing the scores of an eval's samples: a trimmed mean, with median, min, max and standard
//! deviation alongside.

/// Scores closer than this to the threshold count as reaching it, so that five verdicts of 7/10
/// pass a threshold of 0.7 despite floating-point rounding.
const EPSILON: f64 = 1e-9;

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
        let mean = scores.iter().sum::<f64>() / k as f64;
        let variance =
            if k > 1 { scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (k - 1) as f64 } else { 0.0 };
        Summary {
            trimmed_mean: kept.iter().sum::<f64>() / kept.len() as f64,
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
    /// The mean of the scores kept after trimming: the eval's score.
    pub trimmed_mean: f64,
    /// The median of all scores.
    pub median: f64,
    /// The lowest score.
    pub min: f64,
    /// The highest score.
    pub max: f64,
    /// The sample standard deviation of all scores (0 for one sample).
    pub std_dev: f64,
    /// For each sample, in order, whether the trimmed mean dropped it.
    pub trimmed: Vec<bool>,
}

impl Summary {
    /// Whether the eval passes: its score reaches `threshold`.
    pub fn passes(&self, threshold: f64) -> bool {
        self.trimmed_mean + EPSILON >= threshold
    }

    /// How many samples the trimmed mean kept.
    pub fn kept(&self) -> usize {
        self.trimmed.iter().filter(|t| !**t).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn seven_samples_at_fifteen_percent_drop_one_each_side() {
        let s = TrimmedMean::new(0.15).summarize(&[0.9, 0.1, 0.6, 0.7, 1.0, 0.5, 0.8]);
        // Drops 0.1 and 1.0; mean of 0.5, 0.6, 0.7, 0.8, 0.9.
        assert!(close(s.trimmed_mean, 0.7), "{}", s.trimmed_mean);
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
        assert_eq!((s.trimmed_mean, s.median, s.min, s.max, s.std_dev), (0.4, 0.4, 0.4, 0.4, 0.0));
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
    fn even_counts_average_the_middle_pair() {
        let s = TrimmedMean::new(0.0).summarize(&[0.2, 0.8, 0.4, 0.6]);
        assert!(close(s.median, 0.5));
        assert!(close(s.trimmed_mean, 0.5));
    }
}
