//! The harness under `cargo nextest run`, which lists with `--list --format terse` and runs each
//! test in its own process with `--exact NAME --nocapture`: shards of a suite share the verdict
//! cache, and the processes of one run write one report.

use std::path::Path;

use judge_tests::FakeJudge;

use crate::common::{files, in_ci};

fn nextest_installed() -> bool {
    judge_tests::nested_cargo().args(["nextest", "--version"]).output().is_ok_and(|o| o.status.success())
}

/// `cargo nextest run` of the example suite, judged by `judge`, with `args` added.
fn nextest(judge: &FakeJudge, cache: &Path, reports: &Path, args: &[&str]) -> judge_tests::HarnessRun {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut command = judge_tests::nested_cargo();
    judge_tests::clear_judge_env(&mut command);
    // The example suite has `test = false`, so it is named. (This selection resolves features apart
    // from `cargo test --workspace`: the first run builds its own dependencies, a few minutes.)
    command
        .current_dir(workspace)
        .args(["nextest", "run", "--workspace", "--test", "evals", "--no-fail-fast", "--color", "never"])
        .args(args)
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_CACHE_DIR", cache)
        .env("JUDGE_REPORT_DIR", reports);
    judge_tests::HarnessRun::of(&mut command)
}

/// The evals in the JSON report of the `evals` binary in `reports`.
fn reported(reports: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(reports.join("evals.json")).unwrap();
    let record: serde_json::Value = serde_json::from_str(&text).unwrap();
    record["evals"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn the_example_suite_runs_under_nextest() {
    if !nextest_installed() {
        assert!(!in_ci(), "cargo-nextest is not installed, and CI must run this test: install it");
        eprintln!("SKIPPED the_example_suite_runs_under_nextest: cargo-nextest is not installed");
        return;
    }
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let all = ["evals::capital_of_australia", "evals::clock_hands", "evals::refund_policy"];

    // Two shards, as two CI machines would run them, sharing one verdict cache directory.
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let shard1 = nextest(&judge, cache.path(), first.path(), &["--partition", "count:1/2"]);
    let shard2 = nextest(&judge, cache.path(), second.path(), &["--partition", "count:2/2"]);
    for shard in [&shard1, &shard2] {
        assert_eq!(shard.code, Some(0), "{}", shard.all());
    }
    // Each shard's report holds its own evals, written by one process per eval, merged.
    let (one, two) = (reported(first.path()), reported(second.path()));
    assert!(!one.is_empty() && !two.is_empty(), "{one:?} {two:?}");
    let mut union: Vec<String> = one.iter().chain(&two).cloned().collect();
    union.sort();
    assert_eq!(union, all, "the shards split the suite");
    let junit = std::fs::read_to_string(first.path().join("evals.junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), one.len(), "{junit}");
    // One process per test, one shared cache: 3 + 1 + 1 samples, each judged once.
    assert_eq!(judge.requests(), 5);
    assert_eq!(files(cache.path()).len(), 5);

    // The whole suite again, unsharded: every verdict comes from the shards' cache.
    let reports = tempfile::tempdir().unwrap();
    let run = nextest(&judge, cache.path(), reports.path(), &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    for eval in all {
        assert!(run.stderr.contains(eval), "nextest ran {eval}:\n{}", run.all());
    }
    assert!(run.stderr.contains("3 tests run: 3 passed"), "{}", run.all());
    assert_eq!(judge.requests(), 5, "nothing judged twice");
    assert_eq!(reported(reports.path()), all, "three processes, one report");
}
