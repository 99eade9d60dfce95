//! The win rates of a pairwise dataset (`compare_with` on each row), through the `suite-probes`
//! binary's `pairwise` dataset (tests/data/datasets/pairwise.jsonl): the raw win rate and the
//! length-controlled win rate in the JSON report's `datasets[].pairwise`, the fit compared with
//! statsmodels' on the same comparisons (tests/length_control_reference.py, `pip install -r
//! tests/requirements-stats.txt`; with `CI` set, the comparison fails rather than skips without
//! it), and the line the terminal and the other reports show.

use judge_tests::{FakeJudge, length_control_reference, statsmodels_installed};
use serde_json::Value;

use crate::common::{in_ci, read_report, reporting};
use crate::datasets::{dataset_path, run};

const BINARY: &str = env!("CARGO_BIN_EXE_suite-probes");

/// The rows of pairwise.jsonl: each answer's and compared text's length in characters, by id.
fn lengths() -> Vec<(String, usize, usize)> {
    let text = std::fs::read_to_string(dataset_path("pairwise.jsonl")).unwrap();
    text.lines()
        .map(|line| {
            let row: Value = serde_json::from_str(line).unwrap();
            let chars = |key: &str| row[key].as_str().unwrap().chars().count();
            (row["id"].as_str().unwrap().to_owned(), chars("answer"), chars("compare_with"))
        })
        .collect()
}

#[test]
fn a_pairwise_datasets_length_controlled_win_rate_is_statsmodels_fit() {
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut command = reporting(BINARY, &judge, cache.path(), reports.path());
    command.env("JUDGE_PROBES", "none").arg("pairwise");
    let run = run(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let report = read_report(&reports.path().join("suite-probes.json"));

    // Each row's comparison: its lengths from the file, its outcome from its record.
    let mut comparisons = Vec::new();
    for (id, answer, compared) in lengths() {
        let name = format!("suite_probes::pairwise::{id}");
        let row = report["evals"].as_array().unwrap().iter().find(|e| e["name"] == name.as_str()).unwrap();
        let sample = &row["samples"][0];
        assert_eq!(
            (sample["output_chars"].as_u64(), sample["compared_chars"].as_u64()),
            (Some(answer as u64), Some(compared as u64))
        );
        comparisons.push((answer as f64 - compared as f64, sample["score"].as_f64().unwrap()));
    }
    let outcomes: Vec<f64> = comparisons.iter().map(|c| c.1).collect();
    assert!(outcomes.contains(&1.0) && outcomes.contains(&0.5) && outcomes.contains(&0.0), "wins, ties and losses");

    let dataset =
        report["datasets"].as_array().unwrap().iter().find(|d| d["name"] == "suite_probes::pairwise").unwrap();
    let pairwise = &dataset["pairwise"];
    let keys: Vec<&String> = pairwise.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["comparisons", "win_rate", "length_controlled_win_rate", "intercept", "slope"]);
    assert_eq!(pairwise["comparisons"], 32);
    let raw = outcomes.iter().sum::<f64>() / 32.0;
    assert!((pairwise["win_rate"].as_f64().unwrap() - raw).abs() < 1e-12, "{pairwise}");
    // Longer answers win more often in this file: the fit's slope is positive.
    assert!(pairwise["slope"].as_f64().unwrap() > 0.5, "{pairwise}");

    let line = format!(
        "win rate {raw:.2}, length-controlled {:.2} (32 comparisons)",
        pairwise["length_controlled_win_rate"].as_f64().unwrap()
    );
    assert!(run.all().contains(&format!("judge: comparisons of suite_probes::pairwise: {line}")), "{}", run.all());
    let read = |ext: &str| std::fs::read_to_string(reports.path().join(format!("suite-probes.{ext}"))).unwrap();
    assert!(read("md").contains(&format!("  - comparisons: {line}")), "{}", read("md"));
    assert!(read("html").contains(&format!("comparisons: {line}")));
    assert!(
        read("junit.xml")
            .contains(&format!("<property name=\"comparisons suite_probes::pairwise\" value=\"{line}\"/>"))
    );

    if !statsmodels_installed() {
        assert!(
            !in_ci(),
            "statsmodels is not installed, and CI must compare with it: pip install -r tests/requirements-stats.txt"
        );
        eprintln!(
            "SKIPPED the comparison with statsmodels: it is not installed (pip install -r tests/requirements-stats.txt)"
        );
        return;
    }
    let reference = length_control_reference(&comparisons).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reference["n"], 32, "{reference}");
    for key in ["win_rate", "intercept", "slope", "length_controlled_win_rate"] {
        let (ours, theirs) = (pairwise[key].as_f64().unwrap(), reference[key].as_f64().unwrap());
        assert!((ours - theirs).abs() <= 1e-9, "{key}: ours {ours}, statsmodels {theirs}");
    }
}

#[test]
fn a_pairwise_dataset_without_an_estimate_says_why() {
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The two rows pair-08 and pair-09, whose answers both lose: every comparison a loss, so the
    // log-odds of a win are infinite and there is no estimate.
    let mut command = reporting(BINARY, &judge, cache.path(), reports.path());
    command.env("JUDGE_PROBES", "none").arg("suite_probes::pairwise::pair-0");
    for earlier in 1..=7 {
        command.args(["--skip", &format!("pair-0{earlier}")]);
    }
    let run = run(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let report = read_report(&reports.path().join("suite-probes.json"));
    let pairwise = &report["datasets"][0]["pairwise"];
    assert_eq!(pairwise["comparisons"], 2, "{pairwise}");
    assert_eq!(pairwise["win_rate"], 0.0, "{pairwise}");
    assert_eq!(pairwise["length_controlled_win_rate"], Value::Null);
    assert_eq!(pairwise["no_fit"], "every comparison is a loss, so there is no win rate at equal length to estimate");
    assert!(
        run.all().contains("win rate 0.00, no length-controlled win rate: every comparison is a loss"),
        "{}",
        run.all()
    );
}
