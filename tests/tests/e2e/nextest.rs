//! The harness under `cargo nextest run`, which lists with `--list --format terse` and runs each
//! test in its own process with `--exact NAME --nocapture`.

use judge_tests::FakeJudge;

use crate::common::{files, in_ci};

fn nextest_installed() -> bool {
    judge_tests::nested_cargo().args(["nextest", "--version"]).output().is_ok_and(|o| o.status.success())
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
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut command = judge_tests::nested_cargo();
    judge_tests::clear_judge_env(&mut command);
    // The example suite has `test = false`, so it is named. (This selection resolves features apart
    // from `cargo test --workspace`: the first run builds its own dependencies, a few minutes.)
    command
        .current_dir(workspace)
        .args(["nextest", "run", "--workspace", "--test", "evals", "--no-fail-fast", "--color", "never"])
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_CACHE_DIR", cache.path());
    let run = judge_tests::HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.all());
    for eval in ["evals::clock_hands", "evals::capital_of_australia", "evals::refund_policy"] {
        assert!(run.stderr.contains(eval), "nextest ran {eval}:\n{}", run.all());
    }
    assert!(run.stderr.contains("3 tests run: 3 passed"), "{}", run.all());
    // One process per test, one shared cache: 3 + 1 + 1 samples.
    assert_eq!(judge.requests(), 5);
    assert_eq!(files(cache.path()).len(), 5);
}
