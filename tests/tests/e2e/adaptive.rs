//! Adaptive samples (`samples = "adaptive"`), through the `suite-adaptive` binary against the fake
//! judge: evals decided by their first samples, by later ones, and stopped by `max_samples`; the
//! samples drawn and the interval in the reports and a failure; the same draws and decisions from
//! the cache with no judge call; the attribute, `JUDGE_SAMPLES`/`JUDGE_MIN_SAMPLES`/
//! `JUDGE_MAX_SAMPLES` and judge.toml; and their errors.

use std::path::Path;
use std::process::Command;

use judge_tests::{FakeJudge, HarnessRun};
use serde_json::Value;

use crate::common::read_report;
use crate::datasets::{failure, record, run};

const BINARY: &str = env!("CARGO_BIN_EXE_suite-adaptive");

fn suite(judge: &FakeJudge, cache: &Path, reports: &Path) -> Command {
    crate::common::reporting(BINARY, judge, cache, reports)
}

/// Runs the suite with `vars` (and `args`); the run and its JSON report.
fn run_with(judge: &FakeJudge, cache: &Path, vars: &[(&str, &str)], args: &[&str]) -> (HarnessRun, Value) {
    let reports = tempfile::tempdir().unwrap();
    let run = run(suite(judge, cache, reports.path()).envs(vars.iter().copied()).args(args));
    let report = read_report(&reports.path().join("suite-adaptive.json"));
    (run, report)
}

fn eval(name: &str) -> String {
    format!("suite_adaptive::{name}")
}

/// The `adaptive` record of `name`: samples drawn, and whether the interval decided.
fn drawn(report: &Value, name: &str) -> (u64, bool) {
    let adaptive = &record(report, &eval(name))["adaptive"];
    (adaptive["drawn"].as_u64().unwrap_or_else(|| panic!("{name}: {adaptive}")), adaptive["decided"] == true)
}

#[test]
fn adaptive_samples_stop_once_decided_or_at_max_samples_and_replay_from_the_cache() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let (first, report) = run_with(&judge, cache.path(), &[], &["--skip", "configured"]);
    assert_eq!(first.code, Some(101), "failed_at_once fails: {}", first.all());

    assert_eq!(drawn(&report, "decided_at_once"), (3, true));
    assert_eq!(drawn(&report, "failed_at_once"), (3, true));
    let (later, decided) = drawn(&report, "decided_later");
    assert!(decided && (4..12).contains(&later), "scattered first, decided later: {later}");
    assert_eq!(drawn(&report, "at_the_limit"), (6, false), "max_samples stops an undecided eval");
    for (name, samples) in
        [("decided_at_once", 3), ("failed_at_once", 3), ("decided_later", later), ("at_the_limit", 6)]
    {
        let record = record(&report, &eval(name));
        assert_eq!(record["samples"].as_array().unwrap().len() as u64, samples, "{name}");
        let adaptive = &record["adaptive"];
        assert_eq!(
            (adaptive["confidence"].as_f64(), adaptive["max_samples"].as_u64()),
            (
                Some(0.9),
                Some(if name == "at_the_limit" {
                    6
                } else if name == "decided_later" {
                    12
                } else {
                    15
                })
            )
        );
        let [low, high] = [0, 1].map(|i| adaptive["interval"][i].as_f64().unwrap());
        assert!(
            low <= record["score"].as_f64().unwrap() + 1e-9 && record["score"].as_f64().unwrap() <= high + 1e-9,
            "{record}"
        );
    }
    assert_eq!(record(&report, &eval("decided_at_once"))["adaptive"]["interval"], serde_json::json!([0.9, 0.9]));
    assert!(first.has_outcome(&eval("at_the_limit"), "ok"), "a mean of 0.7 reaches 0.7: {}", first.all());
    // Every sample drawn was judged once.
    let calls = 3 + 3 + later + 6;
    assert_eq!(judge.requests(), calls);

    let message = failure(&first, &eval("failed_at_once"));
    assert!(
        message.contains("  3 samples drawn (adaptive, 3..=15); 90% interval of the score [0.30, 0.30], decided\n"),
        "{message}"
    );

    // The same cache: the same samples, the same stops, no call.
    let (again, replayed) = run_with(&judge, cache.path(), &[], &["--skip", "configured"]);
    assert_eq!(again.code, Some(101), "{}", again.all());
    assert_eq!(judge.requests(), calls, "a rerun judges nothing");
    for name in ["decided_at_once", "failed_at_once", "decided_later", "at_the_limit"] {
        assert_eq!(record(&replayed, &eval(name))["adaptive"], record(&report, &eval(name))["adaptive"], "{name}");
    }
}

#[test]
fn adaptive_samples_come_from_the_environment_and_judge_toml() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let only = ["--exact", "suite_adaptive::configured"];

    let (run, report) = run_with(&judge, cache.path(), &[("JUDGE_SAMPLES", "adaptive")], &only);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(drawn(&report, "configured"), (3, true));
    assert_eq!(record(&report, &eval("configured"))["sources"]["samples"], "JUDGE_SAMPLES");

    let vars = [("JUDGE_SAMPLES", "adaptive"), ("JUDGE_MIN_SAMPLES", "5"), ("JUDGE_MAX_SAMPLES", "8")];
    let (run, report) = run_with(&judge, cache.path(), &vars, &only);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(drawn(&report, "configured"), (5, true));
    assert_eq!(record(&report, &eval("configured"))["adaptive"]["max_samples"], 8);

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("judge.toml");
    std::fs::write(&config, "samples = \"adaptive\"\nmin_samples = 4\n").unwrap();
    let (run, report) = run_with(&judge, cache.path(), &[("JUDGE_CONFIG", config.to_str().unwrap())], &only);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(drawn(&report, "configured"), (4, true));

    // A fixed number from the environment wins over judge.toml's adaptive.
    let vars = [("JUDGE_CONFIG", config.to_str().unwrap()), ("JUDGE_SAMPLES", "2")];
    let (run, report) = run_with(&judge, cache.path(), &vars, &only);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(record(&report, &eval("configured")).get("adaptive").is_none());
    assert_eq!(record(&report, &eval("configured"))["samples"].as_array().unwrap().len(), 2);
}

#[test]
fn bad_adaptive_settings_are_clear_errors() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let reports = tempfile::tempdir().unwrap();
    let run = crate::datasets::run(suite(&judge, cache.path(), reports.path()).env("JUDGE_SAMPLES", "adaptiv"));
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stderr.contains("environment variable JUDGE_SAMPLES=\"adaptiv\" is invalid: \"adaptiv\" is not a whole number nor \"adaptive\""),
        "{}",
        run.all()
    );
    // Crossed bounds fail each adaptive eval, naming them; a fixed-sample eval is unaffected.
    let vars = [("JUDGE_MIN_SAMPLES", "9"), ("JUDGE_MAX_SAMPLES", "4")];
    let (run, _) = run_with(&judge, cache.path(), &vars, &[]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    for name in ["decided_at_once", "failed_at_once"] {
        let message = failure(&run, &eval(name));
        assert!(message.contains("`min_samples` (9) is above `max_samples` (4)"), "{name}: {message}");
    }
    // Bounds of an eval's own attribute win over the variables': those evals run.
    assert!(run.has_outcome(&eval("at_the_limit"), "ok"), "{}", run.all());
    assert!(run.has_outcome(&eval("configured"), "ok"), "a fixed-sample eval: {}", run.all());
}
