//! A run sharded across machines, as CI shards it (`cargo nextest run --partition count:K/3`,
//! simulated with `--exact` selections): suite-basic run as 3 separate processes, each with its
//! own verdict cache and `JUDGE_REPORT_DIR`, then `cargo judge merge` (the cargo-judge binary)
//! makes them one run's reports and score baseline, gated on a score baseline.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use judge_tests::{FakeJudge, HarnessRun, harness, nested_cargo};
use serde_json::Value;

use crate::common::{read_report, run_exact, suite};

/// The evals of each shard: together a mix of passed, failed and unscorable evals, none of which
/// asks for a verdict another asks for (in one process they would share it).
const SHARDS: [&[&str]; 3] = [
    &["passes", "clock_hands", "static_str"],
    &["async_result", "trimmed_seven", "returns_err"],
    &["panics", "score_six_attribute_threshold", "identical_seven"],
];

/// The cargo-judge binary, as `cargo test --workspace` builds it for cargo-judge's own tests
/// (cargo-judge is not a dependency of this crate, so cargo builds no binary of it for these
/// tests). The same selection resolves the same features, so nothing is rebuilt; `cargo build -p
/// cargo-judge` would build every dependency again, without dev-dependencies' features.
pub(crate) fn cargo_judge() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let output = nested_cargo()
            .current_dir(workspace)
            .args(["test", "--no-run", "-q", "--workspace", "--test", "cli", "--message-format=json"])
            .output()
            .expect("cargo runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "cargo-judge does not build:\n{}", String::from_utf8_lossy(&output.stderr));
        let executable = stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|message| message["target"]["name"] == "cargo-judge" && message["profile"]["test"] == false)
            .find_map(|message| message["executable"].as_str().map(PathBuf::from));
        executable.expect("cargo names the cargo-judge executable it built")
    })
}

/// `cargo-judge merge ARGS`, with none of the calling environment's judge variables.
pub(crate) fn merge(args: &[&Path]) -> HarnessRun {
    HarnessRun::of(harness(cargo_judge()).arg("merge").args(args))
}

/// Runs `evals` of suite-basic as one shard would on its machine: its own cache and report directory.
fn shard(judge: &FakeJudge, root: &Path, name: &str, evals: &[&str]) -> PathBuf {
    let reports = root.join(name);
    let mut command = suite(judge, &root.join(format!("{name}-cache")));
    command.env("JUDGE_REPORT_DIR", &reports);
    let run = run_exact(command, evals);
    assert!(matches!(run.code, Some(0 | 101)), "{}", run.all());
    reports
}

/// The names of the evals in a JSON report, in order.
fn names(report: &Value) -> Vec<String> {
    report["evals"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_owned()).collect()
}

/// An eval's record without what differs from run to run: wall times, and the order of its
/// samples. A plain function's samples run at once on the blocking pool, so which sample gets which
/// call of a function that counts its calls (`trimmed_seven`) is up to the scheduler, on one
/// machine as on three; the samples themselves, and the score they reduce to, are not.
fn timeless(eval: &Value) -> Value {
    let mut eval = eval.clone();
    eval["duration_ms"] = Value::Null;
    let samples = eval["samples"].as_array_mut().unwrap();
    for sample in samples.iter_mut() {
        sample["latency_ms"] = Value::Null;
    }
    samples.sort_by_key(|sample| sample.to_string());
    eval
}

#[test]
fn three_shards_merge_into_the_reports_and_baseline_of_one_run() {
    let judge = FakeJudge::start();
    let root = tempfile::tempdir().unwrap();
    let shards: Vec<PathBuf> = SHARDS
        .iter()
        .enumerate()
        .map(|(i, evals)| shard(&judge, root.path(), &format!("shard-{}", i + 1), evals))
        .collect();
    let out = root.path().join("merged");
    let baseline = root.path().join("baseline.json");
    let summary = root.path().join("summary.md");

    // As a user types it: `cargo judge merge`, cargo finding cargo-judge on the PATH.
    let path = std::env::join_paths(
        std::iter::once(cargo_judge().parent().unwrap().to_owned())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let mut command = nested_cargo();
    judge_tests::clear_judge_env(&mut command)
        .env("PATH", path)
        // No cargo-judge installed elsewhere is found first.
        .env("CARGO_HOME", root.path().join("cargo-home"))
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["judge", "merge"])
        .args(&shards)
        .arg("--out")
        .arg(&out)
        .arg("--save-score-baseline")
        .arg(&baseline);
    let run = HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(1), "one eval failed and two could not be scored:\n{}", run.all());
    assert!(
        run.stderr
            .contains("merged 3 shard records of suite-basic: 9 evals, 6 passed, 1 failed, 2 could not be scored"),
        "{}",
        run.all()
    );
    assert!(
        run.stderr.contains(
            "the merged run failed: 3 evals failed or could not be scored: suite_basic::clock_hands, \
             suite_basic::panics, suite_basic::returns_err"
        ),
        "{}",
        run.all()
    );

    // JSON: every eval once, as one process running them all records them.
    let merged = read_report(&out.join("suite-basic.json"));
    let mut all: Vec<String> = SHARDS.concat().iter().map(|e| format!("suite_basic::{e}")).collect();
    all.sort();
    assert_eq!(names(&merged), all);
    let records: Vec<Value> = shards.iter().map(|dir| read_report(&dir.join("suite-basic.json"))).collect();
    let start = records.iter().map(|r| r["started_unix_ms"].as_u64().unwrap()).min().unwrap();
    let end = records.iter().map(|r| r["started_unix_ms"].as_u64().unwrap() + r["duration_ms"].as_u64().unwrap()).max();
    assert_eq!(merged["started_unix_ms"].as_u64(), Some(start), "the earliest shard's start");
    assert_eq!(Some(start + merged["duration_ms"].as_u64().unwrap()), end, "to the latest shard's end");
    assert_eq!(merged["run_id"].as_str().unwrap().split('+').count(), 3, "{}", merged["run_id"]);
    let whole = root.path().join("unsharded");
    let mut command = suite(&judge, &root.path().join("unsharded-cache"));
    command.env("JUDGE_REPORT_DIR", &whole);
    run_exact(command, &SHARDS.concat());
    let unsharded = read_report(&whole.join("suite-basic.json"));
    let evals = |report: &Value| report["evals"].as_array().unwrap().iter().map(timeless).collect::<Vec<_>>();
    assert_eq!(evals(&merged), evals(&unsharded), "the merged run records what one machine would have");

    // JUnit: well-formed, counted over the whole run.
    let xml = std::fs::read_to_string(out.join("suite-basic.junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("the merged JUnit report is well-formed XML");
    let suite_node = doc.descendants().find(|n| n.has_tag_name("testsuite")).unwrap();
    assert_eq!(["tests", "failures", "errors"].map(|a| suite_node.attribute(a).unwrap()), ["9", "1", "2"], "{xml}");
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("testcase")).count(), 9);

    // Markdown, HTML and the job summary: every eval.
    let markdown = std::fs::read_to_string(out.join("suite-basic.md")).unwrap();
    let html = std::fs::read_to_string(out.join("suite-basic.html")).unwrap();
    let job_summary = std::fs::read_to_string(&summary).unwrap();
    for eval in &all {
        let short = eval.trim_start_matches("suite_basic::");
        assert!(markdown.contains(short) && html.contains(eval) && job_summary.contains(short), "{eval}");
    }

    // The baseline: every scored eval's score.
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    let scored: Vec<(String, f64)> = merged["evals"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| Some((e["name"].as_str()?.to_owned(), e["score"].as_f64()?)))
        .collect();
    assert_eq!(scored.len(), 7, "all but the evals that could not be scored");
    assert_eq!(saved["scores"].as_object().unwrap().len(), 7, "{saved}");
    for (name, score) in scored {
        assert!((saved["scores"][&name].as_f64().unwrap() - score).abs() < 1e-4, "{name}: {saved}");
    }
}

#[test]
fn a_regression_in_any_shard_fails_the_merged_run() {
    let judge = FakeJudge::start();
    let root = tempfile::tempdir().unwrap();
    let first = shard(&judge, root.path(), "shard-1", &["passes"]);
    let second = shard(&judge, root.path(), "shard-2", &["score_six_attribute_threshold"]);
    let baseline = root.path().join("baseline.json");
    // Last run on main, score_six_attribute_threshold scored 0.9; it scores 0.6 now, above its threshold 0.5.
    std::fs::write(
        &baseline,
        r#"{"format": 1, "scores": {"suite_basic::passes": 1.0, "suite_basic::score_six_attribute_threshold": 0.9}}"#,
    )
    .unwrap();
    let out = root.path().join("merged");
    let gated = |max: &str| {
        let options = [Path::new("--out"), &out, Path::new("--score-baseline"), &baseline];
        merge(&[
            &first,
            &second,
            options[0],
            options[1],
            options[2],
            options[3],
            Path::new("--max-score-drop"),
            Path::new(max),
        ])
    };
    let run = gated("0.1");
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stderr.contains(
            "regressed: suite_basic::score_six_attribute_threshold scored 0.60, 0.30 below its baseline 0.90: \
             more than --max-score-drop 0.1 allows"
        ),
        "{}",
        run.all()
    );
    assert!(run.stderr.ends_with("failed or could not be scored: suite_basic::score_six_attribute_threshold\n"));
    let merged = read_report(&out.join("suite-basic.json"));
    let eval = &merged["evals"][1];
    assert_eq!((eval["status"].as_str(), eval["failure"].as_str()), (Some("failed"), Some("regression")), "{eval}");
    assert_eq!(eval["baseline"]["delta"].as_f64(), Some(-0.3));
    assert!(eval["message"].as_str().unwrap().contains("more than max_score_drop 0.10 allows"), "{eval}");
    let xml = std::fs::read_to_string(out.join("suite-basic.junit.xml")).unwrap();
    assert!(xml.contains("<failure type=\"regression\""), "{xml}");

    // A wider margin lets it through; the delta is still reported.
    let run = gated("0.5");
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stderr.ends_with("the merged run passed\n"), "{}", run.all());
    assert_eq!(read_report(&out.join("suite-basic.json"))["evals"][1]["baseline"]["delta"].as_f64(), Some(-0.3));
}

#[test]
fn bad_shards_are_clear_errors_and_nothing_is_written() {
    let judge = FakeJudge::start();
    let root = tempfile::tempdir().unwrap();
    let good = shard(&judge, root.path(), "shard-1", &["passes", "static_str"]);
    let record = std::fs::read_to_string(good.join("suite-basic.json")).unwrap();
    let out = root.path().join("merged");
    let with = |name: &str, text: &str| {
        let dir = root.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("suite-basic.json"), text).unwrap();
        dir
    };
    let refused = |shard: &Path, expected: &str| {
        let run = merge(&[&good, shard, Path::new("--out"), &out]);
        assert_eq!(run.code, Some(2), "{}", run.all());
        assert!(run.stderr.starts_with("error: "), "{}", run.all());
        assert!(run.stderr.contains(expected), "expected {expected:?} in:\n{}", run.all());
        assert!(!out.exists(), "nothing written for {}", shard.display());
    };

    let missing = root.path().join("shard-2");
    refused(&missing, &format!("shard {} does not exist: pass each shard's report directory", missing.display()));
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    refused(&empty, "holds no run record: a shard keeps its run as BINARY.json");
    let cut = with("cut", &record[..record.len() / 2]);
    refused(&cut, "it is not JSON (");
    refused(&cut, "the file is damaged or is not a report of judge: copy the shard's report directory again");
    let other = with("other-format", &record.replacen("\"format\": 1", "\"format\": 2", 1));
    refused(
        &other,
        "it is a run record of format 2, and this version reads format 1 only; it was written by another version",
    );
    let changed = with("changed", &record.replacen("\"score\": 1.0", "\"score\": 0.9", 1));
    refused(
        &changed,
        &format!(
            "eval suite_basic::passes (of test binary suite-basic) has different results in {} and {}: each eval must run in one shard only",
            good.join("suite-basic.json").display(),
            changed.join("suite-basic.json").display()
        ),
    );

    // A shard's directory given twice is read once; JSON beside the reports that is no record is skipped.
    std::fs::write(good.join("baseline.json"), r#"{"format": 1, "scores": {}}"#).unwrap();
    let run = merge(&[&good, &good.join("suite-basic.json"), Path::new("--out"), &out]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stderr.contains("baseline.json: JSON, but not a run record"), "{}", run.all());
    assert_eq!(names(&read_report(&out.join("suite-basic.json"))), ["suite_basic::passes", "suite_basic::static_str"]);

    let run = merge(&[&good, Path::new("--out"), &out, Path::new("--max-score-drop"), Path::new("0.1")]);
    assert_eq!(run.code, Some(2), "--max-score-drop needs --score-baseline:\n{}", run.all());
    assert!(run.stderr.contains("--score-baseline"), "{}", run.all());
}
