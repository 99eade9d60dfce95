//! A judge that fails: fatal errors fail at once and say what to fix, transient ones are retried
//! (with `Retry-After` honoured), stalls time out, an eval has a deadline, rate limits and budgets
//! hold, and identical calls in flight are made once.

use std::time::{Duration, Instant};

use judge_tests::{FakeJudge, FakeJudgeConfig, Faults, HarnessRun, RateLimit};

use crate::common::{hostile, run_exact, run_totals, soak, suite};

fn faulty(faults: Faults) -> FakeJudge {
    FakeJudge::start_with(FakeJudgeConfig { faults, ..Default::default() })
}

#[test]
fn a_refused_key_fails_at_once_and_names_the_variable() {
    let judge = FakeJudge::start_with(FakeJudgeConfig { require_key: Some("right-key".into()), ..Default::default() });
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("OPENAI_API_KEY", "wrong-key");
    let run = run_exact(command, &["passes"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert_eq!(judge.requests(), 1, "a 401 is not retried");
    assert!(run.stdout.contains("HTTP 401") && run.stdout.contains("check OPENAI_API_KEY"), "{}", run.all());
}

#[test]
fn a_spent_quota_fails_at_once_and_says_retrying_cannot_help() {
    let judge = FakeJudge::start_with(FakeJudgeConfig { quota_exhausted: true, ..Default::default() });
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(suite(&judge, cache.path()), &["passes"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert_eq!(judge.requests(), 1, "an exhausted quota is not retried");
    assert!(run.stdout.contains("quota is spent: retrying cannot help"), "{}", run.all());
}

#[test]
fn a_bad_request_fails_at_once() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(hostile(&judge, cache.path()), &["always_400"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert_eq!(judge.requests(), 1);
    assert!(run.stdout.contains("HTTP 400") && run.stdout.contains("rejected the request"), "{}", run.all());
}

#[test]
fn a_persistent_transient_failure_is_retried_max_attempts_times() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = hostile(&judge, cache.path());
    command.env("JUDGE_MAX_ATTEMPTS", "3");
    let run = run_exact(command, &["always_503"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert_eq!(judge.requests(), 3, "{}", run.all());
    assert!(run.stdout.contains("gave up after 3 attempts") && run.stdout.contains("HTTP 503"), "{}", run.all());
    assert!(run.stdout.contains("JUDGE_MAX_ATTEMPTS"), "the message says how to retry more:\n{}", run.all());
    assert_eq!(run_totals(&run)["retries"], 2);
}

#[test]
fn every_kind_of_transient_failure_is_retried_until_it_passes() {
    type Set = fn(&mut Faults);
    let kinds: [(&str, Set); 7] = [
        ("429", |f| f.rate_429 = 1.0),
        ("500", |f| f.rate_500 = 1.0),
        ("503", |f| f.rate_503 = 1.0),
        ("529", |f| f.rate_529 = 1.0),
        ("malformed_json", |f| f.rate_malformed_json = 1.0),
        ("truncated", |f| f.rate_truncated = 1.0),
        ("wrong_content_type", |f| f.rate_wrong_content_type = 1.0),
    ];
    for (kind, set) in kinds {
        let mut faults = Faults { max_consecutive: 2, ..Faults::default() };
        set(&mut faults);
        let judge = faulty(faults);
        let cache = tempfile::tempdir().unwrap();
        let run = run_exact(suite(&judge, cache.path()), &["passes"]);
        assert_eq!(run.code, Some(0), "{kind}: {}", run.all());
        assert_eq!((judge.requests(), judge.faults_injected()), (3, 2), "{kind}: {}", run.all());
        assert_eq!(judge.faults().get(kind), Some(&2), "{kind}: {:?}", judge.faults());
    }
}

#[test]
fn retry_after_is_waited_out() {
    let judge =
        faulty(Faults { rate_429: 1.0, retry_after: Some("2".into()), max_consecutive: 1, ..Faults::default() });
    let cache = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let run = run_exact(suite(&judge, cache.path()), &["passes"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.requests(), 2);
    assert!(start.elapsed() >= Duration::from_secs(2), "retried after {:?}, before Retry-After: 2", start.elapsed());
    assert_eq!(run_totals(&run)["rate-limited"], 1);
}

#[test]
fn a_retry_after_beyond_max_retry_wait_fails_saying_so() {
    let judge =
        faulty(Faults { rate_429: 1.0, retry_after: Some("3".into()), max_consecutive: 1, ..Faults::default() });
    let cache = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_MAX_RETRY_WAIT", "1");
    let run = run_exact(command, &["passes"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert_eq!(judge.requests(), 1, "not retried early");
    assert!(start.elapsed() < Duration::from_secs(3), "not waited either: {:?}", start.elapsed());
    assert!(
        run.stdout.contains("asked to wait 3 s before retrying (Retry-After), more than `max_retry_wait` allows (1 s)")
            && run.stdout.contains("JUDGE_MAX_RETRY_WAIT"),
        "{}",
        run.all()
    );
}

#[test]
fn a_stalled_request_times_out_and_is_retried() {
    let judge =
        faulty(Faults { rate_stall: 1.0, stall: Duration::from_secs(120), max_consecutive: 1, ..Faults::default() });
    let cache = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_TIMEOUT", "1");
    let run = run_exact(command, &["passes"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!((judge.requests(), judge.faults().get("stall")), (2, Some(&1)));
    assert!(start.elapsed() < Duration::from_secs(60), "the stall was waited out: {:?}", start.elapsed());
}

#[test]
fn an_eval_past_its_deadline_fails_and_the_suite_goes_on() {
    let judge =
        faulty(Faults { rate_stall: 1.0, stall: Duration::from_secs(120), max_consecutive: 100, ..Faults::default() });
    let cache = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_TIMEOUT", "60").env("JUDGE_DEADLINE", "1");
    let run = run_exact(command, &["passes", "static_str"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.has_outcome("suite_basic::passes", "FAILED") && run.has_outcome("suite_basic::static_str", "FAILED"));
    assert!(run.stdout.contains("did not finish within its deadline of 1 s"), "{}", run.all());
    assert!(run.stdout.contains("JUDGE_DEADLINE"), "{}", run.all());
    assert!(start.elapsed() < Duration::from_secs(60), "the deadline did not stop the stall: {:?}", start.elapsed());
}

/// Ten evals × three samples: thirty judge calls.
fn thirty_calls(command: &mut std::process::Command) -> HarnessRun {
    command.arg("suite_soak::e00");
    HarnessRun::of(command)
}

/// A judge that takes five requests a second per key, and answers more with 429.
fn limited() -> FakeJudge {
    FakeJudge::start_with(FakeJudgeConfig {
        rate_limit: Some(RateLimit { requests: 5, window: Duration::from_secs(1) }),
        ..Default::default()
    })
}

#[test]
fn requests_per_minute_keep_under_the_providers_limit() {
    // Unpaced, the provider's 429s are waited out together and every eval still passes.
    let judge = limited();
    let cache = tempfile::tempdir().unwrap();
    let run = thirty_calls(&mut soak(&judge, cache.path()));
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(judge.rate_limited() > 0, "the test needs a limit that bites");
    assert_eq!(run_totals(&run)["rate-limited"], judge.rate_limited());

    // Paced below the limit, no request is refused.
    let judge = limited();
    let cache = tempfile::tempdir().unwrap();
    let mut command = soak(&judge, cache.path());
    command.env("JUDGE_REQUESTS_PER_MINUTE", "240");
    let start = Instant::now();
    let run = thirty_calls(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!((judge.rate_limited(), judge.requests()), (0, 30), "{}", run.all());
    assert!(start.elapsed() >= Duration::from_millis(29 * 250), "30 requests at 4/s: {:?}", start.elapsed());
}

#[test]
fn tokens_per_minute_pace_requests_by_their_size() {
    let judge = limited();
    let cache = tempfile::tempdir().unwrap();
    let mut command = soak(&judge, cache.path());
    // A request is estimated at its length / 4 plus 1024 reply tokens, about 1400 tokens: 340 k
    // tokens a minute let about 4 requests a second through, under the provider's 5.
    command.env("JUDGE_TOKENS_PER_MINUTE", "340000");
    let start = Instant::now();
    let run = thirty_calls(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!((judge.rate_limited(), judge.requests()), (0, 30), "{}", run.all());
    assert!(
        start.elapsed() >= Duration::from_secs(4),
        "30 requests of ~1400 tokens at 340 k/min: {:?}",
        start.elapsed()
    );
}

#[test]
fn a_call_budget_stops_new_calls_and_fails_the_rest_clearly() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = soak(&judge, cache.path());
    command.env("JUDGE_MAX_JUDGE_CALLS", "7");
    let run = thirty_calls(&mut command);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert_eq!(run_totals(&run)["calls"], 7, "{}", run.all());
    // A failed sample stops its eval, cancelling its other samples' calls, some before they left.
    assert!(judge.requests() <= 7, "the budget was overspent:\n{}", run.all());
    assert!(
        run.stdout.contains("judge budget is spent") && run.stdout.contains("JUDGE_MAX_JUDGE_CALLS"),
        "{}",
        run.all()
    );
    let passed = run.stdout.lines().filter(|l| l.ends_with("... ok")).count();
    assert!(passed <= 2, "7 calls judge at most two whole evals of 3 samples: {passed}");
    // What was judged is cached: a rerun spends only what is missing.
    let cached = crate::common::files(cache.path()).len() as u64;
    let before = judge.requests();
    let run = thirty_calls(&mut soak(&judge, cache.path()));
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.requests() - before, 30 - cached);
}

#[test]
fn a_token_budget_is_never_overspent() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = soak(&judge, cache.path());
    command.env("JUDGE_MAX_JUDGE_TOKENS", "5000");
    let run = thirty_calls(&mut command);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.stdout.contains("max_judge_tokens"), "{}", run.all());
    let totals = run_totals(&run);
    assert!(totals["prompt"] + totals["completion"] <= 5000, "{totals:?}");
    assert!((1..30).contains(&judge.requests()), "{}", judge.requests());
}

/// judge.toml's prices turn tokens into money: each eval's and the run's cost in every report, and
/// `max_judge_cost` caps the run like the other budgets.
#[test]
fn prices_give_each_eval_and_the_run_a_cost_and_max_judge_cost_caps_it() {
    let judge = FakeJudge::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("judge.toml");
    std::fs::write(&config, "[prices.\"openai:fake-judge\"]\nprompt = 400.0\ncompletion = 1600.0\n").unwrap();
    let priced = |cache: &str| {
        let mut command = suite(&judge, &dir.path().join(cache));
        command.env("JUDGE_CONFIG", &config).env("JUDGE_REPORT_DIR", dir.path().join("reports"));
        command
    };
    let run = run_exact(priced("cache"), &["passes", "trimmed_seven"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("reports/suite-basic.json")).unwrap()).unwrap();
    let mut total = 0.0;
    for eval in record["evals"].as_array().unwrap() {
        let (prompt, completion) =
            (eval["usage"]["prompt_tokens"].as_f64(), eval["usage"]["completion_tokens"].as_f64());
        let expected = (prompt.unwrap() * 400.0 + completion.unwrap() * 1600.0) / 1e6;
        let cost = eval["cost"].as_f64().unwrap();
        assert!((cost - expected).abs() < 1e-9 && cost > 0.0, "{eval}");
        total += cost;
    }
    assert!((record["cost"].as_f64().unwrap() - total).abs() < 1e-9, "{}", record["cost"]);
    assert!(run.stdout.contains(&format!("; cost {total:.4}")), "{}", run.all());
    let markdown = std::fs::read_to_string(dir.path().join("reports/suite-basic.md")).unwrap();
    assert!(markdown.contains(&format!("cost {total:.4}")), "{markdown}");
    // Cached, the verdicts cost nothing more.
    let rerun = run_exact(priced("cache"), &["passes"]);
    assert!(rerun.stdout.contains("; cost 0.0000") || !rerun.stdout.contains("; cost"), "{}", rerun.all());

    // A cap below what the evals need: the calls that would pass it are not made.
    let mut capped = priced("capped");
    capped.env("JUDGE_MAX_JUDGE_COST", format!("{}", total / 2.0));
    let run = run_exact(capped, &["passes", "trimmed_seven"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(
        run.stdout.contains("`max_judge_cost` stops new judge calls") && run.stdout.contains("JUDGE_MAX_JUDGE_COST")
    );

    // A cap with a judge that has no price cannot be kept: said at once.
    let mut unpriced = suite(&judge, &dir.path().join("unpriced"));
    unpriced.env("JUDGE_MAX_JUDGE_COST", "1");
    let run = run_exact(unpriced, &["passes"]);
    assert!(run.stdout.contains("judge.toml gives no price for openai:fake-judge"), "{}", run.all());
    // A price that does not read is an error naming the key.
    std::fs::write(&config, "[prices.\"openai:fake-judge\"]\nprompt = 0.4\n").unwrap();
    let run = run_exact(priced("bad"), &["passes"]);
    assert!(run.all().contains("needs completion"), "{}", run.all());
}

#[test]
fn identical_calls_in_flight_are_made_once() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(hostile(&judge, cache.path()), &["twin_a", "twin_b"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.requests(), 1, "{}", run.all());
    let totals = run_totals(&run);
    assert_eq!((totals["judged"], totals["shared"]), (1, 1), "{totals:?}");
}
