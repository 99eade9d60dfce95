//! Rationale snapshots through insta: written beside the eval's file, reviewed and accepted with
//! cargo-insta, a change shown but not failing unless the eval is strict.

use std::path::Path;
use std::process::Command;

use judge_tests::{FakeJudge, HarnessRun};
use serde_json::Value;

use crate::common::{in_ci, snapshot_dir, snapshot_files};

/// The `suite-snapshot` binary with insta's workspace at `root`, so its snapshots land in
/// `root/tests/src/bin/snapshots/` instead of this repository. `CI` is removed: insta behaves
/// differently there, which one test checks on purpose.
fn snapshot_suite(judge: &FakeJudge, root: &Path) -> Command {
    let mut command = judge_tests::harness(env!("CARGO_BIN_EXE_suite-snapshot"));
    command
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_CACHE_DIR", root.join("cache"))
        .env("JUDGE_REPORT_JSON", root.join("report.json"))
        .env("INSTA_WORKSPACE_ROOT", root)
        .env_remove("CI")
        .env_remove("SUITE_ANSWER");
    command
}

/// How each eval's snapshot compared, from the JSON report.
fn states(root: &Path) -> Vec<(String, Value)> {
    let report: Value = serde_json::from_str(&std::fs::read_to_string(root.join("report.json")).unwrap()).unwrap();
    report["evals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_owned(), e["snapshot"].clone()))
        .collect()
}

/// Each eval's status (`capital`, `capital_strict`, `unsnapshotted`), from the JSON report: insta
/// prints its diffs while libtest prints its lines, so the report is the reliable account.
fn statuses(root: &Path) -> Vec<String> {
    let report: Value = serde_json::from_str(&std::fs::read_to_string(root.join("report.json")).unwrap()).unwrap();
    report["evals"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap().to_owned()).collect()
}

/// `cargo insta accept` for the snapshots under `root`, as a user runs it.
fn accept(root: &Path) -> bool {
    let Ok(output) = Command::new("cargo").args(["insta", "--version"]).output() else { return false };
    if !output.status.success() {
        return false;
    }
    // cargo-insta looks for pending snapshots in the packages of the workspace it is run in.
    std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"under-review\"\nversion = \"0.0.0\"\n\n[workspace]\n")
        .unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/lib.rs"), "").unwrap();
    let status = Command::new("cargo")
        .args(["insta", "accept", "--workspace-root"])
        .arg(root)
        .current_dir(root)
        .env_remove("CI")
        .status()
        .expect("cargo insta runs");
    assert!(status.success(), "cargo insta accept failed");
    true
}

#[test]
fn verdicts_are_snapshotted_reviewed_and_accepted_with_insta() {
    let judge = FakeJudge::start();
    let root = tempfile::tempdir().unwrap();

    // First run: no accepted snapshot yet. insta writes `.snap.new` files for review; the
    // lenient eval passes, the strict one fails until its snapshot is accepted.
    let first = HarnessRun::of(&mut snapshot_suite(&judge, root.path()));
    assert_eq!(first.code, Some(101), "{}", first.all());
    assert_eq!(statuses(root.path()), ["passed", "failed", "passed"], "{}", first.all());
    assert!(first.stdout.contains("`cargo insta review`"), "{}", first.all());
    assert!(!first.all().contains("panicked"), "insta's panic is not printed twice:\n{}", first.all());
    assert_eq!(
        snapshot_files(root.path()),
        ["suite_snapshot__capital.snap.new", "suite_snapshot__capital_strict.snap.new"]
    );

    if !accept(root.path()) {
        assert!(!in_ci(), "cargo-insta is missing: `cargo install --locked cargo-insta` (.ci/run installs it)");
        eprintln!("skipping the rest: cargo-insta is not installed (`cargo install --locked cargo-insta`)");
        return;
    }
    assert_eq!(snapshot_files(root.path()), ["suite_snapshot__capital.snap", "suite_snapshot__capital_strict.snap"]);
    let snap = std::fs::read_to_string(snapshot_dir(root.path()).join("suite_snapshot__capital.snap")).unwrap();
    assert!(snap.contains("description: Names the capital and its river."), "{snap}");
    assert!(snap.contains("input: \"Capital of France, and its river?\""), "{snap}");
    assert!(snap.contains("output: \"Paris, on the Seine.\""), "{snap}");
    assert!(
        snap.ends_with(
            "---\nscore: 1.00 (passed, threshold 0.10)\njudge: openai:fake-judge\nsamples: 1\nrationale of the median \
             sample:\nThe output contains every word of the reference answer (4 of 4).\n"
        ),
        "{snap}"
    );

    // Unchanged: both pass, nothing pending.
    let same = HarnessRun::of(&mut snapshot_suite(&judge, root.path()));
    assert_eq!(same.code, Some(0), "{}", same.all());
    assert_eq!(snapshot_files(root.path()).len(), 2, "no .snap.new");
    let matched: Vec<_> = states(root.path()).into_iter().map(|(_, s)| s).collect();
    assert_eq!(matched, [Value::from("matched"), Value::from("matched"), Value::Null]);

    // The judge's reasons change: shown as a diff, pending review; only the strict eval fails.
    let mut changed = snapshot_suite(&judge, root.path());
    changed.env("SUITE_ANSWER", "Paris.");
    let changed = HarnessRun::of(&mut changed);
    assert_eq!(changed.code, Some(101), "{}", changed.all());
    assert_eq!(statuses(root.path()), ["passed", "failed", "passed"], "{}", changed.all());
    assert!(changed.stdout.contains("lacks: on, seine, the"), "insta shows the new rationale:\n{}", changed.all());
    assert!(changed.stdout.contains("every word of the reference answer"), "and the old one:\n{}", changed.all());
    let changed_states: Vec<_> = states(root.path()).into_iter().map(|(_, s)| s).collect();
    assert_eq!(changed_states[..2], [Value::from("changed"), Value::from("changed")]);
    assert_eq!(snapshot_files(root.path()).iter().filter(|n| n.ends_with(".snap.new")).count(), 2);

    // Under `cargo insta test` (INSTA_FORCE_PASS), insta passes every assertion and cargo-insta
    // collects the changes: nothing fails, and the report says so.
    let mut forced = snapshot_suite(&judge, root.path());
    forced.env("SUITE_ANSWER", "Paris.").env("INSTA_FORCE_PASS", "1");
    let forced = HarnessRun::of(&mut forced);
    assert_eq!(forced.code, Some(0), "{}", forced.all());
    let forced_states: Vec<_> = states(root.path()).into_iter().map(|(_, s)| s).collect();
    assert_eq!(forced_states[..2], [Value::from("unchecked"), Value::from("unchecked")]);

    // A run can snapshot every eval; `CI` set makes insta write no `.snap.new` unless told to.
    let mut all = snapshot_suite(&judge, root.path());
    all.env("JUDGE_SNAPSHOT", "true").env("CI", "true");
    let all = HarnessRun::of(&mut all);
    assert_eq!(statuses(root.path())[2], "passed", "{}", all.all());
    assert!(!snapshot_files(root.path()).iter().any(|n| n.contains("unsnapshotted")), "CI: no pending file");
    let mut all = snapshot_suite(&judge, root.path());
    all.env("JUDGE_SNAPSHOT", "true").env("CI", "true").env("INSTA_UPDATE", "new");
    HarnessRun::of(&mut all);
    assert!(snapshot_files(root.path()).contains(&"suite_snapshot__unsnapshotted.snap.new".to_owned()));
}
