//! Pass, fail, the trimmed mean, errors and async evals, through a real harness run.

use judge_tests::FakeJudge;

use crate::common::{run_exact, suite};

#[test]
fn passes_above_the_threshold() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(suite(&judge, cache.path()), &["passes", "static_str"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.has_outcome("suite_basic::passes", "ok"), "{}", run.all());
    assert!(run.has_outcome("suite_basic::static_str", "ok"), "{}", run.all());
    assert!(run.stdout.contains("test result: ok. 2 passed; 0 failed"), "{}", run.all());
    assert_eq!((judge.requests(), judge.rejected()), (2, 0));
    assert_eq!(judge.models().into_iter().collect::<Vec<_>>(), ["fake-judge"]);
}

#[test]
fn fails_below_the_threshold_with_the_rationale() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(suite(&judge, cache.path()), &["clock_hands"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.has_outcome("suite_basic::clock_hands", "FAILED"), "{}", run.all());
    let out = &run.stdout;
    assert!(out.contains("scored 0.40, below the threshold 0.70"), "{out}");
    assert!(out.contains("scores:    10/10, 0/10, 0/10, 10/10, 0/10"), "{out}");
    assert!(out.contains("judge:     openai:fake-judge"), "{out}");
    assert!(out.contains("rubric:    Says the hands overlap 22 times a day"), "{out}");
    assert!(out.contains("sample 2 of 5: 0/10, the lowest kept"), "{out}");
    assert!(
        out.contains("rationale: The output contains 0 of the 1 words of the reference answer; it lacks: 22."),
        "{out}"
    );
    assert!(out.contains("output:    They overlap 24 times a day, once every hour."), "{out}");
    assert_eq!(judge.requests(), 5);
}

#[test]
fn all_rationales_on_request() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_RATIONALES", "all");
    let run = run_exact(command, &["clock_hands"]);
    for n in 1..=5 {
        assert!(run.stdout.contains(&format!("sample {n} of 5: ")), "{}", run.all());
    }
    assert_eq!(run.stdout.matches("rationale: ").count(), 5, "{}", run.all());
}

#[test]
fn seven_samples_reduce_by_the_trimmed_mean() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(suite(&judge, cache.path()), &["trimmed_seven", "untrimmed_seven"]);
    // Scores 9 2 6 7 10 5 8: the trimmed mean drops 2 and 10 and averages 0.70, which passes;
    // the plain mean is 0.67, which fails.
    assert!(run.has_outcome("suite_basic::trimmed_seven", "ok"), "{}", run.all());
    assert!(run.has_outcome("suite_basic::untrimmed_seven", "FAILED"), "{}", run.all());
    assert!(run.stdout.contains("scored 0.67, below the threshold 0.70"), "{}", run.all());
    assert!(run.stdout.contains("mean of all 7 samples (trim 0 drops none of 7)"), "{}", run.all());
    // The two evals judge the same outputs by the same rubric: each verdict is fetched once, and
    // shared (fetched once for both while in flight, or cached) with the other eval.
    assert_eq!(judge.requests(), 7);
}

#[test]
fn a_trimmed_failure_marks_the_dropped_samples() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_THRESHOLD", "0.75");
    let run = run_exact(command, &["trimmed_seven"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    let out = &run.stdout;
    assert!(out.contains("scored 0.70, below the threshold 0.75"), "{out}");
    assert!(out.contains("trimmed mean of 5 of 7 samples (trim 0.15 drops 1 at each end)"), "{out}");
    assert!(out.contains("2/10 (trimmed)") && out.contains("10/10 (trimmed)"), "{out}");
    assert_eq!(out.matches("(trimmed)").count(), 2, "{out}");
    assert!(out.contains(": 5/10, the lowest kept"), "{out}");
}

#[test]
fn an_err_fails_the_eval_without_a_judge_call() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(suite(&judge, cache.path()), &["returns_err", "panics"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.stdout.contains("the eval function failed, so its output was not judged"), "{}", run.all());
    assert!(run.stdout.contains("Error: \"the model backend is down\""), "{}", run.all());
    assert!(run.stdout.contains("panicked: the app crashed"), "{}", run.all());
    assert_eq!(judge.requests(), 0);
}

#[test]
fn async_evals_run() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(suite(&judge, cache.path()), &["async_result"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.requests(), 2);
}

#[test]
fn ignored_evals_are_skipped_unless_asked_for() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(suite(&judge, cache.path()), &["ignored"]);
    assert!(run.has_outcome("suite_basic::ignored", "ignored"), "{}", run.all());
    assert_eq!(judge.requests(), 0);
    let mut command = suite(&judge, cache.path());
    command.arg("--ignored");
    let run = run_exact(command, &["ignored"]);
    assert!(run.has_outcome("suite_basic::ignored", "ok"), "{}", run.all());
    assert_eq!(judge.requests(), 1);
}

#[test]
fn filters_select_evals() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.arg("static");
    let run = judge_tests::HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("1 passed; 0 failed; 0 ignored; 0 measured; 22 filtered out"), "{}", run.all());
}

#[test]
fn an_unreadable_verdict_is_asked_again_then_fails_with_the_reply() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(suite(&judge, cache.path()), &["malformed_once", "malformed_always"]);
    assert!(run.has_outcome("suite_basic::malformed_once", "ok"), "{}", run.all());
    assert!(run.has_outcome("suite_basic::malformed_always", "FAILED"), "{}", run.all());
    assert!(
        run.stdout
            .contains("not a valid verdict after 3 attempts (it contains no JSON object); last reply: I would rate"),
        "{}",
        run.all()
    );
    // Once: 2 asks; always: 3 asks.
    assert_eq!(judge.requests(), 5);
}

#[test]
fn a_fatal_http_error_names_its_cause_without_retrying() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(suite(&judge, cache.path()), &["unauthorized"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(
        run.stdout.contains(
            "openai answered HTTP 401: fake judge: scripted status 401; the API key was refused: check OPENAI_API_KEY"
        ),
        "{}",
        run.all()
    );
    assert_eq!(judge.requests(), 1);
}

#[test]
fn an_unreachable_judge_is_named() {
    // A port that was just free: connection refused, retried, then reported.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cache = tempfile::tempdir().unwrap();
    let mut command = judge_tests::harness(env!("CARGO_BIN_EXE_suite-basic"));
    command
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", format!("http://127.0.0.1:{port}/v1"))
        .env("JUDGE_CACHE_DIR", cache.path())
        .args(["--exact", "suite_basic::passes"]);
    let run = judge_tests::HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(
        run.stdout.contains(&format!("openai could not be reached at http://127.0.0.1:{port}/v1/chat/completions")),
        "{}",
        run.all()
    );
}

#[test]
fn token_probabilities_weight_the_score() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_THRESHOLD", "0.85");
    let run = run_exact(command, &["weighted"]);
    // Written 7; weighted by probability, (7 + 9) / 2 = 8.
    assert!(run.stdout.contains("scored 0.80, below the threshold 0.85"), "{}", run.all());
    assert!(run.stdout.contains("scores:    8/10"), "{}", run.all());
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_THRESHOLD", "0.75");
    assert_eq!(run_exact(command, &["weighted"]).code, Some(0), "0.80 passes 0.75 (the written 7 would not)");
}
