//! The verdict cache across real runs: reruns, changed outputs, replay, and processes sharing it.

use std::process::Stdio;

use judge_tests::{FakeJudge, HarnessRun};

use crate::common::{exact_args, files, run_exact, suite};

#[test]
fn a_cached_rerun_makes_no_requests() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let evals = ["passes", "trimmed_seven", "clock_hands", "identical_seven"];
    let first = run_exact(suite(&judge, cache.path()), &evals);
    // Seven identical outputs are still seven samples, each judged.
    assert_eq!(judge.requests(), 1 + 7 + 5 + 7, "{}", first.all());
    let second = run_exact(suite(&judge, cache.path()), &evals);
    assert_eq!(judge.requests(), 20, "the rerun made requests:\n{}", second.all());
    assert_eq!(first.code, second.code);
    assert!(second.stdout.contains("cached verdict"), "a failure says its verdict was cached:\n{}", second.all());
    assert_eq!(files(cache.path()).len(), 20);
}

#[test]
fn a_changed_output_is_the_only_one_judged_again() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut first = suite(&judge, cache.path());
    first.env("SUITE_VARIANT", "one");
    run_exact(first, &["varying"]);
    assert_eq!(judge.requests(), 3);
    let mut second = suite(&judge, cache.path());
    second.env("SUITE_VARIANT", "two");
    let run = run_exact(second, &["varying"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.requests(), 4, "only the changed sample is judged again");
    assert_eq!(judge.judged_outputs().last().map(String::as_str), Some("variant two [score:8]"));
}

#[test]
fn replay_fails_a_miss_clearly_without_a_request() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_CACHE", "replay");
    let run = run_exact(command, &["passes"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.stdout.contains("JUDGE_CACHE=replay forbids judge calls"), "{}", run.all());
    assert!(run.stdout.contains("run the evals once with a judge"), "{}", run.all());
    assert_eq!(judge.requests(), 0);
    assert!(files(cache.path()).is_empty());
}

#[test]
fn replay_needs_no_server_and_no_key_once_verdicts_are_cached() {
    let cache = tempfile::tempdir().unwrap();
    {
        let judge = FakeJudge::start();
        let run = run_exact(suite(&judge, cache.path()), &["passes", "trimmed_seven"]);
        assert_eq!(run.code, Some(0), "{}", run.all());
    }
    // The server is gone: every verdict must come from the cache.
    let mut command = judge_tests::harness(env!("CARGO_BIN_EXE_suite-basic"));
    command
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        .env("JUDGE_CACHE", "replay")
        .env("JUDGE_CACHE_DIR", cache.path())
        .args(exact_args(&["passes", "trimmed_seven"]));
    let run = HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.all());
}

/// The pull-request job of docs/github-actions.yml, as it runs: `JUDGE_MODEL` (or `JUDGE_MODELS`)
/// and `JUDGE_CACHE=replay`, no API key and no base URL. The verdicts were recorded by a judged run
/// through another base URL with a key (the main job, a proxy): neither is part of the cache key.
#[test]
fn replay_needs_no_key_and_no_base_url_as_the_pull_request_job_runs_it() {
    let judge = FakeJudge::start();
    let (openai, anthropic) = (judge.base_url(), judge.anthropic_base_url());
    // (variable, judges, the variables of the judged run: a base URL and a key)
    type Judged<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);
    let judged: [Judged; 4] = [
        ("JUDGE_MODEL", "openai:gpt-4.1-mini", vec![("OPENAI_BASE_URL", &openai), ("OPENAI_API_KEY", "sk-main")]),
        (
            "JUDGE_MODEL",
            "anthropic:claude-sonnet-4-5",
            vec![("ANTHROPIC_BASE_URL", &anthropic), ("ANTHROPIC_API_KEY", "sk-ant-main")],
        ),
        (
            "JUDGE_MODEL",
            "openrouter:meta-llama/llama-3.3-70b-instruct",
            vec![("OPENROUTER_BASE_URL", &openai), ("OPENROUTER_API_KEY", "sk-or-main")],
        ),
        (
            "JUDGE_MODELS",
            "openai:gpt-4.1-mini,anthropic:claude-sonnet-4-5",
            vec![("OPENAI_BASE_URL", &openai), ("ANTHROPIC_BASE_URL", &anthropic), ("ANTHROPIC_API_KEY", "sk-ant")],
        ),
    ];
    for (var, judges, access) in judged {
        let cache = tempfile::tempdir().unwrap();
        let run_with = |cache_mode: Option<&str>, access: &[(&str, &str)], evals: &[&str]| {
            let mut command = judge_tests::harness(env!("CARGO_BIN_EXE_suite-basic"));
            for name in ["OPENROUTER_BASE_URL", "OPENROUTER_API_KEY"] {
                command.env_remove(name);
            }
            command.env(var, judges).env("JUDGE_CACHE_DIR", cache.path()).envs(access.iter().copied());
            if let Some(mode) = cache_mode {
                command.env("JUDGE_CACHE", mode);
            }
            run_exact(command, evals)
        };
        let main = run_with(None, &access, &["passes", "trimmed_seven"]);
        assert_eq!(main.code, Some(0), "{judges}: {}", main.all());
        let requests = judge.requests();

        let pull_request = run_with(Some("replay"), &[], &["passes", "trimmed_seven"]);
        assert_eq!(pull_request.code, Some(0), "{judges}: {}", pull_request.all());
        assert_eq!(judge.requests(), requests, "{judges}: replay called the judge");
        assert!(
            !pull_request.all().contains("API key"),
            "{judges}: a full replay says nothing of keys: {}",
            pull_request.all()
        );

        // A verdict that was never recorded is a miss, said as one: not a missing key.
        let miss = run_with(Some("replay"), &[], &["clock_hands"]);
        assert_eq!(miss.code, Some(101), "{judges}: {}", miss.all());
        assert!(miss.stdout.contains("JUDGE_CACHE=replay forbids judge calls"), "{judges}: {}", miss.all());
        assert!(!miss.all().contains("needs an API key"), "{judges}: {}", miss.all());
    }
    // Without replay, the call that is really made needs the key, and says which.
    let cache = tempfile::tempdir().unwrap();
    let mut command = judge_tests::harness(env!("CARGO_BIN_EXE_suite-basic"));
    command.env("JUDGE_MODEL", "anthropic:claude-sonnet-4-5").env("JUDGE_CACHE_DIR", cache.path());
    let run = run_exact(command, &["passes"]);
    assert!(run.stdout.contains("anthropic needs an API key: set ANTHROPIC_API_KEY"), "{}", run.all());
}

#[test]
fn refresh_judges_again_and_off_never_writes() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    run_exact(suite(&judge, cache.path()), &["passes"]);
    let mut refresh = suite(&judge, cache.path());
    refresh.env("JUDGE_CACHE", "refresh");
    run_exact(refresh, &["passes"]);
    assert_eq!(judge.requests(), 2);
    let empty = tempfile::tempdir().unwrap();
    let mut off = suite(&judge, empty.path());
    off.env("JUDGE_CACHE", "off");
    run_exact(off, &["passes"]);
    assert_eq!(judge.requests(), 3);
    assert!(files(empty.path()).is_empty());
}

#[test]
fn a_corrupt_entry_is_judged_again_and_rewritten() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    run_exact(suite(&judge, cache.path()), &["passes"]);
    let entry = files(cache.path()).pop().unwrap();
    std::fs::write(&entry, b"{\"format\": 1, \"key\": tru").unwrap();
    let run = run_exact(suite(&judge, cache.path()), &["passes"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.requests(), 2);
    let text = std::fs::read_to_string(&entry).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "rewritten whole: {text}");
}

#[test]
fn four_processes_share_one_cache_directory() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let evals = ["passes", "static_str", "trimmed_seven", "identical_seven", "varying", "async_result"];
    let children: Vec<_> = (0..4)
        .map(|_| {
            let mut command = suite(&judge, cache.path());
            command.env("SUITE_VARIANT", "shared").args(exact_args(&evals));
            command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    }
    let per_run = 1 + 1 + 7 + 7 + 3 + 2;
    assert!(judge.requests() <= 4 * per_run, "{}", judge.requests());
    let entries = files(cache.path());
    assert_eq!(entries.len(), per_run as usize, "one entry per distinct verdict, no temporary files: {entries:?}");
    for entry in &entries {
        let text = std::fs::read_to_string(entry).unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "{}: {text}", entry.display());
    }
    // Everything is cached now.
    let before = judge.requests();
    let mut command = suite(&judge, cache.path());
    command.env("SUITE_VARIANT", "shared");
    let run = run_exact(command, &evals);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.requests(), before);
}

#[test]
fn the_default_cache_is_the_workspace_target_directory() {
    // A binary target has no CARGO_TARGET_TMPDIR, so the cache goes to <workspace root>/target.
    let judge = FakeJudge::start();
    let default_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/judge-cache");
    let started = std::time::SystemTime::now() - std::time::Duration::from_secs(2);
    let mut command = judge_tests::harness(env!("CARGO_BIN_EXE_suite-basic"));
    command
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_CACHE", "refresh")
        .args(exact_args(&["static_str"]));
    let run = HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let fresh = files(&default_dir)
        .into_iter()
        .filter(|f| std::fs::metadata(f).and_then(|m| m.modified()).is_ok_and(|t| t >= started))
        .count();
    assert!(fresh >= 1, "no fresh verdict in {}", default_dir.display());
}

/// Two processes of one nextest run (one `NEXTEST_RUN_ID`, as nextest sets it) that ask for the
/// same verdict at once pay for it once: the second waits for the first's cache entry.
#[test]
fn two_processes_of_a_run_pay_once_for_the_same_verdict() {
    let judge = judge_tests::FakeJudge::start_with(judge_tests::FakeJudgeConfig {
        latency: std::time::Duration::from_millis(800),
        ..Default::default()
    });
    let cache = tempfile::tempdir().unwrap();
    let run_id = format!("pay-once-{}", cache.path().file_name().unwrap().to_string_lossy());
    let spawn = || {
        let mut command = suite(&judge, cache.path());
        command
            .env("NEXTEST_RUN_ID", &run_id)
            .args(exact_args(&["passes"]))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.spawn().expect("the harness starts")
    };
    let (first, second) = (spawn(), spawn());
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    }
    assert_eq!(judge.requests(), 1, "the second process waited for the first's verdict");
}

#[test]
fn a_failing_sample_leaves_the_verdicts_already_asked_for_cached() {
    // Samples 1 and 2 are being judged (1.5 s each) when sample 3's function fails (at 0.5 s): the
    // eval fails, and the two calls already sent, paid for, finish and are kept.
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(suite(&judge, cache.path()), &["fails_while_judged"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.stdout.contains("sample 3: the eval function failed"), "{}", run.all());
    assert_eq!(judge.requests(), 2, "{}", run.all());
    assert_eq!(files(cache.path()).len(), 2, "the verdicts asked for before the failure are cached:\n{}", run.all());
}
