//! The reference statistics, as the reference libraries compute them, for the end-to-end tests to
//! compare a run's report with: tests/stats_reference.py (the calibration statistics, a dataset's
//! judge against its `human` labels, by scipy and scikit-learn) and
//! tests/length_control_reference.py (the length-controlled win rate, by statsmodels). Install
//! them with `pip install -r tests/requirements-stats.txt`.

use std::io::Write;
use std::process::Stdio;

use serde_json::Value;

use crate::python::{python_module_installed, python3};

/// Whether scipy, scikit-learn and numpy can be imported by `python3`.
pub fn scipy_installed() -> bool {
    python_module_installed("scipy.stats, sklearn.metrics, numpy")
}

/// Whether statsmodels and numpy can be imported by `python3`.
pub fn statsmodels_installed() -> bool {
    python_module_installed("statsmodels.api, numpy")
}

/// The statistics of `pairs` as the reference computes them: `kind` is `"scores"` (pairs of the
/// judge's score and the label, in scale points) or `"pass_fail"` (pairs of booleans). The
/// result has the keys of the JSON report's `datasets[].calibration`, undefined values null.
pub fn stats_reference(kind: &str, pairs: &[(Value, Value)]) -> Result<Value, String> {
    let pairs: Vec<Value> =
        pairs.iter().map(|(judge, human)| Value::from(vec![judge.clone(), human.clone()])).collect();
    reference("stats_reference.py", &serde_json::json!({ "kind": kind, "pairs": pairs }))
}

/// The length-controlled win rate of `comparisons` (the output's length minus the compared text's,
/// and the outcome: 1 a win, 0.5 a tie, 0 a loss) as statsmodels fits it: `n`, `win_rate`,
/// `intercept`, `slope`, `length_controlled_win_rate`, or `error` where there is no estimate.
pub fn length_control_reference(comparisons: &[(f64, f64)]) -> Result<Value, String> {
    let comparisons: Vec<[f64; 2]> = comparisons.iter().map(|&(delta, outcome)| [delta, outcome]).collect();
    reference("length_control_reference.py", &serde_json::json!({ "comparisons": comparisons }))
}

/// Runs the reference script `name` (in tests/) on `input`; its JSON output.
fn reference(name: &str, input: &Value) -> Result<Value, String> {
    let script = format!("{}/{name}", env!("CARGO_MANIFEST_DIR"));
    let input = input.to_string();
    let mut child = python3()
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3 does not start: {e}"))?;
    // The input is small; the script reads it all before it writes.
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .map_err(|e| format!("cannot write to {script}: {e}"))?;
    let output = child.wait_with_output().map_err(|e| format!("{script} does not finish: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{script} failed ({}) on {input}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("{script} printed no JSON ({e}):\n{}", String::from_utf8_lossy(&output.stdout)))
}
