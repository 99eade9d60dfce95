//! The reports a run leaves for CI: JSON, JUnit XML, Markdown (and the job summary), the score
//! baseline and its gate, and progress lines. Each is produced by a real run and read back.

use std::time::Duration;

use judge_tests::{FakeJudge, FakeJudgeConfig, HarnessRun};
use serde_json::Value;

use crate::common::{exact_args, hostile, run_exact, suite};

const EVALS: &[&str] = &["passes", "clock_hands", "trimmed_seven", "returns_err"];

/// Runs `EVALS` of suite-basic with reports in `dir` and the job summary at `dir/summary.md`.
fn reported_run(judge: &FakeJudge, cache: &std::path::Path, dir: &std::path::Path) -> HarnessRun {
    let mut command = suite(judge, cache);
    command.env("JUDGE_REPORT_DIR", dir).env("GITHUB_STEP_SUMMARY", dir.join("summary.md"));
    run_exact(command, EVALS)
}

#[test]
fn a_run_writes_json_junit_markdown_and_the_job_summary() {
    let judge = FakeJudge::start();
    let (cache, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = reported_run(&judge, cache.path(), dir.path());
    assert_eq!(run.code, Some(101), "clock_hands and returns_err fail:\n{}", run.all());
    assert!(run.stdout.contains("judge: reports: "), "{}", run.all());

    // JSON: every eval, every sample, with what the judge said and what it cost.
    let json: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("suite-basic.json")).unwrap())
        .expect("the JSON report parses");
    assert_eq!(json["binary"], "suite-basic");
    let evals = json["evals"].as_array().unwrap();
    let names: Vec<&str> = evals.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["suite_basic::clock_hands", "suite_basic::passes", "suite_basic::returns_err", "suite_basic::trimmed_seven"]
    );
    let clock = &evals[0];
    assert_eq!((clock["status"].as_str(), clock["threshold"].as_f64()), (Some("failed"), Some(0.7)));
    assert_eq!(clock["samples"].as_array().unwrap().len(), 5);
    let sample = &clock["samples"][1];
    assert_eq!(sample["output"], "They overlap 24 times a day, once every hour.");
    assert!(sample["rationale"].as_str().unwrap().contains("lacks: 22"), "{sample}");
    assert_eq!(sample["source"], "judged");
    assert!(sample["usage"]["prompt_tokens"].as_u64().unwrap() > 0 && sample["latency_ms"].is_u64(), "{sample}");
    assert!(clock["message"].as_str().unwrap().starts_with("scored 0.40, below the threshold 0.70"));
    let trimmed: Vec<bool> =
        evals[3]["samples"].as_array().unwrap().iter().map(|s| s["trimmed"].as_bool().unwrap()).collect();
    assert_eq!(trimmed.iter().filter(|t| **t).count(), 2, "7 samples at trim 0.15 drop one at each end");
    assert_eq!(evals[2]["status"], "error");
    assert!(evals[2]["samples"].as_array().unwrap().is_empty());

    // JUnit: one testcase per eval; failures and errors with their messages.
    let xml = std::fs::read_to_string(dir.path().join("suite-basic.junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("the JUnit report is well-formed XML");
    let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).unwrap();
    assert_eq!(["tests", "failures", "errors"].map(|a| suite.attribute(a).unwrap()), ["4", "1", "1"], "{xml}");
    let case = |name: &str| doc.descendants().find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name));
    let failure = case("clock_hands").unwrap().children().find(|n| n.has_tag_name("failure")).unwrap();
    assert_eq!(failure.attribute("message"), Some("scored 0.40, below the threshold 0.70"));
    assert!(failure.text().unwrap().contains("rationale: The output contains 0 of the 1 words"), "{xml}");
    assert_eq!(case("clock_hands").unwrap().attribute("classname"), Some("suite_basic"));
    assert!(case("returns_err").unwrap().children().any(|n| n.has_tag_name("error")));
    let passed = case("passes").unwrap();
    assert!(!passed.children().any(|n| n.has_tag_name("failure") || n.has_tag_name("error")));
    let out = passed.children().find(|n| n.has_tag_name("system-out")).unwrap().text().unwrap();
    assert!(out.starts_with("score 1.00 (threshold 0.70); judge openai:fake-judge; 1 sample"), "{out}");

    // Markdown: the report file and the job summary show the same table.
    let md = std::fs::read_to_string(dir.path().join("suite-basic.md")).unwrap();
    assert!(md.starts_with("### judge: `suite-basic` — 2 passed, 1 failed, 1 not scored"), "{md}");
    assert!(md.contains("| ❌ | `suite_basic::clock_hands` | 0.40 | 0.70 | — | 5 | `openai:fake-judge` |"), "{md}");
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert_eq!(summary, format!("{md}\n"), "the job summary gets this process's table");

    // A second run appends to the job summary, replaces the reports, and counts cached verdicts.
    let again = reported_run(&judge, cache.path(), dir.path());
    assert_eq!(again.code, Some(101));
    let md = std::fs::read_to_string(dir.path().join("suite-basic.md")).unwrap();
    assert!(md.contains("| ✅ | `suite_basic::trimmed_seven` | 0.70 | 0.70 | — | 7 (7 cached) |"), "{md}");
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert_eq!(summary.matches("### judge: `suite-basic`").count(), 2);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("suite-basic.json")).unwrap()).unwrap();
    assert_eq!(json["evals"].as_array().unwrap().len(), 4, "replaced, not appended");
    assert_eq!(json["evals"][0]["samples"][0]["source"], "cached");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn hostile_text_keeps_every_report_well_formed() {
    let judge = FakeJudge::start();
    let (cache, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut command = hostile(&judge, cache.path());
    command.env("JUDGE_REPORT_DIR", dir.path());
    let run = run_exact(command, &["injection", "control_characters", "invalid_utf8"]);
    assert_eq!(run.code, Some(101), "control_characters fails:\n{}", run.all());
    let xml = std::fs::read_to_string(dir.path().join("suite-hostile.junit.xml")).unwrap();
    roxmltree::Document::parse(&xml).expect("control characters cannot break the XML");
    assert!(xml.contains("\\u{1b}[2J"), "shown escaped");
    let md = std::fs::read_to_string(dir.path().join("suite-hostile.md")).unwrap();
    assert!(!md.contains('\u{1b}') && !md.contains("</output-0123456789abcdef>"), "{md}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("suite-hostile.json")).unwrap()).unwrap();
    assert_eq!(json["evals"].as_array().unwrap().len(), 3);
}

#[test]
fn report_paths_are_configurable_and_an_unwritable_one_fails_the_run_clearly() {
    let judge = FakeJudge::start();
    let (cache, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config = dir.path().join("judge.toml");
    std::fs::write(&config, "report_junit = \"out/junit.xml\"\n").unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_CONFIG", &config).env("JUDGE_REPORT_JSON", dir.path().join("record.json"));
    let run = run_exact(command, &["passes"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(dir.path().join("out/junit.xml").is_file(), "a judge.toml path is taken from its directory");
    assert!(dir.path().join("record.json").is_file());

    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "a file where a directory should be").unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_REPORT_HTML", blocker.join("report.html"));
    let run = run_exact(command, &["passes"]);
    assert_eq!(run.code, Some(1), "a report that cannot be written fails the run:\n{}", run.all());
    assert!(
        run.stderr.contains("cannot write") && run.stderr.contains("JUDGE_REPORT_HTML"),
        "the message names the setting:\n{}",
        run.all()
    );
}

#[test]
fn a_score_that_falls_below_its_baseline_fails_even_above_the_threshold() {
    let judge = FakeJudge::start();
    let (cache, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let baseline = dir.path().join("baseline.json");
    let evals = ["score_six_attribute_threshold", "passes"];

    let mut save = suite(&judge, cache.path());
    save.env("JUDGE_SAVE_SCORE_BASELINE", &baseline);
    assert_eq!(run_exact(save, &evals).code, Some(0));
    let saved = std::fs::read_to_string(&baseline).unwrap();
    assert_eq!(
        saved,
        "{\n  \"format\": 1,\n  \"scores\": {\n    \"suite_basic::passes\": 1.0,\n    \
         \"suite_basic::score_six_attribute_threshold\": 0.6\n  }\n}\n"
    );

    // As if the baseline had been saved when the eval scored 0.8: now it scores 0.6.
    std::fs::write(&baseline, saved.replace("0.6\n", "0.8\n")).unwrap();
    let compare = |max_drop: Option<&str>| {
        let mut command = suite(&judge, cache.path());
        command.env("JUDGE_SCORE_BASELINE", &baseline).env("JUDGE_REPORT_DIR", dir.path());
        if let Some(max_drop) = max_drop {
            command.env("JUDGE_MAX_SCORE_DROP", max_drop);
        }
        run_exact(command, &evals)
    };
    let reported = compare(None);
    assert_eq!(reported.code, Some(0), "without a margin the delta is only reported:\n{}", reported.all());
    let md = std::fs::read_to_string(dir.path().join("suite-basic.md")).unwrap();
    assert!(md.contains("| ✅ | `suite_basic::score_six_attribute_threshold` | 0.60 | 0.50 | -0.20 |"), "{md}");

    let gated = compare(Some("0.1"));
    assert_eq!(gated.code, Some(101), "{}", gated.all());
    assert!(gated.has_outcome("suite_basic::passes", "ok"), "{}", gated.all());
    assert!(
        gated.stdout.contains(
            "scored 0.60, 0.20 below its baseline 0.80: more than max_score_drop 0.10 allows, though above the \
             threshold 0.50"
        ) && gated.stdout.contains("  baseline:  0.80 (-0.20)"),
        "{}",
        gated.all()
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("suite-basic.json")).unwrap()).unwrap();
    let slipped = json["evals"].as_array().unwrap().iter().find(|e| e["name"].as_str().unwrap().ends_with("threshold"));
    assert_eq!(slipped.unwrap()["baseline"], serde_json::json!({"score": 0.8, "delta": -0.2, "regressed": true}));
    let xml = std::fs::read_to_string(dir.path().join("suite-basic.junit.xml")).unwrap();
    assert!(xml.contains("<failure type=\"regression\""), "{xml}");

    // A baseline that was asked for but is missing stops the run before any judge call.
    let mut missing = suite(&judge, cache.path());
    missing.env("JUDGE_SCORE_BASELINE", dir.path().join("none.json"));
    let requests = judge.requests();
    let run = run_exact(missing, &evals);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("cannot read the score baseline"), "{}", run.all());
    assert_eq!(judge.requests(), requests);
}

#[test]
fn long_runs_show_progress_in_plain_lines_or_a_live_line() {
    // Six evals at one call in flight and 700 ms a call: about 4 s, past the 3 s of quiet.
    let judge = FakeJudge::start_with(FakeJudgeConfig { latency: Duration::from_millis(700), ..Default::default() });
    let evals = ["passes", "score_six", "static_str", "malformed_once", "judge_from_attribute", "weighted"];
    let progress = |mode: &str| {
        let cache = tempfile::tempdir().unwrap();
        let mut command = suite(&judge, cache.path());
        // Two test threads: with one, libtest prints each name before the eval runs, and the live
        // line steps aside for plain lines.
        command.env("JUDGE_MAX_CONCURRENCY", "1").env("JUDGE_PROGRESS", mode).args(exact_args(&evals));
        command.args(["--test-threads", "2"]);
        HarnessRun::of(&mut command)
    };
    let plain = progress("plain");
    let line = plain.stderr.lines().find(|l| l.starts_with("judge: ") && l.contains(" evals done ("));
    let line = line.unwrap_or_else(|| panic!("no progress line:\n{}", plain.all()));
    assert!(line.contains("/6 evals done (") && line.contains(" judge calls in flight; "), "{line}");
    assert!(!plain.stderr.contains('\r'), "plain lines are not redrawn");

    let live = progress("live");
    assert!(live.stderr.contains("\r\u{1b}[2Kjudge: "), "the live line is redrawn in place:\n{}", live.all());
    assert!(live.stderr.ends_with("\r\u{1b}[2K"), "and cleared at the end: {:?}", live.stderr);

    let off = progress("off");
    assert!(!off.stderr.contains("evals done"), "{}", off.all());
}
