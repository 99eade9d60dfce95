//! The summary of each dataset eval over its rows, as the reports show it: how many rows passed,
//! failed or could not be scored, the pass rate, the mean score, and the pass-rate gate.

use serde::{Deserialize, Serialize};

use crate::calibration::{Calibration, Labelled};
use crate::outcome::{DatasetRowRef, Status};
use crate::probes::Probes;
use crate::settings::scale::Scale;
use crate::synthetic::SyntheticRecord;

/// One dataset eval, over the rows the run judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DatasetRecord {
    /// The dataset eval, `module::path::name`: the prefix of its rows' test names.
    pub name: String,
    /// The dataset file, as the attribute names it.
    pub file: String,
    /// The rows judged.
    pub rows: usize,
    /// Rows at or above their threshold.
    pub passed: usize,
    /// Rows below their threshold.
    pub failed: usize,
    /// Rows that could not be scored.
    pub errors: usize,
    /// `passed / rows`.
    pub pass_rate: f64,
    /// The mean of the scored rows' scores, when any row was scored.
    pub mean_score: Option<f64>,
    /// The pass-rate gate (`min_pass_rate`), if the dataset has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_pass_rate: Option<f64>,
    /// Whether the gate passed: `"passed"` or `"failed"`, when the dataset has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<Status>,
    /// The judge against people, over the scored rows that carry a `human` label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// The bias probes' findings pooled over the rows that ran them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<Probes>,
    /// The win rates of a dataset whose rows are compared (`compare_with`): raw, and controlled
    /// for length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairwise: Option<WinRates>,
    /// The judge's accuracy on synthetic pairs of the rows (`validate = "synthetic"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synthetic: Option<SyntheticRecord>,
}

impl DatasetRecord {
    /// The dataset eval `name` over `file`, before any row is counted.
    pub fn empty(name: &str, file: &str) -> Self {
        Self {
            name: name.to_owned(),
            file: file.to_owned(),
            rows: 0,
            passed: 0,
            failed: 0,
            errors: 0,
            pass_rate: 0.0,
            mean_score: None,
            min_pass_rate: None,
            gate: None,
            calibration: None,
            probes: None,
            pairwise: None,
            synthetic: None,
        }
    }
}

/// A pairwise dataset's win rates over its comparisons (one per scored row and sample): the raw
/// win rate, a tie counting half, and AlpacaEval 2's length-controlled win rate, the win rate at
/// equal length of the logistic fit P(win) = σ(intercept + slope·tanh(Δ / sd(Δ))), Δ the output's
/// length minus the compared text's in characters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WinRates {
    /// The comparisons.
    pub comparisons: usize,
    /// The mean outcome: 1 a win, 0.5 a tie, 0 a loss.
    pub win_rate: f64,
    /// σ(intercept), when the fit has an estimate.
    pub length_controlled_win_rate: Option<f64>,
    /// The fit's intercept, the log-odds of a win at equal length.
    pub intercept: Option<f64>,
    /// The fit's slope on tanh(Δ / sd(Δ)): how much length sways the judge.
    pub slope: Option<f64>,
    /// Why there is no length-controlled win rate, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_fit: Option<String>,
}

impl WinRates {
    /// The win rates of `comparisons`, `(Δ, outcome)` each; `None` for none.
    pub fn of(comparisons: &[(f64, f64)]) -> Option<Self> {
        if comparisons.is_empty() {
            return None;
        }
        let win_rate = comparisons.iter().map(|c| c.1).sum::<f64>() / comparisons.len() as f64;
        let fit = crate::length_control::fit(comparisons);
        let fitted = fit.as_ref().ok();
        Some(Self {
            comparisons: comparisons.len(),
            win_rate,
            length_controlled_win_rate: fitted.map(|f| f.length_controlled_win_rate),
            intercept: fitted.map(|f| f.intercept),
            slope: fitted.map(|f| f.slope),
            no_fit: fit.err().map(|e| e.to_string()),
        })
    }

    /// One line: "win rate 0.47, length-controlled 0.52 (32 comparisons)".
    pub fn summary_line(&self) -> String {
        let controlled = match (self.length_controlled_win_rate, &self.no_fit) {
            (Some(rate), _) => format!("length-controlled {rate:.2}"),
            (None, Some(why)) => format!("no length-controlled win rate: {why}"),
            (None, None) => "no length-controlled win rate".to_owned(),
        };
        format!("win rate {:.2}, {controlled} ({} comparisons)", self.win_rate, self.comparisons)
    }
}

/// What a dataset's summary reads of one eval that judged a row.
#[derive(Debug, Clone)]
pub(crate) struct RowResult<'a> {
    /// The row.
    pub row: &'a DatasetRowRef,
    pub status: Status,
    /// The reduced score, 0..=1, when the row was scored.
    pub score: Option<f64>,
    /// The scale the judge scored it on.
    pub scale: Option<Scale>,
    /// What the bias probes found, when the eval ran any.
    pub probes: Option<&'a Probes>,
    /// Each sample's comparison (`compare_with`): the output's length minus the compared text's,
    /// in characters, and the outcome (1 a win, 0.5 a tie, 0 a loss).
    pub comparisons: Vec<(f64, f64)>,
}

/// Each dataset of a run, in name order, from the evals that judged its rows.
pub(crate) fn summarize<'a>(rows: impl IntoIterator<Item = RowResult<'a>>) -> Vec<DatasetRecord> {
    let mut datasets: Vec<DatasetRecord> = Vec::new();
    let mut scores: Vec<(f64, usize)> = Vec::new();
    let mut labelled: Vec<Labelled> = Vec::new();
    let mut probes: Vec<Vec<&Probes>> = Vec::new();
    let mut compared: Vec<Vec<(f64, f64)>> = Vec::new();
    for RowResult { row, status, score, scale, probes: row_probes, comparisons } in rows {
        let i = match datasets.iter().position(|d| d.name == row.name) {
            Some(i) => i,
            None => {
                datasets.push(DatasetRecord {
                    min_pass_rate: row.min_pass_rate,
                    ..DatasetRecord::empty(&row.name, &row.file)
                });
                scores.push((0.0, 0));
                labelled.push(Labelled::default());
                probes.push(Vec::new());
                compared.push(Vec::new());
                datasets.len() - 1
            }
        };
        let dataset = &mut datasets[i];
        dataset.rows += 1;
        probes[i].extend(row_probes);
        compared[i].extend(comparisons);
        match status {
            Status::Passed => dataset.passed += 1,
            Status::Failed => dataset.failed += 1,
            Status::Error => dataset.errors += 1,
        }
        if let Some(score) = score {
            scores[i].0 += score;
            scores[i].1 += 1;
            labelled[i].add(scale.unwrap_or_default().denormalize(score), status == Status::Passed, row.human);
        }
    }
    let each = datasets.iter_mut().zip(scores).zip(labelled).zip(probes).zip(compared);
    for ((((dataset, (sum, scored)), labelled), probes), compared) in each {
        dataset.calibration = labelled.calibration();
        dataset.probes = Probes::pool(probes);
        dataset.pairwise = WinRates::of(&compared);
        dataset.pass_rate = dataset.passed as f64 / dataset.rows as f64;
        dataset.mean_score = (scored > 0).then(|| sum / scored as f64);
        dataset.gate = dataset
            .min_pass_rate
            .map(|min| if reaches(dataset.pass_rate, min) { Status::Passed } else { Status::Failed });
    }
    datasets.sort_by(|a, b| a.name.cmp(&b.name));
    datasets
}

/// The tests of a run whose evals are `evals` (each with the dataset row it judged, if any), as
/// libtest counts them: every eval but the rows of a gated dataset (whose test has a record of its
/// own). Passed, failed, and not scored.
pub(crate) fn test_counts<'a>(
    evals: impl IntoIterator<Item = (Option<&'a DatasetRowRef>, Status)>,
) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    for (row, status) in evals {
        if row.is_none_or(|row| row.min_pass_rate.is_none()) {
            match status {
                Status::Passed => counts.0 += 1,
                Status::Failed => counts.1 += 1,
                Status::Error => counts.2 += 1,
            }
        }
    }
    counts
}

/// Whether `pass_rate` reaches the gate `min_pass_rate` (a share like 9/10 reaches 0.9).
pub(crate) fn reaches(pass_rate: f64, min_pass_rate: f64) -> bool {
    pass_rate + 1e-9 >= min_pass_rate
}

/// The dataset in one line, as Markdown, JUnit and the terminal show it: "4 of 5 rows passed (pass
/// rate 0.80, 1 failed), mean score 0.78; gate min_pass_rate 0.90: failed".
pub(crate) fn summary_line(dataset: &DatasetRecord) -> String {
    let mut line = format!("{} of {} rows passed (pass rate {:.2}", dataset.passed, dataset.rows, dataset.pass_rate);
    if dataset.failed > 0 {
        line.push_str(&format!(", {} failed", dataset.failed));
    }
    if dataset.errors > 0 {
        line.push_str(&format!(", {} not scored", dataset.errors));
    }
    line.push(')');
    if let Some(mean) = dataset.mean_score {
        line.push_str(&format!(", mean score {mean:.2}"));
    }
    if let (Some(min), Some(gate)) = (dataset.min_pass_rate, dataset.gate) {
        line.push_str(&format!("; gate min_pass_rate {min:.2}: {}", gate.as_str()));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(dataset: &str, id: &str, gate: Option<f64>) -> DatasetRowRef {
        DatasetRowRef {
            name: format!("evals::{dataset}"),
            file: format!("evals/{dataset}.jsonl"),
            id: id.to_owned(),
            line: 1,
            min_pass_rate: gate,
            human: None,
        }
    }

    #[test]
    fn each_dataset_counts_its_rows_and_decides_its_gate() {
        let (a, b, c) =
            (row("support", "a", Some(0.6)), row("support", "b", Some(0.6)), row("support", "c", Some(0.6)));
        let x = row("brief", "x", None);
        let result =
            |row, status, score| RowResult { row, status, score, scale: None, probes: None, comparisons: vec![] };
        let rows = [
            result(&a, Status::Passed, Some(0.9)),
            result(&b, Status::Failed, Some(0.3)),
            result(&c, Status::Error, None),
            result(&x, Status::Passed, Some(0.8)),
        ];
        let datasets = summarize(rows);
        assert_eq!(datasets.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["evals::brief", "evals::support"]);
        let support = &datasets[1];
        assert_eq!((support.rows, support.passed, support.failed, support.errors), (3, 1, 1, 1));
        assert_eq!(support.gate, Some(Status::Failed), "1 of 3 is below 0.6");
        assert_eq!(support.mean_score, Some(0.6), "the mean of the scored rows");
        assert_eq!(support.pairwise, None, "no comparisons, no win rates");
        assert_eq!(
            summary_line(support),
            "1 of 3 rows passed (pass rate 0.33, 1 failed, 1 not scored), mean score 0.60; gate min_pass_rate 0.60: failed"
        );
        assert_eq!(summary_line(&datasets[0]), "1 of 1 rows passed (pass rate 1.00), mean score 0.80");
        assert!(reaches(9.0 / 10.0, 0.9) && !reaches(8.0 / 10.0, 0.9), "a share that is the gate reaches it");

        // The tests: the gated dataset's own record (failed), not its rows; the ungated row and an
        // eval without a dataset, one each.
        let evals = [
            (Some(&a), Status::Passed),
            (Some(&b), Status::Failed),
            (Some(&c), Status::Error),
            (None, Status::Failed),
            (Some(&x), Status::Passed),
            (None, Status::Error),
        ];
        assert_eq!(test_counts(evals), (1, 1, 1));
    }

    #[test]
    fn a_compared_datasets_rows_give_its_win_rates() {
        let (a, b, c) = (row("pairs", "a", None), row("pairs", "b", None), row("pairs", "c", None));
        let compared = |row, comparisons| RowResult {
            row,
            status: Status::Passed,
            score: Some(0.5),
            scale: None,
            probes: None,
            comparisons,
        };
        let rows = [
            compared(&a, vec![(120.0, 1.0), (-40.0, 0.5)]),
            compared(&b, vec![(-200.0, 0.0), (30.0, 0.0)]),
            compared(&c, vec![(80.0, 1.0), (-10.0, 1.0)]),
        ];
        let pairwise = summarize(rows).remove(0).pairwise.expect("compared rows have win rates");
        assert_eq!((pairwise.comparisons, pairwise.win_rate), (6, 3.5 / 6.0));
        let controlled = pairwise.length_controlled_win_rate.expect("wins and losses overlap in length");
        assert!(controlled > 0.0 && controlled < 1.0 && pairwise.no_fit.is_none(), "{pairwise:?}");
        assert_eq!(
            pairwise.summary_line(),
            format!("win rate 0.58, length-controlled {controlled:.2} (6 comparisons)")
        );

        let lost = WinRates::of(&[(10.0, 0.0), (-5.0, 0.0)]).unwrap();
        assert_eq!((lost.length_controlled_win_rate, lost.intercept, lost.slope), (None, None, None));
        assert_eq!(
            lost.summary_line(),
            "win rate 0.00, no length-controlled win rate: every comparison is a loss, so there is no win rate at \
             equal length to estimate (2 comparisons)"
        );
        assert_eq!(WinRates::of(&[]), None);
    }
}
