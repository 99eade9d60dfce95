//! tests/stats_reference.py: the calibration statistics (a dataset's judge against its `human`
//! labels) as scipy and scikit-learn compute them, for the end-to-end tests to compare a run's
//! report with. Install them with `pip install -r tests/requirements-stats.txt`.

use std::io::Write;
use std::process::Stdio;

use serde_json::Value;

use crate::python::{python_module_installed, python3};

/// Whether scipy, scikit-learn and numpy can be imported by `python3`.
pub fn scipy_installed() -> bool {
    python_module_installed("scipy.stats, sklearn.metrics, numpy")
}

/// The statistics of `pairs` as the reference computes them: `kind` is `"scores"` (pairs of the
/// judge's score and the label, in scale points) or `"pass_fail"` (pairs of booleans). The
/// result has the keys of the JSON report's `datasets[].calibration`, undefined values null.
pub fn stats_reference(kind: &str, pairs: &[(Value, Value)]) -> Result<Value, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/stats_reference.py");
    let pairs: Vec<Value> =
        pairs.iter().map(|(judge, human)| Value::from(vec![judge.clone(), human.clone()])).collect();
    let input = serde_json::json!({ "kind": kind, "pairs": pairs }).to_string();
    let mut child = python3()
        .arg(script)
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
