//! What a person sees on the terminal honours libtest's options, as libtest's own lines do:
//! `--quiet`, `--color`, `--format json` and `--logfile`.

use judge_tests::{FakeJudge, HarnessRun};

use crate::common::{exact_args, run_exact, suite};

/// `passes` and `clock_hands` (which fails) of suite-basic, with reports in `dir` and `args`.
fn run_with(judge: &FakeJudge, cache: &std::path::Path, dir: &std::path::Path, args: &[&str]) -> HarnessRun {
    let mut command = suite(judge, cache);
    command.env("JUDGE_REPORT_DIR", dir).args(args);
    run_exact(command, &["passes", "clock_hands"])
}

#[test]
fn quiet_shortens_the_totals_and_drops_the_details() {
    let judge = FakeJudge::start();
    let (cache, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run_with(&judge, cache.path(), dir.path(), &["--quiet"]);
    assert_eq!(run.code, Some(101), "clock_hands fails:\n{}", run.all());
    let totals: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("judge: ")).collect();
    assert_eq!(totals.len(), 1, "{}", run.all());
    assert!(totals[0].ends_with("verdicts (6 judged, 0 cached, 0 shared)"), "{}", run.all());
    assert!(!run.stdout.contains("judge: reports: "), "{}", run.all());
    assert!(run.stdout.contains("scored 0.40, below the threshold 0.70"), "failures are still shown:\n{}", run.all());
    assert!(dir.path().join("suite-basic.json").exists(), "the reports are still written");
}

#[test]
fn color_never_writes_no_escape_codes_and_always_colours_errors() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    // max_score_drop without a score baseline: an error before any eval runs.
    let errored = |color: &str| {
        let mut command = suite(&judge, cache.path());
        command.env("JUDGE_MAX_SCORE_DROP", "0.1").args(["--color", color]).args(exact_args(&["passes"]));
        HarnessRun::of(&mut command)
    };
    let never = errored("never");
    assert_eq!(never.code, Some(1), "{}", never.all());
    assert!(never.stderr.contains("error: max_score_drop"), "{}", never.all());
    assert!(!never.all().contains('\u{1b}'), "{:?}", never.all());
    let always = errored("always");
    assert!(always.stderr.contains("\u{1b}[1;31merror:\u{1b}[0m max_score_drop"), "{:?}", always.all());

    let dir = tempfile::tempdir().unwrap();
    let run = run_with(&judge, cache.path(), dir.path(), &["--color", "never"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(!run.all().contains('\u{1b}'), "{:?}", run.all());
}

#[test]
fn json_keeps_stdout_a_json_stream() {
    let judge = FakeJudge::start();
    let (cache, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run_with(&judge, cache.path(), dir.path(), &["--format", "json", "-Z", "unstable-options"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{}", run.all())))
        .collect();
    assert!(events.iter().any(|e| e["type"] == "suite"), "{}", run.all());
    assert!(run.stderr.lines().any(|l| l.starts_with("judge: 6 verdicts")), "the totals go to stderr:\n{}", run.all());
}

#[test]
fn the_log_file_gets_the_judges_lines_with_libtests() {
    let judge = FakeJudge::start();
    let (cache, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let log = dir.path().join("run.log");
    let run = run_with(&judge, cache.path(), dir.path(), &["--logfile", log.to_str().unwrap()]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("test result: FAILED"), "libtest's lines:\n{text}");
    assert!(text.contains("judge: 6 verdicts (6 judged"), "the totals:\n{text}");
    assert!(text.contains("judge: reports: "), "{text}");
    assert!(!run.stdout.contains("judge: 6 verdicts"), "not on stdout, as libtest's lines are not:\n{}", run.all());
}
