//! How well a judge agrees with people: statistics over the rows of a dataset that carry a human
//! label (`human`), the judge's reduced score against the person's.
//!
//! With scores (on the eval's scale, in its points): exact agreement and agreement within one point
//! (the judge's score rounded to the nearest point, halves away from zero), Cohen's kappa unweighted
//! and quadratic (on the rounded score, as `sklearn.metrics.cohen_kappa_score`), Spearman's rho,
//! Pearson's r and Kendall's tau-b (on the unrounded score, as `scipy.stats.spearmanr`, `pearsonr`,
//! `kendalltau`), and the mean absolute error. With pass/fail labels: exact agreement, Cohen's
//! kappa and the confusion matrix (positive = passes). A statistic that is undefined for the data
//! (a correlation of a constant, a kappa where chance agreement is perfect) is `None`.

use serde::{Deserialize, Serialize};

/// A person's label of one row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum HumanLabel {
    /// Passes (true) or fails.
    Pass(bool),
    /// A score on the eval's scale, in its points.
    Score(f64),
}

impl HumanLabel {
    /// What kind of label it is, for messages.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Pass(_) => "true/false",
            Self::Score(_) => "a score",
        }
    }
}

/// The judge against people, over a dataset's labelled rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Calibration {
    /// Labels that are scores.
    Scores(ScoreCalibration),
    /// Labels that are pass or fail.
    PassFail(PassFailCalibration),
}

/// The statistics of score labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ScoreCalibration {
    /// The labelled rows the judge scored.
    pub n: usize,
    /// The share whose rounded judge score equals the label.
    pub exact_agreement: f64,
    /// The share whose rounded judge score is within one point of the label.
    pub within_one: f64,
    pub cohen_kappa: Option<f64>,
    pub quadratic_kappa: Option<f64>,
    pub spearman: Option<f64>,
    pub pearson: Option<f64>,
    pub kendall_tau: Option<f64>,
    /// The mean absolute difference, in scale points.
    pub mae: f64,
}

/// The statistics of pass/fail labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PassFailCalibration {
    /// The labelled rows the judge scored.
    pub n: usize,
    /// The share where the judge's pass or fail is the person's.
    pub exact_agreement: f64,
    pub cohen_kappa: Option<f64>,
    pub confusion: Confusion,
}

/// The judge's pass/fail against the person's, positive = passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct Confusion {
    /// The judge and the person pass it.
    pub tp: usize,
    /// The judge passes what the person fails.
    pub fp: usize,
    /// The judge fails what the person passes.
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// Both fail it.
    pub tn: usize,
}

/// A dataset's scored rows that carry a human label, gathered one by one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Labelled {
    /// The judge's score in scale points, and the person's.
    scores: Vec<(f64, f64)>,
    /// Whether the judge passed the row, and whether the person did.
    passes: Vec<(bool, bool)>,
}

impl Labelled {
    /// Adds a row the judge scored `points` (on its scale) and passed or not, labelled `human`.
    pub fn add(&mut self, points: f64, passed: bool, human: Option<HumanLabel>) {
        match human {
            Some(HumanLabel::Score(human)) => self.scores.push((points, human)),
            Some(HumanLabel::Pass(human)) => self.passes.push((passed, human)),
            None => {}
        }
    }

    /// The statistics of the rows added, if any was labelled.
    pub fn calibration(&self) -> Option<Calibration> {
        scores(&self.scores).map(Calibration::Scores).or_else(|| pass_fail(&self.passes).map(Calibration::PassFail))
    }
}

/// What a dataset's calibration must reach, from its settings (`min_agreement`, `min_kappa`,
/// `min_spearman`, `max_mae`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Gates {
    pub min_agreement: Option<f64>,
    pub min_kappa: Option<f64>,
    pub min_spearman: Option<f64>,
    pub max_mae: Option<f64>,
}

impl Gates {
    /// Whether any gate is set.
    pub fn any(&self) -> bool {
        self.min_agreement.is_some()
            || self.min_kappa.is_some()
            || self.min_spearman.is_some()
            || self.max_mae.is_some()
    }

    /// Each gate `calibration` misses, in a line that names the statistic and by how much.
    pub fn missed(&self, calibration: Option<&Calibration>) -> Vec<String> {
        let Some(calibration) = calibration.filter(|_| self.any()) else {
            return if self.any() {
                vec![
                    "no scored row has a `human` label to compare the judge with, so the calibration gates \
                      (min_agreement, min_kappa, min_spearman, max_mae) cannot be met: label rows with `human`"
                        .to_owned(),
                ]
            } else {
                Vec::new()
            };
        };
        let (agreement, kappa, spearman, mae) = match calibration {
            Calibration::Scores(c) => (Some(c.exact_agreement), c.cohen_kappa, Some(c.spearman), Some(c.mae)),
            Calibration::PassFail(c) => (Some(c.exact_agreement), c.cohen_kappa, None, None),
        };
        let mut missed = Vec::new();
        let mut least = |statistic: &str, gate: &str, value: Option<Option<f64>>, min: Option<f64>| {
            let Some(min) = min else { return };
            match value {
                None => missed.push(format!(
                    "`{gate}` needs score labels, and the dataset's `human` labels are true/false: remove it, or \
                     label rows with scores"
                )),
                Some(None) => missed.push(format!(
                    "{statistic} is undefined for these rows (every judge score or every label is the same), so \
                     `{gate}` {min:.2} is not met"
                )),
                Some(Some(v)) if v + 1e-12 < min => {
                    missed.push(format!("{statistic} {v:.3} is below `{gate}` {min:.3} (by {:.3})", min - v));
                }
                Some(Some(_)) => {}
            }
        };
        least("exact agreement", "min_agreement", agreement.map(Some), self.min_agreement);
        least("Cohen's kappa", "min_kappa", Some(kappa), self.min_kappa);
        least("Spearman's rho", "min_spearman", spearman, self.min_spearman);
        if let Some(max) = self.max_mae {
            match mae {
                None => missed.push(
                    "`max_mae` needs score labels, and the dataset's `human` labels are true/false: remove it, or \
                     label rows with scores"
                        .to_owned(),
                ),
                Some(mae) if mae > max + 1e-12 => {
                    missed.push(format!(
                        "the mean absolute error {mae:.3} is above `max_mae` {max:.3} (by {:.3})",
                        mae - max
                    ));
                }
                Some(_) => {}
            }
        }
        missed
    }
}

impl Calibration {
    /// The statistics in one line, as the terminal, Markdown, JUnit and HTML show them:
    /// "24 labelled rows: exact agreement 0.62, within one 0.92, kappa 0.41, quadratic kappa 0.78,
    /// Spearman 0.81, Pearson 0.80, Kendall's tau 0.69, MAE 0.71".
    pub fn summary_line(&self) -> String {
        let stat = |v: Option<f64>| v.map_or_else(|| "undefined".to_owned(), |v| format!("{v:.2}"));
        match self {
            Self::Scores(c) => format!(
                "{} labelled rows: exact agreement {:.2}, within one {:.2}, kappa {}, quadratic kappa {}, \
                 Spearman {}, Pearson {}, Kendall's tau {}, MAE {:.2}",
                c.n,
                c.exact_agreement,
                c.within_one,
                stat(c.cohen_kappa),
                stat(c.quadratic_kappa),
                stat(c.spearman),
                stat(c.pearson),
                stat(c.kendall_tau),
                c.mae
            ),
            Self::PassFail(c) => format!(
                "{} labelled rows: exact agreement {:.2}, kappa {}; judge passes / person passes: {} both, {} \
                 judge only, {} person only, {} neither",
                c.n,
                c.exact_agreement,
                stat(c.cohen_kappa),
                c.confusion.tp,
                c.confusion.fp,
                c.confusion.fn_,
                c.confusion.tn
            ),
        }
    }
}

/// The statistics of `(judge, human)` score pairs, in scale points; `None` without pairs.
pub(crate) fn scores(pairs: &[(f64, f64)]) -> Option<ScoreCalibration> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len();
    let rounded: Vec<(i64, i64)> = pairs.iter().map(|&(j, h)| (j.round() as i64, h.round() as i64)).collect();
    let share = |count: usize| count as f64 / n as f64;
    let (judge, human): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
    Some(ScoreCalibration {
        n,
        exact_agreement: share(rounded.iter().filter(|(j, h)| j == h).count()),
        within_one: share(rounded.iter().filter(|(j, h)| (j - h).abs() <= 1).count()),
        cohen_kappa: cohen_kappa(&rounded, Weights::None),
        quadratic_kappa: cohen_kappa(&rounded, Weights::Quadratic),
        spearman: pearson(&ranks(&judge), &ranks(&human)),
        pearson: pearson(&judge, &human),
        kendall_tau: kendall_tau_b(&judge, &human),
        mae: pairs.iter().map(|(j, h)| (j - h).abs()).sum::<f64>() / n as f64,
    })
}

/// The statistics of `(judge passes, human passes)` pairs; `None` without pairs.
pub(crate) fn pass_fail(pairs: &[(bool, bool)]) -> Option<PassFailCalibration> {
    if pairs.is_empty() {
        return None;
    }
    let mut confusion = Confusion::default();
    for &(judge, human) in pairs {
        match (judge, human) {
            (true, true) => confusion.tp += 1,
            (true, false) => confusion.fp += 1,
            (false, true) => confusion.fn_ += 1,
            (false, false) => confusion.tn += 1,
        }
    }
    let codes: Vec<(i64, i64)> = pairs.iter().map(|&(j, h)| (i64::from(j), i64::from(h))).collect();
    Some(PassFailCalibration {
        n: pairs.len(),
        exact_agreement: (confusion.tp + confusion.tn) as f64 / pairs.len() as f64,
        cohen_kappa: cohen_kappa(&codes, Weights::None),
        confusion,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weights {
    None,
    Quadratic,
}

/// Cohen's kappa of `(a, b)` label pairs, as scikit-learn computes it: the labels are the sorted
/// values either side uses, a quadratic weight is the squared distance of their indices there.
fn cohen_kappa(pairs: &[(i64, i64)], weights: Weights) -> Option<f64> {
    let mut labels: Vec<i64> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    labels.sort_unstable();
    labels.dedup();
    let k = labels.len();
    let index = |v: i64| labels.binary_search(&v).expect("every value is a label");
    let mut confusion = vec![0.0; k * k];
    for &(a, b) in pairs {
        confusion[index(a) * k + index(b)] += 1.0;
    }
    let rows: Vec<f64> = (0..k).map(|i| (0..k).map(|j| confusion[i * k + j]).sum()).collect();
    let cols: Vec<f64> = (0..k).map(|j| (0..k).map(|i| confusion[i * k + j]).sum()).collect();
    let total: f64 = rows.iter().sum();
    let weight = |i: usize, j: usize| match weights {
        Weights::None => f64::from(u8::from(i != j)),
        Weights::Quadratic => (i as f64 - j as f64).powi(2),
    };
    let (mut observed, mut expected) = (0.0, 0.0);
    for i in 0..k {
        for j in 0..k {
            observed += weight(i, j) * confusion[i * k + j];
            expected += weight(i, j) * rows[i] * cols[j] / total;
        }
    }
    finite(1.0 - observed / expected)
}

/// Pearson's r; `None` when either side is constant.
fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    finite((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// The ranks of `values` from 1, ties given the mean of the ranks they span (`scipy.stats.rankdata`).
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Ranks start + 1 ..= end, averaged.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Kendall's tau-b, as `scipy.stats.kendalltau` computes it, in O(n log n): the pairs sorted by
/// (x, y), the discordant ones counted as inversions of y with a Fenwick tree, ties counted in x, in
/// y and in both. `None` when either side is constant.
fn kendall_tau_b(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(y[a].total_cmp(&y[b])));
    // y's dense ranks, from 1.
    let mut ys: Vec<f64> = y.to_vec();
    ys.sort_by(f64::total_cmp);
    ys.dedup();
    let rank = |v: f64| ys.partition_point(|&u| u < v) + 1;
    let mut tree = vec![0u64; ys.len() + 1];
    let mut discordant: u64 = 0;
    for (seen, &i) in order.iter().enumerate() {
        let r = rank(y[i]);
        // Earlier pairs (smaller or equal x) whose y is larger: discordant, unless x ties (then
        // sorted by y, so none is larger).
        let mut at_most = 0;
        let mut k = r;
        while k > 0 {
            at_most += tree[k];
            k &= k - 1;
        }
        discordant += seen as u64 - at_most;
        let mut k = r;
        while k < tree.len() {
            tree[k] += 1;
            k += k & k.wrapping_neg();
        }
    }
    let tied = |values: &mut dyn Iterator<Item = (f64, f64)>, same: &dyn Fn((f64, f64), (f64, f64)) -> bool| {
        let values: Vec<(f64, f64)> = values.collect();
        let (mut total, mut run) = (0u64, 1u64);
        for w in values.windows(2) {
            if same(w[0], w[1]) {
                run += 1;
            } else {
                total += run * (run - 1) / 2;
                run = 1;
            }
        }
        total + run * (run - 1) / 2
    };
    let sorted = || order.iter().map(|&i| (x[i], y[i]));
    let x_ties = tied(&mut sorted(), &|a, b| a.0 == b.0);
    let both_ties = tied(&mut sorted(), &|a, b| a == b);
    let mut by_y: Vec<(f64, f64)> = sorted().collect();
    by_y.sort_by(|a, b| a.1.total_cmp(&b.1));
    let y_ties = tied(&mut by_y.into_iter(), &|a, b| a.1 == b.1);
    let total = (n as u64) * (n as u64).saturating_sub(1) / 2;
    if total == x_ties || total == y_ties {
        return None;
    }
    let concordant_minus_discordant =
        total as f64 - x_ties as f64 - y_ties as f64 + both_ties as f64 - 2.0 * discordant as f64;
    finite(
        (concordant_minus_discordant / ((total - x_ties) as f64).sqrt() / ((total - y_ties) as f64).sqrt())
            .clamp(-1.0, 1.0),
    )
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    /// Values from scipy and scikit-learn on the same pairs (the end-to-end test compares a whole
    /// run's with them).
    #[test]
    fn scores_match_the_reference_libraries() {
        let judge = [7.0, 8.0, 3.0, 9.0, 5.0, 6.0, 2.0, 8.0];
        let human = [7.0, 9.0, 2.0, 9.0, 6.0, 4.0, 2.0, 7.0];
        let pairs: Vec<(f64, f64)> = judge.iter().copied().zip(human).collect();
        let c = scores(&pairs).unwrap();
        assert_eq!(c.n, 8);
        assert!((c.exact_agreement - 3.0 / 8.0).abs() < 1e-12);
        assert!((c.within_one - 7.0 / 8.0).abs() < 1e-12);
        assert!((c.mae - 6.0 / 8.0).abs() < 1e-12, "{}", c.mae);
        // Pearson by hand: the means are 6.0 and 5.75.
        let (sxy, sxx, syy) = judge.iter().zip(&human).fold((0.0, 0.0, 0.0), |(a, b, c), (x, y)| {
            (a + (x - 6.0) * (y - 5.75), b + (x - 6.0).powi(2), c + (y - 5.75).powi(2))
        });
        assert!(close(c.pearson, sxy / (sxx * syy).sqrt()));
        // scipy 1.17 and scikit-learn 1.9 on the same pairs.
        assert!(close(c.spearman, 0.9390942243562397), "{:?}", c.spearman);
        assert!(close(c.pearson, 0.9308613572938058), "{:?}", c.pearson);
        assert!(close(c.kendall_tau, 0.8467803948114512), "{:?}", c.kendall_tau);
        assert!(close(c.cohen_kappa, 0.29824561403508776), "{:?}", c.cohen_kappa);
        assert!(close(c.quadratic_kappa, 0.92), "{:?}", c.quadratic_kappa);
    }

    #[test]
    fn kendall_tau_b_counts_ties_as_scipy_does() {
        // scipy.stats.kendalltau([1, 2, 2, 3], [1, 3, 2, 2]).statistic == 0.4
        assert!(close(kendall_tau_b(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 2.0]), 0.4));
        assert!(close(kendall_tau_b(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), -1.0));
        assert_eq!(kendall_tau_b(&[1.0, 1.0], &[1.0, 2.0]), None, "a constant side");
    }

    #[test]
    fn cohen_kappa_is_scikit_learns() {
        // cohen_kappa_score([0, 1, 1, 0, 1], [0, 1, 0, 0, 1]) == 0.6153846153846154
        let pairs = [(0, 0), (1, 1), (1, 0), (0, 0), (1, 1)];
        assert!(close(cohen_kappa(&pairs, Weights::None), 0.6153846153846154));
        // cohen_kappa_score([1, 2, 3], [1, 2, 3], weights="quadratic") == 1.0
        assert!(close(cohen_kappa(&[(1, 1), (2, 2), (3, 3)], Weights::Quadratic), 1.0));
        assert_eq!(cohen_kappa(&[(1, 1), (1, 1)], Weights::None), None, "chance agreement is perfect");
    }

    #[test]
    fn pass_fail_labels_make_a_confusion_matrix() {
        let c = pass_fail(&[(true, true), (true, false), (false, false), (false, true), (true, true)]).unwrap();
        assert_eq!(c.confusion, Confusion { tp: 2, fp: 1, fn_: 1, tn: 1 });
        assert!((c.exact_agreement - 0.6).abs() < 1e-12);
        let json = serde_json::to_value(c.confusion).unwrap();
        assert_eq!(json, serde_json::json!({"tp": 2, "fp": 1, "fn": 1, "tn": 1}));
    }

    #[test]
    fn average_ranks_for_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 20.0, 5.0]), [2.0, 3.5, 3.5, 1.0]);
    }
}
