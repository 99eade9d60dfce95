//! Judge requests run concurrently, bounded by `max_concurrency`, not by test threads.

use judge_tests::{FakeJudge, HarnessRun};

use crate::common::{run_exact, suite};

const SLOW: [&str; 4] = ["slow_1", "slow_2", "slow_3", "slow_4"];

#[test]
fn one_evals_samples_are_judged_concurrently() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_CACHE", "off").arg("--test-threads=1");
    let run = run_exact(command, &["slow_1"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.max_in_flight(), 4, "the 4 samples of one eval overlap");
}

#[test]
fn the_in_flight_limit_bounds_concurrency() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_CACHE", "off").env("JUDGE_MAX_CONCURRENCY", "3");
    let run = run_exact(command, &SLOW);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.requests(), 16);
    assert_eq!(judge.max_in_flight(), 3, "never more than max_concurrency, and the limit is used");
}

#[test]
fn the_limit_not_the_test_threads_sets_concurrency() {
    // 4 evals × 4 samples with a limit of 16: all 16 requests are in flight together, although
    // this machine may have 2 cores (libtest's default thread count).
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_CACHE", "off").env("JUDGE_MAX_CONCURRENCY", "16");
    let run = run_exact(command, &SLOW);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.max_in_flight(), 16);
}

#[test]
fn async_and_sync_evals_share_the_limit() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_CACHE", "off").env("JUDGE_MAX_CONCURRENCY", "6").arg("--test-threads=4");
    let run = run_exact(command, &SLOW);
    assert_eq!(run.code, Some(0), "{}", HarnessRun::all(&run));
    assert_eq!(judge.max_in_flight(), 6);
}
