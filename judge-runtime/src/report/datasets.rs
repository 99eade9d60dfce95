//! The summary of each dataset eval over its rows, as the reports show it: how many rows passed,
//! failed or could not be scored, the pass rate, the mean score, and the pass-rate gate.

use serde::{Deserialize, Serialize};

use crate::report::record::{EvalRecord, Status};

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
}

/// Each dataset of `evals` (rows carry their dataset), in name order.
pub(crate) fn summarize(evals: &[EvalRecord]) -> Vec<DatasetRecord> {
    let mut datasets: Vec<DatasetRecord> = Vec::new();
    let mut scores: Vec<(f64, usize)> = Vec::new();
    for eval in evals {
        let Some(row) = &eval.dataset else { continue };
        let i = match datasets.iter().position(|d| d.name == row.name) {
            Some(i) => i,
            None => {
                datasets.push(DatasetRecord {
                    name: row.name.clone(),
                    file: row.file.clone(),
                    rows: 0,
                    passed: 0,
                    failed: 0,
                    errors: 0,
                    pass_rate: 0.0,
                    mean_score: None,
                    min_pass_rate: row.min_pass_rate,
                    gate: None,
                });
                scores.push((0.0, 0));
                datasets.len() - 1
            }
        };
        let dataset = &mut datasets[i];
        dataset.rows += 1;
        match eval.status {
            Status::Passed => dataset.passed += 1,
            Status::Failed => dataset.failed += 1,
            Status::Error => dataset.errors += 1,
        }
        if let Some(score) = eval.score {
            scores[i].0 += score;
            scores[i].1 += 1;
        }
    }
    for (dataset, (sum, scored)) in datasets.iter_mut().zip(scores) {
        dataset.pass_rate = dataset.passed as f64 / dataset.rows as f64;
        dataset.mean_score = (scored > 0).then(|| sum / scored as f64);
        dataset.gate = dataset
            .min_pass_rate
            .map(|min| if reaches(dataset.pass_rate, min) { Status::Passed } else { Status::Failed });
    }
    datasets.sort_by(|a, b| a.name.cmp(&b.name));
    datasets
}

/// Whether `pass_rate` reaches the gate `min_pass_rate` (a share like 9/10 reaches 0.9).
pub(crate) fn reaches(pass_rate: f64, min_pass_rate: f64) -> bool {
    pass_rate + 1e-9 >= min_pass_rate
}
