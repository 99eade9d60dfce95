//! `--list` is pure: no network, no cache I/O, nothing on stdout but `name: test` lines.

use judge_tests::{FakeJudge, HarnessRun, harness};

use crate::common::{files, suite};

#[test]
fn listing_makes_no_requests_and_creates_no_files() {
    let judge = FakeJudge::start();
    let scratch = tempfile::tempdir().unwrap();
    let cache_dir = scratch.path().join("cache");
    let mut command = suite(&judge, &cache_dir);
    command.arg("--list").current_dir(scratch.path());
    let run = HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 23, "{}", run.all());
    assert!(lines.iter().all(|l| l.starts_with("suite_basic::") && l.ends_with(": test")), "{}", run.all());
    assert!(lines.contains(&"suite_basic::slow_1: test"), "`name` overrides the function name");
    assert_eq!(judge.requests(), 0);
    assert!(files(scratch.path()).is_empty(), "listing wrote {:?}", files(scratch.path()));
}

#[test]
fn listing_needs_no_judge_and_reads_no_settings() {
    // Broken settings would fail a run, but a listing never reads them.
    let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
    command.env("JUDGE_THRESHOLD", "not-a-number").args(["--list", "--format", "terse"]);
    let run = HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("suite_basic::passes: test"), "{}", run.all());
}

#[test]
fn listing_ignored_evals() {
    let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
    command.args(["--list", "--ignored"]);
    let run = HarnessRun::of(&mut command);
    assert_eq!(run.stdout, "suite_basic::ignored: test\n", "{}", run.all());
}

#[test]
fn a_binary_without_evals_fails_loudly() {
    for args in [&[][..], &["--list"][..]] {
        let run = HarnessRun::of(harness(env!("CARGO_BIN_EXE_suite-empty")).args(args));
        assert_eq!(run.code, Some(1), "{}", run.all());
        assert!(run.stderr.contains("this test binary has no evals: no function carries #[llm_eval]"), "{}", run.all());
    }
}
