//! Synthetic contrastive pairs (`validate = "synthetic"`), through the `suite-synthetic` binary
//! and the fake judge's generation mode: the pairs generated, dropped when unusable, judged
//! (graded, or compared in both orders) and reported per dataset; the `min_accuracy` gate and
//! `max_pairs`; `generator`; the judge calls counted at the judge, none on a rerun or a replay; the
//! pairs' snapshot; `validate` from the attribute, `JUDGE_VALIDATE` and judge.toml; bad input.

use std::path::Path;
use std::process::Command;

use judge_tests::{FakeJudge, FakeJudgeConfig, HarnessRun, harness};
use serde_json::{Value, json};

use crate::common::read_report;
use crate::datasets::{dataset_summary, failure, record, run};

const BINARY: &str = env!("CARGO_BIN_EXE_suite-synthetic");

/// The `suite-synthetic` binary judged by `judge`, its cache in `cache`, its reports and insta's
/// workspace (so that the pairs' snapshots land there, not in this repository) in `dir`.
fn suite(judge: &FakeJudge, cache: &Path, dir: &Path) -> Command {
    let mut command = crate::common::reporting(BINARY, judge, cache, dir);
    command.env("INSTA_WORKSPACE_ROOT", dir).env("INSTA_UPDATE", "new").env_remove("JUDGE_VALIDATE");
    command
}

/// The fake judge, which grades the rows without a reference answer (their function's output is the
/// good answer) as the scripted markers say.
fn fake_judge() -> FakeJudge {
    FakeJudge::start_with(FakeJudgeConfig { allow_missing_context: true, ..Default::default() })
}

/// Runs the suite but the dataset whose row id clashes (`clash`); its run and JSON report.
fn run_suite(judge: &FakeJudge, cache: &Path, vars: &[(&str, &str)]) -> (HarnessRun, Value) {
    let dir = tempfile::tempdir().unwrap();
    let run = run(suite(judge, cache, dir.path()).envs(vars.iter().copied()).args(["--skip", "clash"]));
    let report = read_report(&dir.path().join("suite-synthetic.json"));
    (run, report)
}

/// The requests `judge` received that ask for a contrastive pair, by the model asked.
fn generator_requests(judge: &FakeJudge) -> Vec<String> {
    let asks = |body: &Value| body.to_string().contains("## A good answer to the task");
    let mut models: Vec<String> =
        judge.bodies().iter().filter(|b| asks(b)).map(|b| b["model"].as_str().unwrap().to_owned()).collect();
    models.sort();
    models
}

/// The synthetic record of the dataset `name` in `report`.
fn synthetic<'a>(report: &'a Value, name: &str) -> &'a Value {
    &dataset_summary(report, &format!("suite_synthetic::{name}"))["synthetic"]
}

/// The record of the support rows' pairs, as every report of them holds it.
fn support_pairs() -> Value {
    json!({
        "file": "data/datasets/synthetic.jsonl",
        "pairs": 4,
        "accuracy": 0.5,
        "ties": 1,
        "dropped": {"identical": 1, "empty": 1, "refused": 1, "unreadable": 1},
        "failing": [
            {"id": "wrong", "instruction": "What colour is the sky on a clear day? (asked about a different case)", "good": 0.6, "worse": 1.0},
            {"id": "tie", "instruction": "How many legs has a spider? (asked about a different case)", "good": 0.1, "worse": 0.1}
        ]
    })
}

#[test]
fn pairs_are_generated_judged_gated_and_reported_and_a_rerun_costs_nothing() {
    let judge = fake_judge();
    let cache = tempfile::tempdir().unwrap();
    let (first, report) = run_suite(&judge, cache.path(), &[]);
    // The gate on the same rows fails its test, and only it.
    assert_eq!(first.code, Some(101), "{}", first.all());
    assert!(first.has_outcome("suite_synthetic::gated::synthetic", "FAILED"), "{}", first.all());
    assert!(first.has_outcome("suite_synthetic::support::synthetic", "ok"), "{}", first.all());
    assert!(first.has_outcome("suite_synthetic::compared::synthetic", "ok"), "{}", first.all());
    assert!(first.stdout.contains("1 failed"), "{}", first.all());

    // Per dataset, in the JSON report: two pairs right, one wrong, one tied, four dropped (each
    // reason once: identical, empty, refused, and a reply that never held an answer).
    assert_eq!(synthetic(&report, "support"), &support_pairs());
    let mut gated = support_pairs();
    gated["min_accuracy"] = json!(0.75);
    assert_eq!(synthetic(&report, "gated"), &gated);
    // Compared in both orders: the good answer wins both pairs, outright.
    assert_eq!(
        synthetic(&report, "compared"),
        &json!({"file": "data/datasets/synthetic_outputs.jsonl", "pairs": 2, "accuracy": 1.0, "ties": 0,
                "dropped": {"identical": 0, "empty": 0, "refused": 0, "unreadable": 0}, "failing": []})
    );
    assert!(dataset_summary(&report, "suite_synthetic::outputs").get("synthetic").is_none(), "not validated");
    // The test's own record carries it too, with why it failed.
    let gate = record(&report, "suite_synthetic::gated::synthetic");
    assert_eq!((gate["status"].as_str(), gate["failure"].as_str()), (Some("failed"), Some("synthetic_accuracy")));
    assert_eq!(gate["synthetic"], gated);
    assert_eq!(
        failure(&first, "suite_synthetic::gated::synthetic"),
        "synthetic pairs of data/datasets/synthetic.jsonl: the judge ordered 50% of 4 synthetic pairs right \
         (accuracy 0.50), below `min_accuracy` 0.75 (by 0.25)\n  \
         row `wrong`: good answer 0.60, worse answer 1.00 (it answers: What colour is the sky on a clear day? \
         (asked about a different case))\n  \
         row `tie`: good answer 0.10, worse answer 0.10 (it answers: How many legs has a spider? (asked about a \
         different case))"
    );
    assert!(
        first.stdout.contains(
            "judge: judge on the synthetic pairs of suite_synthetic::support: accuracy 0.50 on 4 pairs (1 tie), 4 \
             dropped (1 identical, 1 empty, 1 refused, 1 unreadable)"
        ),
        "{}",
        first.all()
    );

    // Counted at the judge: each pair asked once though two evals validate on the same rows (the
    // reply without an answer asked three times, as any unreadable reply), `compared`'s two from
    // its own generator; the good answers are the rows' own verdicts, so only the worse answers
    // add verdicts: 4 graded, and 2 compared in both orders.
    let mut expected_generation = vec!["fake-generator".to_owned(); 2];
    expected_generation.extend(vec!["fake-judge".to_owned(); 7 + 3]);
    assert_eq!(generator_requests(&judge), expected_generation);
    let rows = 8 + 3 + 3 * 2;
    assert_eq!(judge.requests(), 12 + rows + 4 + 2 * 2, "{}", first.all());

    // A rerun on the same cache asks nothing and reports the same; so does a replay (CI without a
    // key), whose judge is not even reachable.
    let (again, rerun) = run_suite(&judge, cache.path(), &[]);
    assert_eq!(again.code, Some(101), "{}", again.all());
    assert_eq!(judge.requests(), 12 + rows + 8, "a rerun asks nothing: {}", again.all());
    assert_eq!(synthetic(&rerun, "support"), &support_pairs());
    drop(judge);
    let unreachable = fake_judge();
    let (replayed, replay) = run_suite(&unreachable, cache.path(), &[("JUDGE_CACHE", "replay")]);
    assert_eq!(replayed.code, Some(101), "{}", replayed.all());
    assert_eq!(unreachable.requests(), 0, "{}", replayed.all());
    assert_eq!(synthetic(&replay, "gated"), &gated);
}

#[test]
fn the_pairs_are_snapshotted_for_review() {
    let judge = fake_judge();
    let (cache, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(suite(&judge, cache.path(), dir.path()).args(["--exact", "suite_synthetic::support::synthetic"]));
    assert_eq!(run.code, Some(0), "{}", run.all());
    let report = read_report(&dir.path().join("suite-synthetic.json"));
    // Only the validation ran: the dataset's entry is made from it.
    assert_eq!(synthetic(&report, "support"), &support_pairs());
    assert_eq!(record(&report, "suite_synthetic::support::synthetic")["snapshot"], "changed", "a new snapshot");
    let path = crate::common::snapshot_dir(dir.path()).join("suite_synthetic__support@@synthetic.snap.new");
    let snapshot = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), run.all()));
    for part in [
        "eval: \"suite_synthetic::support::synthetic\"",
        "## row right-1\ntask: How many times a day do the hands of a clock overlap?\ngood answer: [score:9] 22 times \
         a day.\ngenerated instruction: How many times a day do the hands of a clock overlap? (asked about a \
         different case)\nworse answer: [score:1] An answer to the different case.\n",
        "## row identical\n",
        "dropped: identical\n",
        "worse answer: I'm sorry, I can't write that.\ndropped: refused\n",
        "generator's reply unreadable: the JSON object lacks a string \"instruction\" or \"answer\"\ndropped: \
         unreadable\n",
    ] {
        assert!(snapshot.contains(part), "{part:?} in:\n{snapshot}");
    }
}

#[test]
fn validate_comes_from_the_environment_and_judge_toml_and_the_good_answer_from_the_function() {
    let listed = |vars: &[(&str, &str)]| {
        let run = run(harness(BINARY).env_remove("JUDGE_VALIDATE").envs(vars.iter().copied()).arg("--list"));
        assert_eq!(run.code, Some(0), "{}", run.all());
        run.stdout.lines().filter(|l| l.ends_with("::synthetic: test")).map(str::to_owned).collect::<Vec<_>>()
    };
    let attribute = ["compared", "gated", "support"].map(|e| format!("suite_synthetic::{e}::synthetic: test"));
    assert_eq!(listed(&[]), attribute);
    let all = ["compared", "gated", "outputs", "support"].map(|e| format!("suite_synthetic::{e}::synthetic: test"));
    assert_eq!(listed(&[("JUDGE_VALIDATE", "synthetic")]), all);
    let config = tempfile::tempdir().unwrap();
    let toml = config.path().join("judge.toml");
    std::fs::write(&toml, "[evals.\"suite_synthetic::outputs\"]\nvalidate = \"synthetic\"\n").unwrap();
    assert_eq!(listed(&[("JUDGE_CONFIG", toml.to_str().unwrap())]), all);
    // A value that does not read leaves listing to the attributes, and stops a run, naming it.
    assert_eq!(listed(&[("JUDGE_VALIDATE", "contrastive")]), attribute);

    // Run from judge.toml: the rows' function outputs are the good answers, each judged once for its
    // row's test and its pair: 3 rows, 3 pairs generated, 3 worse answers.
    let judge = fake_judge();
    let (cache, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut command = suite(&judge, cache.path(), dir.path());
    let outputs = run(command.env("JUDGE_CONFIG", &toml).args(["suite_synthetic::outputs"]));
    assert_eq!(outputs.code, Some(0), "{}", outputs.all());
    let report = read_report(&dir.path().join("suite-synthetic.json"));
    assert_eq!(synthetic(&report, "outputs")["pairs"], 3);
    assert_eq!(synthetic(&report, "outputs")["accuracy"], 1.0);
    assert_eq!(judge.requests(), 3 + 3 + 3, "{}", outputs.all());

    let bad = run(suite(&judge, cache.path(), dir.path()).env("JUDGE_VALIDATE", "contrastive"));
    assert_eq!(bad.code, Some(1), "{}", bad.all());
    assert!(
        bad.all().contains("environment variable JUDGE_VALIDATE=\"contrastive\" is invalid")
            && bad.all().contains("is not \"synthetic\""),
        "{}",
        bad.all()
    );
}

#[test]
fn max_pairs_bounds_the_rows_and_a_clashing_row_id_is_an_error() {
    let judge = fake_judge();
    let (cache, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The first two rows are both ordered right: the gate passes.
    let mut command = suite(&judge, cache.path(), dir.path());
    let run_gated = run(command.env("JUDGE_MAX_PAIRS", "2").args(["--exact", "suite_synthetic::gated::synthetic"]));
    assert_eq!(run_gated.code, Some(0), "{}", run_gated.all());
    let report = read_report(&dir.path().join("suite-synthetic.json"));
    assert_eq!(
        (synthetic(&report, "gated")["pairs"].as_u64(), synthetic(&report, "gated")["accuracy"].as_f64()),
        (Some(2), Some(1.0))
    );
    assert_eq!(generator_requests(&judge).len(), 2);

    let clash = run(suite(&judge, cache.path(), dir.path()).args(["--exact", "suite_synthetic::clash"]));
    assert_eq!(clash.code, Some(101), "{}", clash.all());
    assert!(
        failure(&clash, "suite_synthetic::clash").ends_with(
            "bad/synthetic_id.jsonl:2: the id \"synthetic\" names the dataset's synthetic test \
             (module::function::synthetic): give the row another id"
        ),
        "{}",
        clash.all()
    );
}

#[test]
fn the_validation_runs_under_nextest_one_process_per_test() {
    if !crate::nextest::nextest_available("the_validation_runs_under_nextest_one_process_per_test") {
        return;
    }
    let judge = fake_judge();
    let (cache, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut command = crate::nextest::suite_under_nextest("suite-synthetic", &judge, cache.path(), dir.path());
    command
        .args(["-E", "test(/::(support|gated)::/)"])
        .env("INSTA_WORKSPACE_ROOT", dir.path())
        .env("INSTA_UPDATE", "new");
    let run = crate::datasets::bounded(&mut command, crate::datasets::NEXTEST_LIMIT);
    assert_eq!(run.code, Some(100), "nextest fails the gate: {}", run.all());
    // Built for tests, the binary is `suite_synthetic-HASH`: one report of every process.
    let report = read_report(&dir.path().join("suite_synthetic.json"));
    assert_eq!(synthetic(&report, "support"), &support_pairs());
    assert_eq!(record(&report, "suite_synthetic::gated::synthetic")["failure"], "synthetic_accuracy");
    assert_eq!(record(&report, "suite_synthetic::support::synthetic")["status"], "passed");
    assert_eq!(dataset_summary(&report, "suite_synthetic::support")["rows"], 8);
}
