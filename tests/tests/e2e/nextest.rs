//! The harness under `cargo nextest run`, which lists with `--list --format terse` and runs each
//! test in its own process with `--exact NAME --nocapture`: shards of a suite share the verdict
//! cache, and the processes of one run write one report.

use std::path::Path;

use judge_tests::FakeJudge;

use crate::common::{files, in_ci};

/// Whether cargo-nextest is installed; the test `name` is skipped without it, except in CI, which
/// must run it.
pub(crate) fn nextest_available(name: &str) -> bool {
    let installed =
        judge_tests::nested_cargo().args(["nextest", "--version"]).output().is_ok_and(|o| o.status.success());
    if !installed {
        assert!(!in_ci(), "cargo-nextest is not installed, and CI must run this test: install it");
        eprintln!("SKIPPED {name}: cargo-nextest is not installed");
    }
    installed
}

/// `cargo nextest run` of the suite binary `bin` of judge-tests (`suite-datasets`), judged by
/// `judge`, with its verdict cache in `cache` and its reports in `reports`; arguments and
/// variables are the caller's to add.
pub(crate) fn suite_under_nextest(bin: &str, judge: &FakeJudge, cache: &Path, reports: &Path) -> std::process::Command {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut command = judge_tests::nested_cargo();
    judge_tests::clear_judge_env(&mut command);
    command
        .current_dir(workspace)
        // `--workspace`, as `cargo test --workspace` selects: features resolve as they did there, so
        // nextest's build reuses every dependency (`-p judge-tests` rebuilt them all, minutes).
        .args(["nextest", "run", "--workspace", "--bin", bin, "--no-fail-fast", "--color", "never"])
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_CACHE_DIR", cache)
        .env("JUDGE_REPORT_DIR", reports);
    command
}

/// `cargo nextest run` of the example suite, judged by `judge`, with `args` added.
fn nextest(judge: &FakeJudge, cache: &Path, reports: &Path, args: &[&str]) -> judge_tests::HarnessRun {
    nextest_with(judge, cache, reports, args, &[])
}

/// [`nextest`], with the variables `vars` set.
fn nextest_with(
    judge: &FakeJudge,
    cache: &Path,
    reports: &Path,
    args: &[&str],
    vars: &[(&str, &str)],
) -> judge_tests::HarnessRun {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut command = judge_tests::nested_cargo();
    judge_tests::clear_judge_env(&mut command);
    // The example suite has `test = false`, so it is named. With `--workspace`, features resolve as
    // `cargo test --workspace` resolved them, and the workspace's profile builds build scripts'
    // dependencies as the others: only the suite itself is compiled.
    command
        .current_dir(workspace)
        .args(["nextest", "run", "--workspace", "--test", "evals", "--no-fail-fast", "--color", "never"])
        .args(args)
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_CACHE_DIR", cache)
        .env("JUDGE_REPORT_DIR", reports)
        .envs(vars.iter().copied());
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
    if !nextest_available("the_example_suite_runs_under_nextest") {
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
    // `cargo judge merge` makes the two machines' reports one run's.
    let merged = tempfile::tempdir().unwrap();
    let run = crate::shards::merge(&[first.path(), second.path(), Path::new("--out"), merged.path()]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stderr.contains("merged 2 shard records of evals: 3 evals, 3 passed"), "{}", run.all());
    assert_eq!(reported(merged.path()), all, "one report of the whole run");
    let junit = std::fs::read_to_string(merged.path().join("evals.junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 3, "{junit}");
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

/// Under nextest each eval is a process of its own: the processes of one run keep one budget and
/// one pacing between them, as a plain `cargo test` run does in its one process.
#[test]
fn budgets_and_pacing_hold_for_the_whole_nextest_run() {
    if !nextest_available("budgets_and_pacing_hold_for_the_whole_nextest_run") {
        return;
    }
    // 3 + 1 + 1 samples to judge and 4 calls allowed: the run makes 4 (each process on its own
    // budget made 5), and the eval that needed a fifth fails, saying which setting stopped it; its
    // calls admitted before finish and are cached.
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = nextest_with(&judge, cache.path(), reports.path(), &[], &[("JUDGE_MAX_JUDGE_CALLS", "4")]);
    assert_eq!(judge.requests(), 4, "{}", run.all());
    assert_eq!(files(cache.path()).len(), 4, "every call made is kept: {}", run.all());
    assert_ne!(run.code, Some(0), "{}", run.all());
    assert!(
        run.all().contains("`max_judge_calls` stops new judge calls") && run.all().contains("JUDGE_MAX_JUDGE_CALLS"),
        "{}",
        run.all()
    );

    // 120 requests a minute, run-wide: the five requests are sent at least 500 ms apart, whichever
    // process sends them (each process alone would send its own at once). They are counted where
    // they arrive, and a request that reaches the server late makes the next gap look shorter: on a
    // loaded machine, by up to a few hundred milliseconds (378 ms was seen). So each gap is at least
    // half the period, and together they span nearly four periods.
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = nextest_with(&judge, cache.path(), reports.path(), &[], &[("JUDGE_REQUESTS_PER_MINUTE", "120")]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.requests(), 5);
    let gaps = judge.gaps();
    assert!(gaps.iter().all(|gap| *gap >= std::time::Duration::from_millis(250)), "{gaps:?}");
    assert!(gaps.iter().sum::<std::time::Duration>() >= std::time::Duration::from_millis(1800), "{gaps:?}");

    // A budget in money, run-wide: judge.toml prices the judge; the five calls would cost more than
    // JUDGE_MAX_JUDGE_COST, which each process alone would not reach.
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config = cache.path().join("judge.toml");
    std::fs::write(&config, "[prices.\"openai:fake-judge\"]\nprompt = 1000.0\ncompletion = 0.0\n").unwrap();
    let config = config.to_str().unwrap();
    let vars = [("JUDGE_CONFIG", config), ("JUDGE_MAX_JUDGE_COST", MAX_COST)];
    let run = nextest_with(&judge, cache.path(), reports.path(), &[], &vars);
    assert_ne!(run.code, Some(0), "{}", run.all());
    assert!((1..5).contains(&judge.requests()), "{} calls:\n{}", judge.requests(), run.all());
    assert!(run.all().contains("`max_judge_cost`") && run.all().contains("JUDGE_MAX_JUDGE_COST"), "{}", run.all());
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.path().join("evals.json")).unwrap()).unwrap();
    let spent = record["cost"].as_f64().expect("a priced run records its cost");
    assert!(spent > 0.0 && spent <= MAX_COST.parse::<f64>().unwrap(), "the run spent {spent}:\n{record:#}");
}

/// The run-wide cost budget of the priced nextest run, in the prices' currency: below what the
/// example suite's five calls cost.
const MAX_COST: &str = "2.0";
