//! Evals driven by datasets (`#[llm_eval(dataset = "…")]`), through the `suite-datasets` binary
//! and its files in tests/data/datasets: one test per row (or one for a dataset with a pass-rate
//! gate), read when the binary runs, so a row added to a file is a test without a rebuild; JSONL,
//! JSON and CSV; a row's own settings over the attribute, the environment and judge.toml's
//! sections; the gate; nextest partitions over rows; every bad input as one failing test whose
//! message starts `PATH:LINE:`; a snapshot and a score-baseline entry per row; the attribute's
//! techniques (criteria, levels, judges, reducers, steps) per row; and each dataset in the JUnit,
//! Markdown and HTML reports.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use judge_tests::{FakeJudge, FakeJudgeConfig, HarnessRun, harness};
use serde_json::{Value, json};

use crate::common::{files, read_report, run_totals, snapshot_dir, snapshot_files};

pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_suite-datasets");

/// The longest a run of the suite may take: its evals are judged at once by a local fake judge,
/// in well under a second.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The longest a nested `cargo nextest run` may take, the build of the suite for tests included.
pub(crate) const NEXTEST_LIMIT: Duration = Duration::from_secs(900);

/// The `suite-datasets` harness binary, judged by `judge`, with its verdict cache in `cache`;
/// each eval has a deadline well within [`RUN_LIMIT`].
pub(crate) fn suite(judge: &FakeJudge, cache: &Path) -> Command {
    let mut command = crate::common::judged(BINARY, judge, cache);
    command.env("JUDGE_DEADLINE", "60");
    command
}

/// [`suite`], writing its reports in `reports`.
pub(crate) fn reporting(judge: &FakeJudge, cache: &Path, reports: &Path) -> Command {
    crate::common::reporting(BINARY, judge, cache, reports)
}

/// A fake judge that also accepts a request without an input or a reference answer: the rows of
/// tickets.csv are the user's own type, with neither.
fn lenient_judge() -> FakeJudge {
    FakeJudge::start_with(FakeJudgeConfig { allow_missing_context: true, ..FakeJudgeConfig::default() })
}

/// Runs `command` to completion, within `limit`: past it, the process is killed (by its id) and
/// the test fails.
pub(crate) fn bounded(command: &mut Command, limit: Duration) -> HarnessRun {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{:?} starts: {e}", command.get_program()));
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match finished.recv_timeout(limit) {
        Ok(output) => {
            let output = output.expect("the command's output is read");
            HarnessRun {
                code: output.status.code(),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            }
        }
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("{:?} did not finish within {limit:?}", command.get_program());
        }
    }
}

/// Runs a suite `command` within [`RUN_LIMIT`].
pub(crate) fn run(command: &mut Command) -> HarnessRun {
    bounded(command, RUN_LIMIT)
}

/// The tests `--list` prints for `filter`, in order.
pub(crate) fn listed(filter: &str) -> Vec<String> {
    let run = run(harness(BINARY).args(["--list", filter]));
    assert_eq!(run.code, Some(0), "{}", run.all());
    run.stdout
        .lines()
        .map(|line| line.strip_suffix(": test").unwrap_or_else(|| panic!("{line:?}")).to_owned())
        .collect()
}

/// A dataset file of the suite, as the harness resolves it (`data/datasets/…` below the crate).
pub(crate) fn dataset_path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/datasets").join(file)
}

/// The failure message libtest printed for `test`.
pub(crate) fn failure<'a>(run: &'a HarnessRun, test: &str) -> &'a str {
    let header = format!("---- {test} ----\n");
    let start =
        run.stdout.find(&header).unwrap_or_else(|| panic!("no failure of {test}:\n{}", run.all())) + header.len();
    let rest = &run.stdout[start..];
    rest[..rest.find("\n\n").unwrap_or(rest.len())].trim_end()
}

/// The JSON report of the suite in `reports`.
pub(crate) fn report(reports: &Path) -> Value {
    read_report(&reports.join("suite-datasets.json"))
}

/// The record of the test (or gated row) named exactly `name`.
pub(crate) fn record<'a>(report: &'a Value, name: &str) -> &'a Value {
    let evals = report["evals"].as_array().expect("a report has evals");
    evals.iter().find(|e| e["name"] == name).unwrap_or_else(|| panic!("no record of {name}:\n{report:#}"))
}

/// The names of the report's records.
pub(crate) fn recorded(report: &Value) -> Vec<&str> {
    report["evals"].as_array().expect("a report has evals").iter().map(|e| e["name"].as_str().unwrap()).collect()
}

/// The `datasets` entry of the report named `name`.
pub(crate) fn dataset_summary<'a>(report: &'a Value, name: &str) -> &'a Value {
    let datasets = report["datasets"].as_array().unwrap_or_else(|| panic!("no datasets in the report:\n{report:#}"));
    datasets.iter().find(|d| d["name"] == name).unwrap_or_else(|| panic!("no dataset {name}:\n{report:#}"))
}

/// Whether `value` is the number `expected`, to within rounding.
pub(crate) fn is_about(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-9)
}

/// The five rows of support.jsonl, in file order, as their tests are named.
const SUPPORT_ROWS: [&str; 5] = [
    "suite_datasets::support::refund-window",
    "suite_datasets::support::shipping-abroad",
    "suite_datasets::support::3",
    "suite_datasets::support::strict-row",
    "suite_datasets::support::weak-answer",
];

#[test]
fn listing_names_a_test_per_row_and_reads_nothing_but_the_dataset() {
    let judge = FakeJudge::start();
    let scratch = tempfile::tempdir().unwrap();
    // Settings that would stop a run, no judge (no JUDGE_MODEL), and a cache and reports that
    // would land in `scratch`: a listing reads none of them, writes nothing and calls no one.
    let config = scratch.path().join("judge.toml");
    std::fs::write(&config, "threshold = [not toml\n").unwrap();
    let mut command = harness(BINARY);
    command
        .current_dir(scratch.path())
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_THRESHOLD", "not-a-number")
        .env("JUDGE_CONFIG", &config)
        .env("JUDGE_CACHE_DIR", scratch.path().join("cache"))
        .env("JUDGE_REPORT_DIR", scratch.path().join("reports"))
        .args(["--list", "suite_datasets::support"]);
    let run = run(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let mut expected: Vec<String> = SUPPORT_ROWS.iter().map(|name| format!("{name}: test")).collect();
    // A gated dataset is one test, without its rows.
    expected
        .extend(["suite_datasets::support_gate: test".to_owned(), "suite_datasets::support_strict_gate: test".into()]);
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), expected, "a row without an id is named by its row number");
    assert_eq!(judge.requests(), 0);
    assert_eq!(files(scratch.path()), [config], "listing wrote files");
}

#[test]
fn a_filter_or_an_exact_name_runs_a_single_row() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let exact = run(suite(&judge, cache.path()).args(["--exact", "suite_datasets::support::refund-window"]));
    assert_eq!(exact.code, Some(0), "{}", exact.all());
    assert!(exact.has_outcome("suite_datasets::support::refund-window", "ok"), "{}", exact.all());
    assert!(exact.stdout.contains("test result: ok. 1 passed; 0 failed; 0 ignored"), "{}", exact.all());
    assert_eq!(judge.judged_outputs(), ["[score:9] An answer to: How long do I have to return an item?"]);

    let filtered = run(suite(&judge, cache.path()).arg("weak-ans"));
    assert_eq!(filtered.code, Some(101), "{}", filtered.all());
    assert!(filtered.has_outcome("suite_datasets::support::weak-answer", "FAILED"), "{}", filtered.all());
    assert!(filtered.stdout.contains("test result: FAILED. 0 passed; 1 failed; 0 ignored"), "{}", filtered.all());
    let message = failure(&filtered, "suite_datasets::support::weak-answer");
    assert!(message.starts_with("scored 0.30, below the threshold 0.70"), "{message}");
    assert!(message.contains("rubric:    Answers Is there a warranty? correctly."), "{message}");
    assert_eq!(judge.requests(), 2);
}

#[test]
fn an_ignored_dataset_eval_runs_its_rows_only_when_asked_for() {
    let rows = ["opening-hours", "2", "gift-cards"].map(|id| format!("suite_datasets::faq_in_depth::{id}"));
    let listing = run(harness(BINARY).args(["--list", "--ignored"]));
    assert_eq!(listing.code, Some(0), "{}", listing.all());
    assert_eq!(
        listing.stdout.lines().collect::<Vec<_>>(),
        rows.iter().map(|r| format!("{r}: test")).collect::<Vec<_>>(),
        "{}",
        listing.all()
    );

    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let skipped = run(suite(&judge, cache.path()).arg("faq_in_depth"));
    assert_eq!(skipped.code, Some(0), "{}", skipped.all());
    for row in &rows {
        assert!(skipped.has_outcome(row, "ignored"), "{}", skipped.all());
    }
    assert_eq!(judge.requests(), 0);

    let asked = run(suite(&judge, cache.path()).args(["--ignored", "faq_in_depth"]));
    assert_eq!(asked.code, Some(0), "{}", asked.all());
    for row in &rows {
        assert!(asked.has_outcome(row, "ok"), "{}", asked.all());
    }
    assert_eq!(judge.requests(), 3);
}

#[test]
fn each_row_has_its_record_and_its_dataset_has_a_summary_in_the_json_report() {
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(reporting(&judge, cache.path(), reports.path()).arg("suite_datasets::support::"));
    assert_eq!(run.code, Some(101), "weak-answer fails: {}", run.all());
    let report = report(reports.path());
    let mut names = SUPPORT_ROWS.to_vec();
    names.sort_unstable();
    assert_eq!(recorded(&report), names);
    let row = record(&report, "suite_datasets::support::3");
    assert_eq!(
        row["dataset"],
        json!({"name": "suite_datasets::support", "file": "data/datasets/support.jsonl", "id": "3", "line": 4}),
        "the third row is on line 4, after a blank line"
    );
    assert_eq!(row["rubric"], "Answers Where is my order? correctly.", "{{{{input}}}} is filled from the row");
    assert_eq!(row["file"], "tests/src/bin/suite_datasets.rs", "where the eval is written");
    let weak = record(&report, "suite_datasets::support::weak-answer");
    assert_eq!((&weak["status"], &weak["dataset"]["line"]), (&json!("failed"), &json!(6)));
    assert!(is_about(&weak["score"], 0.3), "{weak:#}");

    let summary = dataset_summary(&report, "suite_datasets::support");
    assert_eq!(summary["file"], "data/datasets/support.jsonl");
    assert_eq!(
        (&summary["rows"], &summary["passed"], &summary["failed"], &summary["errors"]),
        (&json!(5), &json!(4), &json!(1), &json!(0))
    );
    assert!(is_about(&summary["pass_rate"], 0.8) && is_about(&summary["mean_score"], 0.78), "{summary:#}");
    assert!(summary.get("min_pass_rate").is_none() && summary.get("gate").is_none(), "no gate: {summary:#}");
}

#[test]
fn each_row_is_cached_on_its_own() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let first = run(suite(&judge, cache.path()).arg("suite_datasets::support::"));
    // 1 sample a row, and 3 for strict-row.
    assert_eq!((run_totals(&first)["verdicts"], run_totals(&first)["judged"]), (7, 7), "{}", first.all());
    let second = run(suite(&judge, cache.path()).arg("suite_datasets::support::"));
    assert!(second.stdout.contains("judge: 7 verdicts (0 judged, 7 cached"), "{}", second.all());
    assert_eq!(judge.requests(), 7, "nothing judged twice");
    for row in SUPPORT_ROWS {
        let outcome = if row.ends_with("weak-answer") { "FAILED" } else { "ok" };
        assert!(second.has_outcome(row, outcome), "{}", second.all());
    }
}

/// The scratch dataset of `suite_datasets::growing` (git-ignored), removed when dropped: the suite
/// then lists that eval as its one failing test again.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_row_added_to_the_file_is_a_test_without_rebuilding() {
    let scratch = Scratch(dataset_path("scratch/growing.jsonl"));
    std::fs::create_dir_all(scratch.0.parent().unwrap()).unwrap();
    std::fs::write(
        &scratch.0,
        "{\"id\": \"first\", \"input\": \"Do you gift-wrap?\", \"expected\": \"Yes\"}\n\
         {\"id\": \"second\", \"input\": \"Can I cancel an order?\", \"expected\": \"Before it ships\", \"score\": 8}\n",
    )
    .unwrap();
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(
        listed("suite_datasets::growing"),
        ["suite_datasets::growing::first", "suite_datasets::growing::second"]
    );
    let before = run(suite(&judge, cache.path()).arg("suite_datasets::growing"));
    assert_eq!(before.code, Some(0), "{}", before.all());
    assert_eq!(run_totals(&before)["judged"], 2, "{}", before.all());

    let mut file = std::fs::OpenOptions::new().append(true).open(&scratch.0).unwrap();
    std::io::Write::write_all(
        &mut file,
        b"{\"id\": \"third\", \"input\": \"Do you ship to Norway?\", \"expected\": \"Yes\", \"score\": 7}\n",
    )
    .unwrap();
    drop(file);
    assert_eq!(
        listed("suite_datasets::growing"),
        ["suite_datasets::growing::first", "suite_datasets::growing::second", "suite_datasets::growing::third"]
    );
    let after = run(suite(&judge, cache.path()).arg("suite_datasets::growing"));
    assert_eq!(after.code, Some(0), "{}", after.all());
    assert!(after.has_outcome("suite_datasets::growing::third", "ok"), "{}", after.all());
    assert!(
        after.stdout.contains("judge: 3 verdicts (1 judged, 2 cached"),
        "only the new row is judged: {}",
        after.all()
    );
    assert_eq!(judge.requests(), 3);
    assert_eq!(judge.judged_outputs().last().unwrap(), "[score:7] An answer to: Do you ship to Norway?");

    // A row taken out of the file is no longer a test.
    let text = std::fs::read_to_string(&scratch.0).unwrap();
    std::fs::write(&scratch.0, text.lines().skip(1).map(|line| format!("{line}\n")).collect::<String>()).unwrap();
    assert_eq!(
        listed("suite_datasets::growing"),
        ["suite_datasets::growing::second", "suite_datasets::growing::third"]
    );

    // Without its file, the eval is one test, named after it, that says which file is missing.
    let path = scratch.0.clone();
    drop(scratch);
    assert_eq!(listed("suite_datasets::growing"), ["suite_datasets::growing"]);
    let gone = run(suite(&judge, cache.path()).arg("suite_datasets::growing"));
    assert_eq!(gone.code, Some(101), "{}", gone.all());
    let message = failure(&gone, "suite_datasets::growing");
    assert!(message.starts_with(&format!("{}: cannot read the dataset: ", path.display())), "{message}");
    assert_eq!(judge.requests(), 3);
}

#[test]
fn a_csv_row_is_read_as_the_users_own_type_by_value() {
    let judge = lenient_judge();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(reporting(&judge, cache.path(), reports.path()).arg("suite_datasets::tickets::"));
    assert_eq!(run.code, Some(0), "{}", run.all());
    let mut outputs = judge.judged_outputs();
    outputs.sort_unstable();
    assert_eq!(
        outputs,
        [
            "[score:8] Broken zipper (priority 2): The zipper broke after a day, can I get a new one?",
            "[score:8] Late parcel (priority 1): My parcel is a week late",
            "[score:8] Wrong size, again (priority 3): I ordered M and got L",
        ]
    );
    let report = report(reports.path());
    for (id, line) in [("t-1", 2), ("t-2", 3), ("t-3", 4)] {
        let row = record(&report, &format!("suite_datasets::tickets::{id}"));
        assert_eq!(row["dataset"]["line"], line, "a CSV row's line is its record's: {row:#}");
        assert_eq!(row["rubric"], format!("Triage of ticket {id} names its priority."));
        assert_eq!(row["status"], "passed");
    }
    assert_eq!(dataset_summary(&report, "suite_datasets::tickets")["file"], "data/datasets/tickets.csv");
}

#[test]
fn a_json_array_is_read_object_by_object_at_their_lines() {
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert_eq!(
        listed("suite_datasets::faq::"),
        ["suite_datasets::faq::opening-hours", "suite_datasets::faq::2", "suite_datasets::faq::gift-cards"]
    );
    let run = run(reporting(&judge, cache.path(), reports.path()).arg("suite_datasets::faq::"));
    assert_eq!(run.code, Some(0), "{}", run.all());
    let report = report(reports.path());
    for (id, line, score) in [("opening-hours", 2, 0.9), ("2", 3, 0.8), ("gift-cards", 8, 0.9)] {
        let row = record(&report, &format!("suite_datasets::faq::{id}"));
        assert_eq!(row["dataset"]["line"], line, "{row:#}");
        assert!(is_about(&row["score"], score), "the row's `score` variable scripts its output: {row:#}");
    }
    assert_eq!(record(&report, "suite_datasets::faq::2")["rubric"], "Answers the FAQ Do you have a store in Paris?.");
    assert_eq!(dataset_summary(&report, "suite_datasets::faq")["file"], "data/datasets/faq.json");
}

#[test]
fn a_rows_threshold_samples_rubric_and_comparison_win_over_the_attribute() {
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(reporting(&judge, cache.path(), reports.path()).args([
        "suite_datasets::overrides::",
        "--skip",
        "no-audience",
    ]));
    assert_eq!(run.code, Some(101), "{}", run.all());
    let report = report(reports.path());

    // The attribute's threshold is 0.7: a row's own fails an 0.8 and passes a 0.5.
    assert!(run.has_outcome("suite_datasets::overrides::stricter-row", "FAILED"), "{}", run.all());
    let message = failure(&run, "suite_datasets::overrides::stricter-row");
    assert!(message.starts_with("scored 0.80, below the threshold 0.90"), "{message}");
    assert!(message.contains("threshold: row: overrides.jsonl:1"), "{message}");
    assert!(run.has_outcome("suite_datasets::overrides::lenient-row", "ok"), "{}", run.all());
    let lenient = record(&report, "suite_datasets::overrides::lenient-row");
    assert!(is_about(&lenient["score"], 0.5) && is_about(&lenient["threshold"], 0.4), "{lenient:#}");
    assert_eq!(lenient["sources"]["threshold"], "row: overrides.jsonl:2");
    assert_eq!(lenient["rubric"], "Answers Can I change my delivery address? for a returning customer.");

    let three = record(&report, "suite_datasets::overrides::three-samples");
    assert_eq!(three["samples"].as_array().unwrap().len(), 3, "{three:#}");
    assert_eq!(
        (&three["sources"]["samples"], &three["sources"]["threshold"]),
        (&json!("row: overrides.jsonl:3"), &json!("attribute"))
    );

    // The attribute's rubric asks for an `audience` this row lacks: its own rubric replaces it.
    assert!(run.has_outcome("suite_datasets::overrides::own-rubric", "ok"), "{}", run.all());
    let own = record(&report, "suite_datasets::overrides::own-rubric");
    assert_eq!(own["rubric"], "Quotes the Premium plan at 12 euros.", "a number is filled in as written");

    // A row's `compare_with`: each sample is compared with it, in both orders, and wins.
    assert!(run.has_outcome("suite_datasets::overrides::versus-draft", "ok"), "{}", run.all());
    let versus = record(&report, "suite_datasets::overrides::versus-draft");
    let sample = &versus["samples"][0];
    assert_eq!(
        (&sample["compared_with"], &sample["method"]),
        (&json!("[score:4] A draft answer."), &json!("compared"))
    );
    assert_eq!(sample["comparison"], json!({"output_first": "output", "baseline_first": "output"}));
    assert!(is_about(&versus["score"], 1.0), "{versus:#}");
    let pairwise = judge.bodies().iter().filter(|b| b.to_string().contains("[score:4] A draft answer.")).count();
    assert_eq!(pairwise, 2, "one request per order");
    // 1 + 1 + 3 + 1 samples graded, and 2 orders compared.
    assert_eq!(judge.requests(), 8);
}

#[test]
fn a_placeholder_the_row_lacks_fails_that_row_with_its_path_and_line() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run(suite(&judge, cache.path()).args(["--exact", "suite_datasets::overrides::no-audience"]));
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.has_outcome("suite_datasets::overrides::no-audience", "FAILED"), "{}", run.all());
    assert_eq!(judge.requests(), 0, "the row is not judged");
    let message = failure(&run, "suite_datasets::overrides::no-audience");
    let path = dataset_path("overrides.jsonl");
    let start = format!("{}:6: the rubric asks for {{{{audience}}}}, which the row does not have", path.display());
    assert!(message.starts_with(&start), "{message}");
    // Each of the row's fields once.
    assert_eq!(message, format!("{start} (it has: id, input, expected)"));
}

/// A row that cannot be judged is still a row of its dataset in the report, whichever way it
/// fails: its record names its dataset and line, and the dataset counts it as an error.
#[test]
fn a_row_that_cannot_be_judged_keeps_its_dataset_in_the_report() {
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(
        reporting(&judge, cache.path(), reports.path()).args(["--exact", "suite_datasets::overrides::no-audience"])
    );
    assert_eq!(run.code, Some(101), "{}", run.all());
    let report = report(reports.path());
    let row = record(&report, "suite_datasets::overrides::no-audience");
    assert_eq!(row["status"], "error");
    assert_eq!(
        row["dataset"],
        json!({"name": "suite_datasets::overrides", "file": "data/datasets/overrides.jsonl", "id": "no-audience", "line": 6}),
        "{row:#}"
    );
    let summary = dataset_summary(&report, "suite_datasets::overrides");
    assert_eq!((&summary["rows"], &summary["errors"]), (&json!(1), &json!(1)), "{summary:#}");
}

/// judge.toml's `[evals."suite_datasets::support"]` sets every row of the dataset, and
/// `[evals."suite_datasets::support::weak-answer"]` one row; the order is row > attribute >
/// environment > row section > dataset section > the file's top.
#[test]
fn a_threshold_resolves_row_attribute_environment_row_section_dataset_section_then_file() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("judge.toml");
    std::fs::write(
        &config,
        r#"threshold = 0.1

[evals."suite_datasets::support"]
threshold = 0.2

[evals."suite_datasets::support::weak-answer"]
threshold = 0.25

[evals."suite_datasets::overrides"]
threshold = 0.3

[evals."suite_datasets::overrides::three-samples"]
threshold = 0.35
"#,
    )
    .unwrap();
    let skip = [
        "--skip",
        "bad::",
        "--skip",
        "growing",
        "--skip",
        "tickets",
        "--skip",
        "gate",
        "--skip",
        "overrides_",
        // Evals of other tests: snapshots (which would land in this repository), a scratch file
        // another test rewrites, and the techniques.
        "--skip",
        "snapshotted",
        "--skip",
        "drifting",
        "--skip",
        "techniques::",
        // The calibration's datasets, tested in calibration.rs.
        "--skip",
        "calibration::",
    ];
    let thresholds = |env: Option<&str>| {
        let reports = tempfile::tempdir().unwrap();
        let mut command = reporting(&judge, cache.path(), reports.path());
        command.env("JUDGE_CONFIG", &config).args(skip);
        if let Some(threshold) = env {
            command.env("JUDGE_THRESHOLD", threshold);
        }
        let run = run(&mut command);
        assert!(!run.stderr.contains("names no eval"), "every section names a dataset or a row: {}", run.all());
        let report = report(reports.path());
        let of = |name: &str| {
            let row = record(&report, &format!("suite_datasets::{name}"));
            (
                row["threshold"].as_f64().unwrap(),
                row["sources"]["threshold"].as_str().unwrap().to_owned(),
                row["status"].clone(),
            )
        };
        [
            "support::strict-row",
            "support::weak-answer",
            "support::refund-window",
            "faq::gift-cards",
            "overrides::three-samples",
            "overrides::stricter-row",
        ]
        .map(of)
    };
    let section = |name: &str| format!("judge.toml: evals.\"suite_datasets::{name}\".threshold");

    let [row, row_section, dataset_section, file, attribute, over_attribute] = thresholds(None);
    assert_eq!(row.0, 0.9, "the row's own beats both sections");
    assert_eq!(row.1, "row: support.jsonl:5");
    assert_eq!(row_section, (0.25, section("support::weak-answer"), json!("passed")), "0.30 passes 0.25");
    assert_eq!(dataset_section.0, 0.2);
    assert_eq!(dataset_section.1, section("support"));
    assert_eq!(file.0, 0.1, "an eval without a section: the file's top");
    assert_eq!(file.1, "judge.toml: threshold");
    assert_eq!((attribute.0, attribute.1.as_str()), (0.7, "attribute"), "the attribute beats both sections");
    assert_eq!((over_attribute.0, over_attribute.1.as_str()), (0.9, "row: overrides.jsonl:1"), "the row beats it");
    let requests = judge.requests();

    let [row, row_section, dataset_section, file, attribute, over_attribute] = thresholds(Some("0.35"));
    assert_eq!((row.0, row.1.as_str()), (0.9, "row: support.jsonl:5"), "the row's own beats the environment");
    assert_eq!(
        row_section,
        (0.35, "JUDGE_THRESHOLD".to_owned(), json!("failed")),
        "the environment beats a row section"
    );
    assert_eq!((dataset_section.0, dataset_section.1.as_str()), (0.35, "JUDGE_THRESHOLD"));
    assert_eq!((file.0, file.1.as_str()), (0.35, "JUDGE_THRESHOLD"));
    assert_eq!((attribute.0, attribute.1.as_str()), (0.7, "attribute"), "the attribute beats the environment");
    assert_eq!((over_attribute.0, over_attribute.1.as_str()), (0.9, "row: overrides.jsonl:1"));
    assert_eq!(judge.requests(), requests, "a threshold is no part of a verdict: all cached");
}

#[test]
fn a_gated_dataset_is_one_test_that_passes_when_enough_rows_pass() {
    assert_eq!(
        listed("suite_datasets::support_"),
        ["suite_datasets::support_gate", "suite_datasets::support_strict_gate"]
    );
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(reporting(&judge, cache.path(), reports.path()).args(["--exact", "suite_datasets::support_gate"]));
    assert_eq!(run.code, Some(0), "4 of 5 rows reach min_pass_rate 0.8: {}", run.all());
    assert!(run.stdout.contains("test result: ok. 1 passed; 0 failed"), "{}", run.all());
    assert_eq!(judge.requests(), 7, "every row is judged");

    let report = report(reports.path());
    let mut rows: Vec<String> = ["3", "refund-window", "shipping-abroad", "strict-row", "weak-answer"]
        .map(|id| format!("suite_datasets::support_gate::{id}"))
        .into();
    rows.push("suite_datasets::support_gate".to_owned());
    rows.sort_unstable();
    assert_eq!(recorded(&report), rows, "the report has every row, and the gate's test");
    let gate = record(&report, "suite_datasets::support_gate");
    assert_eq!((&gate["status"], &gate["dataset"]), (&json!("passed"), &Value::Null), "{gate:#}");
    let weak = record(&report, "suite_datasets::support_gate::weak-answer");
    assert_eq!((&weak["status"], &weak["dataset"]["min_pass_rate"]), (&json!("failed"), &json!(0.8)));
    let summary = dataset_summary(&report, "suite_datasets::support_gate");
    assert_eq!(summary["file"], "data/datasets/support.jsonl");
    assert_eq!(
        (&summary["rows"], &summary["passed"], &summary["failed"], &summary["errors"]),
        (&json!(5), &json!(4), &json!(1), &json!(0))
    );
    assert!(is_about(&summary["pass_rate"], 0.8) && is_about(&summary["mean_score"], 0.78), "{summary:#}");
    assert_eq!((&summary["min_pass_rate"], &summary["gate"]), (&json!(0.8), &json!("passed")));
}

#[test]
fn a_gate_above_the_pass_rate_fails_listing_the_failing_rows() {
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run =
        run(reporting(&judge, cache.path(), reports.path()).args(["--exact", "suite_datasets::support_strict_gate"]));
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.has_outcome("suite_datasets::support_strict_gate", "FAILED"), "{}", run.all());
    assert_eq!(
        failure(&run, "suite_datasets::support_strict_gate"),
        "4 of 5 rows passed (pass rate 0.80), below min_pass_rate 0.90\n\
         failing rows of data/datasets/support.jsonl:\n  \
         weak-answer (line 6): scored 0.30, below 0.70: The output carries the score marker 3."
    );
    let report = report(reports.path());
    assert_eq!(recorded(&report).len(), 6, "the report has every row and the gate's test: {report:#}");
    let gate = record(&report, "suite_datasets::support_strict_gate");
    assert_eq!((&gate["status"], &gate["failure"]), (&json!("failed"), &json!("below_min_pass_rate")), "{gate:#}");
    assert_eq!(
        record(&report, "suite_datasets::support_strict_gate::strict-row")["samples"].as_array().unwrap().len(),
        3
    );
    let summary = dataset_summary(&report, "suite_datasets::support_strict_gate");
    assert_eq!((&summary["passed"], &summary["failed"]), (&json!(4), &json!(1)));
    assert_eq!((&summary["min_pass_rate"], &summary["gate"]), (&json!(0.9), &json!("failed")));
}

/// A gate's failure names each failing row by its id and line, in file order: a row that scored
/// below its threshold, and a row that could not be judged, with why.
#[test]
fn a_gates_failure_names_every_failing_row_by_id_and_line() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run(suite(&judge, cache.path()).args(["--exact", "suite_datasets::overrides_gate"]));
    assert_eq!(run.code, Some(101), "{}", run.all());
    let message = failure(&run, "suite_datasets::overrides_gate");
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "4 of 6 rows passed (pass rate 0.67), below min_pass_rate 1.00",
            "failing rows of data/datasets/overrides.jsonl:",
            "  stricter-row (line 1): scored 0.80, below 0.90: The output carries the score marker 8.",
        ]
    );
    let path = dataset_path("overrides.jsonl").display().to_string();
    let unjudged = format!("  no-audience (line 6): {path}:6: the rubric asks for {{{{audience}}}}");
    assert!(lines.len() == 4 && lines[3].starts_with(&unjudged), "{message}");
}

#[test]
fn a_zero_pass_rate_is_one_test_that_still_judges_and_reports_every_row() {
    assert_eq!(listed("suite_datasets::overrides_ungated"), ["suite_datasets::overrides_ungated"]);
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run =
        run(reporting(&judge, cache.path(), reports.path()).args(["--exact", "suite_datasets::overrides_ungated"]));
    assert_eq!(run.code, Some(0), "a failing row fails no gate of 0.0: {}", run.all());
    let report = report(reports.path());
    assert_eq!(recorded(&report).len(), 7, "every row and the gate's test: {report:#}");
    let stricter = record(&report, "suite_datasets::overrides_ungated::stricter-row");
    assert_eq!(stricter["status"], "failed");
    let summary = dataset_summary(&report, "suite_datasets::overrides_ungated");
    assert_eq!((&summary["passed"], &summary["failed"]), (&json!(4), &json!(1)), "{summary:#}");
    assert_eq!((&summary["min_pass_rate"], &summary["gate"]), (&json!(0.0), &json!("passed")));
    assert_eq!(judge.requests(), 8);
}

#[test]
fn nextest_partitions_split_a_datasets_rows_between_shards() {
    if !crate::nextest::nextest_available("nextest_partitions_split_a_datasets_rows_between_shards") {
        return;
    }
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    // Two shards, as two CI machines would run them, sharing one verdict cache; each row passes
    // at this threshold, so each shard's exit code says its rows passed.
    let shard = |partition: &str, reports: &Path| {
        let mut command = crate::nextest::suite_under_nextest("suite-datasets", &judge, cache.path(), reports);
        command.args(["--partition", partition, "suite_datasets::support::"]).env("JUDGE_THRESHOLD", "0.25");
        let run = bounded(&mut command, NEXTEST_LIMIT);
        assert_eq!(run.code, Some(0), "{}", run.all());
        // Built for tests, the binary is `deps/suite_datasets-HASH`: its reports are `suite_datasets.*`.
        let names: Vec<String> =
            recorded(&read_report(&reports.join("suite_datasets.json"))).into_iter().map(str::to_owned).collect();
        for name in &names {
            let passed = run.all().lines().any(|line| line.contains(" PASS ") && line.ends_with(name.as_str()));
            assert!(passed, "nextest ran {name}:\n{}", run.all());
        }
        names
    };
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let one = shard("count:1/2", first.path());
    let two = shard("count:2/2", second.path());
    assert!(!one.is_empty() && !two.is_empty(), "each shard runs rows: {one:?} {two:?}");
    let mut union: Vec<String> = one.iter().chain(&two).cloned().collect();
    union.sort_unstable();
    let mut all = SUPPORT_ROWS.map(str::to_owned).to_vec();
    all.sort_unstable();
    assert_eq!(union, all, "every row exactly once");
    assert_eq!(judge.requests(), 7, "each row judged once, by its shard");
}

/// Each bad dataset (or row) of the suite's module `bad`: the test, how its message starts (with
/// the resolved path), and what else it says.
fn bad_inputs() -> [(&'static str, String, &'static str); 12] {
    let at = |file: &str| dataset_path(&format!("bad/{file}")).display().to_string();
    [
        ("duplicate", format!("{}:3: duplicate id \"x\" on lines 1 and 3", at("duplicate.jsonl")), "unique"),
        ("empty", format!("{}: the dataset has no rows", at("empty.jsonl")), ""),
        ("malformed", format!("{}:2: malformed JSON", at("malformed.jsonl")), "EOF while parsing a value"),
        ("missing", format!("{}: cannot read the dataset: ", at("missing.jsonl")), "No such file"),
        (
            "no_input::without-input",
            format!("{}:2: the row has no `input`", at("no_input.jsonl")),
            "a row type of your own",
        ),
        (
            "not_a_ticket::t-2",
            format!("{}:2: ", at("tickets.jsonl")),
            "suite_datasets::Ticket`: missing field `priority`",
        ),
        (
            "off_scale::off-scale",
            format!("{}:2: `human` is 12, outside the judge's scale 0–10", at("off_scale.jsonl")),
            "a score on that scale, or true/false",
        ),
        (
            "out_of_range",
            format!("{}:2: 1.5 is out of range: `threshold` must be in 0.0..=1.0", at("out_of_range.jsonl")),
            "",
        ),
        ("path_in_id", format!("{}:2: `id` \"refunds::window\"", at("id.jsonl")), "`::`"),
        ("unknown_extension", format!("{}: `.txt` is not a dataset format", at("cases.txt")), ".jsonl"),
        (
            "wrong_field_count",
            format!("{}:3: the record has 4 fields where the header row has 3", at("fields.csv")),
            "",
        ),
        ("wrong_type", format!("{}:2: `threshold` must be a number, found a string", at("wrong_type.jsonl")), ""),
    ]
}

#[test]
fn a_bad_dataset_is_one_failing_test_whose_message_starts_with_its_path_and_line() {
    // A file that cannot be read is one test named after its eval; a row that cannot be read as
    // the function's parameter fails alone, and its dataset's other rows run.
    assert_eq!(
        listed("bad::"),
        [
            "suite_datasets::bad::duplicate",
            "suite_datasets::bad::empty",
            "suite_datasets::bad::malformed",
            "suite_datasets::bad::missing",
            "suite_datasets::bad::no_input::with-input",
            "suite_datasets::bad::no_input::without-input",
            "suite_datasets::bad::not_a_ticket::t-1",
            "suite_datasets::bad::not_a_ticket::t-2",
            "suite_datasets::bad::off_scale::on-scale",
            "suite_datasets::bad::off_scale::off-scale",
            "suite_datasets::bad::off_scale::calibration",
            "suite_datasets::bad::out_of_range",
            "suite_datasets::bad::path_in_id",
            "suite_datasets::bad::unknown_extension",
            "suite_datasets::bad::wrong_field_count",
            "suite_datasets::bad::wrong_type",
        ]
    );
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run(suite(&judge, cache.path()).arg("bad::"));
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(!run.all().contains("panicked"), "{}", run.all());
    for (eval, start, says) in bad_inputs() {
        let test = format!("suite_datasets::bad::{eval}");
        assert!(run.has_outcome(&test, "FAILED"), "{test}: {}", run.all());
        let message = failure(&run, &test);
        assert!(message.starts_with(&start), "{test}:\n  {message}\nexpected to start with\n  {start}");
        assert!(message.contains(says), "{test}:\n  {message}\nexpected to say {says:?}");
    }
    assert!(run.has_outcome("suite_datasets::bad::no_input::with-input", "ok"), "{}", run.all());
    assert!(run.has_outcome("suite_datasets::bad::not_a_ticket::t-1", "ok"), "{}", run.all());
    assert!(run.has_outcome("suite_datasets::bad::off_scale::on-scale", "ok"), "{}", run.all());
    // The calibration test of off_scale stands on its one good labelled row.
    assert!(run.has_outcome("suite_datasets::bad::off_scale::calibration", "ok"), "{}", run.all());
    assert!(run.stdout.contains("test result: FAILED. 4 passed; 12 failed"), "{}", run.all());
    assert_eq!(judge.requests(), 3, "only the good rows are judged");
}

/// A malformed JSONL line is named once, by its line in the file: serde_json's own position
/// counts lines within the line, always "line 1", which would contradict it.
#[test]
fn a_malformed_jsonl_line_is_not_also_called_line_1() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run(suite(&judge, cache.path()).args(["--exact", "suite_datasets::bad::malformed"]));
    let message = failure(&run, "suite_datasets::bad::malformed");
    let path = dataset_path("bad/malformed.jsonl").display().to_string();
    assert!(message.starts_with(&format!("{path}:2: malformed JSON")), "{message}");
    assert!(message.contains("EOF while parsing a value"), "{message}");
    assert!(!message.contains("line 1"), "{message}");
}

/// A dataset that cannot be read fails its test, and the reports show that test, as they show
/// every other failure: a CI reading the JSON or JUnit report must not see a green run.
#[test]
fn an_unreadable_dataset_is_in_the_reports() {
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(reporting(&judge, cache.path(), reports.path()).args(["--exact", "suite_datasets::bad::missing"]));
    assert_eq!(run.code, Some(101), "{}", run.all());
    let report = report(reports.path());
    let missing = record(&report, "suite_datasets::bad::missing");
    assert_eq!(missing["status"], "error");
    let path = dataset_path("bad/missing.jsonl").display().to_string();
    assert!(missing["message"].as_str().is_some_and(|m| m.starts_with(&format!("{path}: cannot read"))), "{missing:#}");
    let junit = std::fs::read_to_string(reports.path().join("suite-datasets.junit.xml")).unwrap();
    assert!(junit.contains("<testcase classname=\"suite_datasets::bad\" name=\"missing\""), "{junit}");
    assert!(
        junit.contains(&format!("<error type=\"not_scored\" message=\"{path}: cannot read the dataset")),
        "{junit}"
    );
}

/// Writes `text` to `path` whole (a temporary file renamed over it): a run of the suite that reads
/// its datasets meanwhile sees the old file or the new one, never half of one.
fn write_whole(path: &Path, text: &str) {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

/// The rows of snapshots.jsonl: each id, and the same as it is written in its snapshot's name.
const SNAPSHOT_ROWS: [(&str, &str); 3] =
    [("refund-window", "refund-window"), ("a b", "a%20b"), ("tarte/crème 50%", "tarte%2Fcr%C3%A8me%2050%25")];

/// [`reporting`] in `root` (cache and reports below it), with insta's workspace at `root`: the
/// snapshots land in `root/tests/src/bin/snapshots/`, not in this repository. `CI` is removed, as
/// insta writes no `.snap.new` under CI.
fn snapshotting(judge: &FakeJudge, root: &Path) -> Command {
    let mut command = reporting(judge, &root.join("cache"), &root.join("reports"));
    command.env("INSTA_WORKSPACE_ROOT", root).env_remove("CI");
    command
}

/// The snapshot file of each row of the evals `snapshotted` and `snapshotted_strict`, with
/// `extension` (`snap` or `snap.new`), sorted; `only` keeps the rows whose id it is.
fn row_snapshots(extension: &str, only: Option<&str>) -> Vec<String> {
    let mut names: Vec<String> = ["snapshotted", "snapshotted_strict"]
        .iter()
        .flat_map(|eval| {
            SNAPSHOT_ROWS
                .iter()
                .filter(|(id, _)| only.is_none_or(|only| only == *id))
                .map(move |(_, encoded)| format!("suite_datasets__{eval}@{encoded}.{extension}"))
        })
        .collect();
    names.sort_unstable();
    names
}

/// How each row's snapshot compared (`snapshot` of its record), by test name.
fn snapshot_states(root: &Path) -> Vec<(String, Value)> {
    let report = report(&root.join("reports"));
    report["evals"]
        .as_array()
        .expect("a report has evals")
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_owned(), e["snapshot"].clone()))
        .collect()
}

/// Each row's status, by test name, from the JSON report: insta prints its diffs of strict rows
/// while libtest prints its lines, so the report is the reliable account.
fn snapshot_statuses(root: &Path) -> Vec<(String, Value)> {
    let report = report(&root.join("reports"));
    recorded(&report).into_iter().map(|name| (name.to_owned(), record(&report, name)["status"].clone())).collect()
}

/// What [`snapshot_statuses`] is expected to be: every row passes, but the strict rows whose
/// snapshot changed, which are every strict row without `changed`, else the row `changed`.
fn expected_statuses(changed: Option<&str>) -> Vec<(String, Value)> {
    let mut statuses: Vec<(String, Value)> = ["snapshotted", "snapshotted_strict"]
        .iter()
        .flat_map(|eval| {
            SNAPSHOT_ROWS.iter().map(move |(id, _)| {
                let fails = *eval == "snapshotted_strict" && changed.is_none_or(|changed| changed == *id);
                (format!("suite_datasets::{eval}::{id}"), Value::from(if fails { "failed" } else { "passed" }))
            })
        })
        .collect();
    statuses.sort_by(|a, b| a.0.cmp(&b.0));
    statuses
}

/// Each row of `snapshotted` and `snapshotted_strict` with `state`, but the row `changed`, with
/// `"changed"`: what [`snapshot_states`] is expected to be.
fn expected_states(state: &str, changed: Option<&str>) -> Vec<(String, Value)> {
    let mut states: Vec<(String, Value)> = ["snapshotted", "snapshotted_strict"]
        .iter()
        .flat_map(|eval| {
            SNAPSHOT_ROWS.iter().map(move |(id, _)| {
                let state = if changed == Some(*id) { "changed" } else { state };
                (format!("suite_datasets::{eval}::{id}"), Value::from(state))
            })
        })
        .collect();
    states.sort_by(|a, b| a.0.cmp(&b.0));
    states
}

/// With `snapshot = true` (or `"strict"`), a dataset eval snapshots each row on its own: one file
/// per row, `<module>__<fn>@<id>.snap`, its id percent-encoded (every byte of it but ASCII letters,
/// digits, `-`, `_` and `.` as `%XX`), so that no id can collide with another or leave the
/// directory. A rerun compares each row with its own file: a changed row is shown alone.
#[test]
fn each_row_is_snapshotted_in_a_file_of_its_own_named_after_its_id() {
    let judge = FakeJudge::start();
    let root = tempfile::tempdir().unwrap();
    let filter = "suite_datasets::snapshotted";

    // No snapshot yet: insta writes one `.snap.new` per row for review. The rows pass on their
    // score; a strict row fails until its snapshot is accepted.
    let first = run(snapshotting(&judge, root.path()).arg(filter));
    assert_eq!(first.code, Some(101), "{}", first.all());
    assert_eq!(snapshot_statuses(root.path()), expected_statuses(None), "{}", first.all());
    assert_eq!(snapshot_files(root.path()), row_snapshots("snap.new", None), "{}", first.all());
    assert_eq!(snapshot_states(root.path()), expected_states("changed", None));

    // Accepted (`INSTA_UPDATE=always` writes each snapshot in place): one `.snap` per row.
    let accepted = run(snapshotting(&judge, root.path()).env("INSTA_UPDATE", "always").arg(filter));
    assert_eq!(accepted.code, Some(0), "{}", accepted.all());

    // A rerun compares each row with its own snapshot: all match, and nothing is left pending.
    let rerun = run(snapshotting(&judge, root.path()).arg(filter));
    assert_eq!(rerun.code, Some(0), "{}", rerun.all());
    assert_eq!(snapshot_files(root.path()), row_snapshots("snap", None), "{}", rerun.all());
    assert_eq!(snapshot_states(root.path()), expected_states("matched", None));
    let texts: Vec<String> = SNAPSHOT_ROWS
        .iter()
        .map(|(_, encoded)| {
            let file = snapshot_dir(root.path()).join(format!("suite_datasets__snapshotted@{encoded}.snap"));
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        })
        .collect();
    for ((id, _), (text, (input, score))) in SNAPSHOT_ROWS.iter().zip(texts.iter().zip([
        ("How long do I have to return an item?", "0.90"),
        ("Do you ship abroad?", "0.80"),
        ("Is the lemon tart half price today?", "0.70"),
    ])) {
        assert!(text.contains(input), "the snapshot of {id} holds its input:\n{text}");
        assert!(text.contains(&format!("\n---\nscore: {score} (passed, threshold 0.50)\n")), "{id}:\n{text}");
        assert!(text.contains(&format!("The output carries the score marker {}.", &score[2..3])), "{id}:\n{text}");
    }

    // One row's verdict changes: its snapshot alone differs, and fails that row where strict.
    let changed = run(snapshotting(&judge, root.path()).env("SUITE_CHANGED_ROW", "a b").arg(filter));
    assert_eq!(changed.code, Some(101), "{}", changed.all());
    assert_eq!(snapshot_statuses(root.path()), expected_statuses(Some("a b")), "{}", changed.all());
    assert_eq!(snapshot_states(root.path()), expected_states("matched", Some("a b")));
    let strict = record(&report(&root.path().join("reports")), "suite_datasets::snapshotted_strict::a b").clone();
    assert_eq!(strict["failure"], "snapshot_changed", "{strict:#}");
    let mut pending = row_snapshots("snap", None);
    pending.extend(row_snapshots("snap.new", Some("a b")));
    pending.sort_unstable();
    assert_eq!(snapshot_files(root.path()), pending, "{}", changed.all());
}

/// The score baseline holds each row under its test name; compared with it, only the row whose
/// score fell by more than max_score_drop fails, though above its threshold.
#[test]
fn the_score_baseline_holds_each_row_and_flags_only_the_row_that_fell() {
    let scratch = Scratch(dataset_path("scratch/drifting.jsonl"));
    std::fs::create_dir_all(scratch.0.parent().unwrap()).unwrap();
    // Three rows scored by their `score`, the last without an id (its test is `…::3`).
    let rows = |slipping: u32, rising: u32| {
        format!(
            "{{\"id\": \"steady\", \"input\": \"Do you gift-wrap?\", \"expected\": \"Yes\", \"score\": 9}}\n\
             {{\"id\": \"slipping\", \"input\": \"Can I cancel an order?\", \"expected\": \"Before it ships\", \"score\": {slipping}}}\n\
             {{\"input\": \"Do you ship to Norway?\", \"expected\": \"Yes\", \"score\": {rising}}}\n"
        )
    };
    write_whole(&scratch.0, &rows(9, 6));
    let judge = FakeJudge::start();
    let (cache, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let baseline = dir.path().join("baseline.json");

    let save =
        run(suite(&judge, cache.path()).env("JUDGE_SAVE_SCORE_BASELINE", &baseline).arg("suite_datasets::drifting"));
    assert_eq!(save.code, Some(0), "{}", save.all());
    assert_eq!(
        std::fs::read_to_string(&baseline).unwrap(),
        "{\n  \"format\": 1,\n  \"scores\": {\n    \"suite_datasets::drifting::3\": 0.6,\n    \
         \"suite_datasets::drifting::slipping\": 0.9,\n    \"suite_datasets::drifting::steady\": 0.9\n  }\n}\n",
        "one entry per row, by its test name"
    );
    assert_eq!(judge.requests(), 3);

    // `slipping` falls from 0.9 to 0.7 (still above its threshold, 0.5), the unnamed row rises.
    write_whole(&scratch.0, &rows(7, 8));
    let reports = tempfile::tempdir().unwrap();
    let compare = run(reporting(&judge, cache.path(), reports.path())
        .env("JUDGE_SCORE_BASELINE", &baseline)
        .env("JUDGE_MAX_SCORE_DROP", "0.1")
        .arg("suite_datasets::drifting"));
    assert_eq!(compare.code, Some(101), "{}", compare.all());
    assert!(compare.has_outcome("suite_datasets::drifting::slipping", "FAILED"), "{}", compare.all());
    assert!(compare.has_outcome("suite_datasets::drifting::steady", "ok"), "{}", compare.all());
    assert!(compare.has_outcome("suite_datasets::drifting::3", "ok"), "{}", compare.all());
    assert!(compare.stdout.contains("test result: FAILED. 2 passed; 1 failed"), "{}", compare.all());
    let message = failure(&compare, "suite_datasets::drifting::slipping");
    assert!(
        message.starts_with(
            "scored 0.70, 0.20 below its baseline 0.90: more than max_score_drop 0.10 allows, though above the \
             threshold 0.50"
        ),
        "{message}"
    );
    let report = report(reports.path());
    let slipping = record(&report, "suite_datasets::drifting::slipping");
    assert_eq!(slipping["baseline"], json!({"score": 0.9, "delta": -0.2, "regressed": true}), "{slipping:#}");
    assert_eq!(slipping["failure"], "regression");
    assert_eq!(
        record(&report, "suite_datasets::drifting::steady")["baseline"],
        json!({"score": 0.9, "delta": 0.0, "regressed": false})
    );
    assert_eq!(
        record(&report, "suite_datasets::drifting::3")["baseline"],
        json!({"score": 0.6, "delta": 0.2, "regressed": false})
    );
    let summary = dataset_summary(&report, "suite_datasets::drifting");
    assert_eq!((&summary["passed"], &summary["failed"]), (&json!(2), &json!(1)), "{summary:#}");
    assert_eq!(judge.requests(), 5, "the steady row's verdict is cached");
    assert!(
        std::fs::read_to_string(&baseline).unwrap().contains("\"suite_datasets::drifting::slipping\": 0.9,"),
        "comparing does not save"
    );
}

/// The record of each row of the dataset eval `techniques::<eval>`, run alone with its reports
/// in `reports`, by id (`hands`, `moon`).
fn technique_rows(eval: &str, judge: &FakeJudge, reports: &Path) -> (HarnessRun, Value) {
    let cache = tempfile::tempdir().unwrap();
    let run = run(reporting(judge, cache.path(), reports).arg(format!("suite_datasets::techniques::{eval}::")));
    let report = report(reports);
    let mut names = recorded(&report);
    names.sort_unstable();
    let expected = ["hands", "moon"].map(|id| format!("suite_datasets::techniques::{eval}::{id}"));
    assert_eq!(names, expected, "{}", run.all());
    (run, report)
}

/// The judge's request for the row whose input is `input`, among `bodies`.
pub(crate) fn request_for<'a>(bodies: &'a [Value], input: &str) -> Vec<&'a Value> {
    bodies.iter().filter(|b| b["messages"][1]["content"].as_str().is_some_and(|user| user.contains(input))).collect()
}

const HANDS: &str = "How many times a day do the hands of a clock overlap?";
const MOON: &str = "How many days does the Moon take to orbit the Earth?";

#[test]
fn criteria_grade_each_row_and_a_rows_criterion_below_its_threshold_fails_it() {
    let judge = FakeJudge::start();
    let reports = tempfile::tempdir().unwrap();
    let (run, report) = technique_rows("criteria", &judge, reports.path());
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.has_outcome("suite_datasets::techniques::criteria::hands", "ok"), "{}", run.all());
    assert!(run.has_outcome("suite_datasets::techniques::criteria::moon", "FAILED"), "{}", run.all());
    let criteria = |id: &str| -> Vec<(String, f64, bool)> {
        let row = record(&report, &format!("suite_datasets::techniques::criteria::{id}"));
        row["criteria"]
            .as_array()
            .unwrap_or_else(|| panic!("no criteria: {row:#}"))
            .iter()
            .map(|c| {
                (c["name"].as_str().unwrap().to_owned(), c["score"].as_f64().unwrap(), c["passed"].as_bool().unwrap())
            })
            .collect()
    };
    assert_eq!(criteria("hands"), [("accuracy".to_owned(), 1.0, true), ("clarity".to_owned(), 0.8, true)]);
    assert_eq!(criteria("moon"), [("accuracy".to_owned(), 1.0, true), ("clarity".to_owned(), 0.3, false)]);
    let hands = record(&report, "suite_datasets::techniques::criteria::hands");
    assert!(is_about(&hands["score"], 0.95), "(3 × 1.0 + 0.8) / 4: {hands:#}");
    let moon = record(&report, "suite_datasets::techniques::criteria::moon");
    assert_eq!((&moon["status"], &moon["failure"]), (&json!("failed"), &json!("criterion_below_threshold")));
    let message = moon["message"].as_str().unwrap();
    assert!(message.contains("above the threshold 0.70, but:"), "{message}");
    assert!(message.contains("criterion clarity: 0.30 (weight 1), below its threshold 0.50"), "{message}");
    // One call per row, asking for both criteria.
    let bodies = judge.bodies();
    assert_eq!(bodies.len(), 2);
    for input in [HANDS, MOON] {
        let [body] = request_for(&bodies, input)[..] else { panic!("one request for {input}: {bodies:#?}") };
        let schema = &body["response_format"]["json_schema"]["schema"];
        assert_eq!(schema["required"], json!(["accuracy", "clarity"]), "{body:#}");
    }
}

#[test]
fn levels_are_named_for_each_row() {
    let judge = FakeJudge::start();
    let reports = tempfile::tempdir().unwrap();
    let (run, report) = technique_rows("levels", &judge, reports.path());
    assert_eq!(run.code, Some(0), "{}", run.all());
    for (id, level, score) in [("hands", "8-10", 0.9), ("moon", "5-7", 0.6)] {
        let row = record(&report, &format!("suite_datasets::techniques::levels::{id}"));
        assert_eq!(row["samples"][0]["level"], level, "{row:#}");
        assert!(is_about(&row["score"], score), "{row:#}");
    }
    let bodies = judge.bodies();
    assert_eq!(bodies.len(), 2);
    for input in [HANDS, MOON] {
        let [body] = request_for(&bodies, input)[..] else { panic!("one request for {input}: {bodies:#?}") };
        let schema = &body["response_format"]["json_schema"]["schema"];
        assert_eq!(schema["properties"]["level"]["enum"], json!(["0-4", "5-7", "8-10"]), "{body:#}");
        let user = body["messages"][1]["content"].as_str().unwrap();
        assert!(user.contains("## Rubric levels (scores, then what they mean)\n- 0-4: Wrong or missing.\n"), "{user}");
    }
}

#[test]
fn an_ensemble_judges_each_row_with_every_judge() {
    let judge = FakeJudge::start();
    let reports = tempfile::tempdir().unwrap();
    let (run, report) = technique_rows("judges", &judge, reports.path());
    assert_eq!(run.code, Some(0), "{}", run.all());
    for (id, panel, score, spread) in [("hands", [0.9, 0.7], 0.8, 0.2), ("moon", [0.6, 0.6], 0.6, 0.0)] {
        let row = record(&report, &format!("suite_datasets::techniques::judges::{id}"));
        assert_eq!(row["judge"], "openai:judge-a + openai:judge-b", "{row:#}");
        let judged: Vec<(&str, f64)> = row["samples"][0]["panel"]
            .as_array()
            .unwrap_or_else(|| panic!("no panel: {row:#}"))
            .iter()
            .map(|p| (p["judge"].as_str().unwrap(), p["score"].as_f64().unwrap()))
            .collect();
        assert_eq!(judged, [("openai:judge-a", panel[0]), ("openai:judge-b", panel[1])], "{id}");
        assert!(is_about(&row["score"], score), "the mean of the judges: {row:#}");
        assert!(is_about(&row["disagreement"]["spread"], spread), "{row:#}");
    }
    assert_eq!(judge.requests(), 4, "each judge once per row");
    assert_eq!(judge.models().into_iter().collect::<Vec<_>>(), ["judge-a", "judge-b"]);
}

#[test]
fn samples_of_a_row_are_reduced_by_the_attributes_reducer() {
    let judge = FakeJudge::start();
    let reports = tempfile::tempdir().unwrap();
    let (run, report) = technique_rows("median", &judge, reports.path());
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.has_outcome("suite_datasets::techniques::median::hands", "ok"), "{}", run.all());
    assert!(run.has_outcome("suite_datasets::techniques::median::moon", "FAILED"), "{}", run.all());
    // Scores (10, 3, 8) and (2, 9, 4): medians 0.8 and 0.4, where their means are 0.7 and 0.5.
    for (id, scores, median) in [("hands", [0.3, 0.8, 1.0], 0.8), ("moon", [0.2, 0.4, 0.9], 0.4)] {
        let row = record(&report, &format!("suite_datasets::techniques::median::{id}"));
        assert_eq!(row["stats"]["reduce"], "median", "{row:#}");
        let mut sampled: Vec<f64> =
            row["samples"].as_array().unwrap().iter().map(|s| s["score"].as_f64().unwrap()).collect();
        sampled.sort_by(f64::total_cmp);
        assert_eq!(sampled, scores, "{id}");
        assert!(is_about(&row["score"], median), "{row:#}");
    }
    let message = failure(&run, "suite_datasets::techniques::median::moon");
    assert!(message.starts_with("scored 0.40, below the threshold 0.70"), "{message}");
    assert_eq!(judge.requests(), 6, "three samples a row");
}

#[test]
fn the_authors_steps_are_followed_for_each_row() {
    let judge = FakeJudge::start();
    let reports = tempfile::tempdir().unwrap();
    let (run, report) = technique_rows("steps", &judge, reports.path());
    assert_eq!(run.code, Some(0), "{}", run.all());
    for id in ["hands", "moon"] {
        assert_eq!(record(&report, &format!("suite_datasets::techniques::steps::{id}"))["status"], "passed");
    }
    let bodies = judge.bodies();
    assert_eq!(bodies.len(), 2, "given steps need no call to write them");
    let steps = "## Evaluation steps (follow them in order before you grade)\n\
                 1. Find the number the output states.\n\
                 2. Check it against the reference answer.\n";
    for input in [HANDS, MOON] {
        let [body] = request_for(&bodies, input)[..] else { panic!("one request for {input}: {bodies:#?}") };
        let user = body["messages"][1]["content"].as_str().unwrap();
        assert!(user.contains(steps), "{user}");
    }
}

/// Whether `line` names `name` as a whole: not as the start of a longer name
/// (`suite_datasets::support` in `suite_datasets::support_gate`).
pub(crate) fn names(line: &str, name: &str) -> bool {
    line.match_indices(name)
        .any(|(at, _)| !line[at + name.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':'))
}

/// The three datasets `suite_datasets::support` selects: one without a gate, one whose gate
/// passes, one whose gate fails.
const SUPPORT_DATASETS: [&str; 3] =
    ["suite_datasets::support", "suite_datasets::support_gate", "suite_datasets::support_strict_gate"];

/// The ids of support.jsonl's rows.
const SUPPORT_IDS: [&str; 5] = ["refund-window", "shipping-abroad", "3", "strict-row", "weak-answer"];

/// The first child of `node` named `tag`.
fn child<'a, 'input>(node: roxmltree::Node<'a, 'input>, tag: &str) -> Option<roxmltree::Node<'a, 'input>> {
    node.children().find(|n| n.has_tag_name(tag))
}

/// JUnit: a gated dataset is one more testcase, which fails only when its gate does, and its rows
/// fail nothing of their own; each dataset's summary is a property of the suite.
#[test]
fn the_junit_report_has_a_testcase_per_gate_and_a_property_per_dataset() {
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(reporting(&judge, cache.path(), reports.path()).arg("suite_datasets::support"));
    assert_eq!(run.code, Some(101), "support::weak-answer and support_strict_gate fail: {}", run.all());
    let xml = std::fs::read_to_string(reports.path().join("suite-datasets.junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("the JUnit report is well-formed XML");
    let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).unwrap();
    let cases: Vec<roxmltree::Node> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
    let case = |classname: &str, name: &str| {
        let found =
            cases.iter().find(|n| n.attribute("classname") == Some(classname) && n.attribute("name") == Some(name));
        *found.unwrap_or_else(|| panic!("no testcase {classname} {name}:\n{xml}"))
    };

    // Each row is a testcase; each gated dataset one more, named after its eval.
    for dataset in SUPPORT_DATASETS {
        for id in SUPPORT_IDS {
            case(dataset, id);
        }
    }
    assert_eq!(cases.len(), 17, "15 rows and 2 gates:\n{xml}");
    let passed_gate = case("suite_datasets", "support_gate");
    assert!(child(passed_gate, "failure").is_none() && child(passed_gate, "error").is_none(), "{xml}");
    let failed_gate = child(case("suite_datasets", "support_strict_gate"), "failure").expect("the gate fails");
    assert_eq!(failed_gate.attribute("type"), Some("below_min_pass_rate"), "{xml}");
    assert!(failed_gate.attribute("message").unwrap().starts_with("4 of 5 rows passed (pass rate 0.80"), "{xml}");
    assert!(!cases.iter().any(|n| n.attribute("name") == Some("support")), "no gate, no testcase of its own: {xml}");

    // A gated dataset's failing row fails nothing of its own; without a gate, the row is the test.
    for gated in ["suite_datasets::support_gate", "suite_datasets::support_strict_gate"] {
        let weak = case(gated, "weak-answer");
        assert!(child(weak, "failure").is_none() && child(weak, "error").is_none(), "{gated}:\n{xml}");
    }
    let weak = child(case("suite_datasets::support", "weak-answer"), "failure").expect("an ungated row fails");
    assert_eq!(weak.attribute("type"), Some("below_threshold"));

    // The suite's counts are its testcases'.
    let count = |tag: &str| doc.descendants().filter(|n| n.has_tag_name(tag)).count().to_string();
    assert_eq!(
        ["tests", "failures", "errors"].map(|a| suite.attribute(a).unwrap().to_owned()),
        [cases.len().to_string(), count("failure"), count("error")],
        "{xml}"
    );
    assert_eq!(count("failure"), "2", "{xml}");

    let properties: Vec<(&str, &str)> = suite
        .children()
        .filter(|n| n.has_tag_name("properties"))
        .flat_map(|p| p.children().filter(|n| n.has_tag_name("property")))
        .map(|p| (p.attribute("name").unwrap(), p.attribute("value").unwrap()))
        .filter(|(name, _)| name.starts_with("dataset "))
        .collect();
    assert_eq!(
        properties.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
        SUPPORT_DATASETS.map(|d| format!("dataset {d}")),
        "{xml}"
    );
    for (name, value) in properties {
        assert!(value.starts_with("4 of 5 rows passed (pass rate 0.80"), "{name}: {value}");
    }
}

/// Markdown: a line per dataset, with its summary.
#[test]
fn the_markdown_report_has_a_summary_line_per_dataset() {
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(reporting(&judge, cache.path(), reports.path()).arg("suite_datasets::support"));
    assert_eq!(run.code, Some(101), "{}", run.all());
    let md = std::fs::read_to_string(reports.path().join("suite-datasets.md")).unwrap();
    for dataset in SUPPORT_DATASETS {
        let lines: Vec<&str> = md.lines().filter(|l| l.starts_with("- ") && names(l, dataset)).collect();
        let [line] = lines[..] else { panic!("one line for {dataset}, not {lines:?}:\n{md}") };
        assert!(line.contains("4 of 5 rows passed (pass rate 0.80"), "{line}");
    }
}

/// HTML: one heading per dataset, with its name, before its rows.
#[test]
fn the_html_report_has_a_heading_per_dataset_before_its_rows() {
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(reporting(&judge, cache.path(), reports.path()).arg("suite_datasets::support"));
    assert_eq!(run.code, Some(101), "{}", run.all());
    let html = std::fs::read_to_string(reports.path().join("suite-datasets.html")).unwrap();
    // The table's rows in order, each as (position, class, data-name).
    let rows: Vec<(usize, &str, &str)> = html
        .match_indices("<tr class=\"")
        .map(|(at, start)| {
            let rest = &html[at + start.len()..];
            let class = &rest[..rest.find('"').unwrap()];
            let tag = &rest[..rest.find('>').unwrap()];
            let name = tag.split_once(" data-name=\"").map_or("", |(_, n)| &n[..n.find('"').unwrap()]);
            (at, class, name)
        })
        .collect();
    let headings: Vec<(&str, &str)> =
        rows.iter().filter(|(_, class, _)| class.split(' ').next() == Some("dataset")).map(|r| (r.1, r.2)).collect();
    assert_eq!(
        headings,
        [
            ("dataset failed", "suite_datasets::support"),
            ("dataset passed", "suite_datasets::support_gate"),
            ("dataset failed", "suite_datasets::support_strict_gate"),
        ],
        "one heading per dataset, by its state (a gate's, else whether every row passed)"
    );
    // Every row is under its dataset's heading: the last heading before it.
    let mut under = None;
    let mut seen = 0;
    for (_, class, name) in &rows {
        match class.split(' ').next() {
            Some("dataset") => under = Some(*name),
            Some("eval") => {
                let dataset = under.unwrap_or_else(|| panic!("{name} comes before any heading"));
                // The gate's own test sits first under its heading, then the rows.
                if *name == dataset {
                    continue;
                }
                let id = name.strip_prefix(dataset).and_then(|rest| rest.strip_prefix("::"));
                assert!(id.is_some_and(|id| SUPPORT_IDS.contains(&id)), "{name} is under {dataset}");
                seen += 1;
            }
            _ => {}
        }
    }
    assert_eq!(seen, 15, "every row of the three datasets");
}
