//! Calibration: the judge against a person's labels (`human`) on a dataset's rows, through the
//! `suite-datasets` binary's module `calibration` and tests/data/datasets/labelled*.jsonl. The JSON
//! report's `datasets[].calibration`, each value as scipy and scikit-learn compute it on the same
//! pairs (tests/stats_reference.py, `pip install -r tests/requirements-stats.txt`; with `CI` set,
//! the comparison fails rather than skips without them); labels never reaching the judge; the
//! calibration test of a dataset without a pass-rate gate (`<fn>::calibration`), in-process and
//! under nextest; the gates on the attribute, in judge.toml and behind a pass-rate gate; the
//! terminal's and the Markdown report's lines.

use std::path::Path;

use judge_tests::{FakeJudge, HarnessRun, scipy_installed, stats_reference};
use serde_json::{Value, json};

use crate::common::{in_ci, read_report};
use crate::datasets::{
    NEXTEST_LIMIT, bounded, dataset_path, dataset_summary, failure, listed, names, record, recorded, report, reporting,
    request_for, run, suite,
};

/// The keys of a calibration against score labels, in the report's order.
const SCORE_KEYS: [&str; 9] = [
    "n",
    "exact_agreement",
    "within_one",
    "cohen_kappa",
    "quadratic_kappa",
    "spearman",
    "pearson",
    "kendall_tau",
    "mae",
];

/// The keys of a calibration against pass/fail labels, in the report's order.
const PASS_FAIL_KEYS: [&str; 4] = ["n", "exact_agreement", "cohen_kappa", "confusion"];

/// The dataset eval `calibration::<eval>` of the suite, by its full name.
fn eval(eval: &str) -> String {
    format!("suite_datasets::calibration::{eval}")
}

/// A row of a labelled dataset file: its id, the judge's scripted score (`score`), its `dist` if
/// any, and the person's label (`human`).
struct LabelledRow {
    id: String,
    input: String,
    score: u32,
    dist: Option<String>,
    human: Value,
}

/// The rows of tests/data/datasets/`file`, in file order.
fn labelled_rows(file: &str) -> Vec<LabelledRow> {
    let text = std::fs::read_to_string(dataset_path(file)).unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let row: Value = serde_json::from_str(line).unwrap();
            LabelledRow {
                id: row["id"].as_str().unwrap().to_owned(),
                input: row["input"].as_str().unwrap().to_owned(),
                score: row["score"].as_u64().unwrap() as u32,
                dist: row["dist"].as_str().map(str::to_owned),
                human: row["human"].clone(),
            }
        })
        .collect()
}

/// The `(judge, human)` pairs of the dataset eval `dataset` in `report`, taken from its rows'
/// records: the judge's score in scale points (score × 10 on the default 0–10 scale) for score
/// labels, whether the row passed for pass/fail labels; the label from the record's
/// `dataset.human`, which must be the file's.
fn pairs(report: &Value, dataset: &str, file: &str, kind: &str) -> Vec<(Value, Value)> {
    let rows = labelled_rows(file);
    let evals = report["evals"].as_array().expect("a report has evals");
    let mut pairs = Vec::new();
    for row in evals.iter().filter(|e| e["dataset"]["name"] == dataset) {
        let id = row["dataset"]["id"].as_str().unwrap();
        let label = &row["dataset"]["human"];
        let file_row = rows.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no row {id} in {file}"));
        // A score label is a float in the report (9.0 for the file's 9).
        let same = match (label.as_f64(), file_row.human.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => label == &file_row.human,
        };
        assert!(same, "the record of {id} carries its label {}: {row:#}", file_row.human);
        let judge = match kind {
            "scores" => json!(row["score"].as_f64().unwrap_or_else(|| panic!("{id} was scored: {row:#}")) * 10.0),
            _ => json!(row["status"] == "passed"),
        };
        pairs.push((judge, label.clone()));
    }
    assert_eq!(pairs.len(), rows.len(), "every row of {file} is in the report:\n{report:#}");
    pairs
}

/// The statistics of `pairs` as scipy and scikit-learn compute them; `None` (the test skipped)
/// where they are not installed, outside CI.
fn reference(test: &str, kind: &str, pairs: &[(Value, Value)]) -> Option<Value> {
    if !scipy_installed() {
        assert!(
            !in_ci(),
            "scipy and scikit-learn are not installed, and CI must run {test}: pip install -r \
             tests/requirements-stats.txt"
        );
        eprintln!(
            "SKIPPED the comparison of {test} with scipy and scikit-learn: they are not installed (pip install -r \
             tests/requirements-stats.txt)"
        );
        return None;
    }
    Some(stats_reference(kind, pairs).unwrap_or_else(|e| panic!("{e}")))
}

/// Asserts that `calibration` (the report's) has exactly `keys`, in order, and that each value is
/// the reference's: counts exactly, statistics to 1e-9, undefined ones null on both sides.
fn assert_matches(calibration: &Value, keys: &[&str], reference: &Value) {
    let of = |value: &Value| value.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
    assert_eq!(of(calibration), Some(keys.iter().map(|k| k.to_string()).collect()), "{calibration:#}");
    assert_eq!(of(reference), of(calibration), "the reference's keys: {reference:#}");
    for key in keys {
        let (ours, theirs) = (&calibration[key], &reference[key]);
        let same = match (ours.as_f64(), theirs.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9,
            _ => ours == theirs,
        };
        assert!(same, "{key}: the report's {ours} is not scipy's / scikit-learn's {theirs}\n{calibration:#}");
    }
}

/// The statistics in one line, as the run's summary, Markdown and JUnit show them.
fn summary_line(calibration: &Value) -> String {
    let stat = |key: &str| calibration[key].as_f64().map_or_else(|| "undefined".to_owned(), |v| format!("{v:.2}"));
    let n = &calibration["n"];
    if let Some(confusion) = calibration.get("confusion") {
        return format!(
            "{n} labelled rows: exact agreement {}, kappa {}; judge passes / person passes: {} both, {} judge only, \
             {} person only, {} neither",
            stat("exact_agreement"),
            stat("cohen_kappa"),
            confusion["tp"],
            confusion["fp"],
            confusion["fn"],
            confusion["tn"]
        );
    }
    format!(
        "{n} labelled rows: exact agreement {}, within one {}, kappa {}, quadratic kappa {}, Spearman {}, Pearson {}, \
         Kendall's tau {}, MAE {}",
        stat("exact_agreement"),
        stat("within_one"),
        stat("cohen_kappa"),
        stat("quadratic_kappa"),
        stat("spearman"),
        stat("pearson"),
        stat("kendall_tau"),
        stat("mae")
    )
}

/// The failure message of a calibration whose gates `missed` (each a line), over `calibration`.
fn calibration_failure(missed: &[String], calibration: &Value) -> String {
    let mut message =
        "the judge's agreement with the human labels of data/datasets/labelled.jsonl misses its gates:".to_owned();
    for line in missed {
        message.push_str(&format!("\n  {line}"));
    }
    message.push_str(&format!("\n  over {}", summary_line(calibration)));
    message
}

/// The line of a minimum `gate` that `statistic` (`calibration[key]`) misses.
fn below(calibration: &Value, key: &str, statistic: &str, gate: &str, min: f64) -> String {
    let value = calibration[key].as_f64().unwrap_or_else(|| panic!("{key} is defined: {calibration:#}"));
    format!("{statistic} {value:.3} is below `{gate}` {min:.3} (by {:.3})", min - value)
}

/// The `datasets[].calibration` of the dataset eval `calibration::<name>`, and the run, from a run
/// of its rows (and its calibration test) with reports, judged by `judge` with a fresh cache.
fn calibrated(judge: &FakeJudge, name: &str) -> (HarnessRun, Value, Value) {
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(reporting(judge, cache.path(), reports.path()).arg(format!("{}::", eval(name))));
    let report = report(reports.path());
    let calibration = dataset_summary(&report, &eval(name))["calibration"].clone();
    assert!(calibration.is_object(), "a labelled dataset has a calibration: {report:#}\n{}", run.all());
    (run, report, calibration)
}

#[test]
fn score_labels_statistics_are_scipys_and_scikit_learns() {
    let rows = labelled_rows("labelled.jsonl");
    assert!(rows.len() >= 12);
    for (name, weighted) in [("scores", true), ("stated", false)] {
        let judge = FakeJudge::start();
        let (run, report, calibration) = calibrated(&judge, name);
        assert_eq!(run.code, Some(0), "every row passes 0.0, no gate: {}", run.all());
        assert!(run.has_outcome(&format!("{}::calibration", eval(name)), "ok"), "{}", run.all());
        assert_eq!(judge.requests(), rows.len() as u64, "{name}: the calibration test shares its rows' verdicts");
        assert_eq!(recorded(&report).len(), rows.len() + 1, "a record per row, and the calibration test's");

        let pairs = pairs(&report, &eval(name), "labelled.jsonl", "scores");
        // The judge's scores are the scripted ones: whole points when stated, and where a row has
        // a `dist`, its mean when weighted (6=0.7,7=0.3 is 6.3).
        for row in &rows {
            let id = format!("{}::{}", eval(name), row.id);
            let points = record(&report, &id)["score"].as_f64().unwrap() * 10.0;
            let expected = match (&row.dist, weighted) {
                (Some(dist), true) => {
                    let weights: Vec<(f64, f64)> = dist
                        .split(',')
                        .map(|pair| pair.split_once('=').unwrap())
                        .map(|(s, p)| (s.parse().unwrap(), p.parse().unwrap()))
                        .collect();
                    weights.iter().map(|(s, p)| s * p).sum::<f64>() / weights.iter().map(|(_, p)| p).sum::<f64>()
                }
                _ => f64::from(row.score),
            };
            assert!((points - expected).abs() < 1e-9, "{id} scored {points}, not {expected}");
        }
        if weighted {
            assert!(pairs.iter().any(|(j, _)| j.as_f64().unwrap().fract() != 0.0), "unrounded scores: {pairs:?}");
        }

        // What can be counted by hand: the rounded score equal to the label, within one, the MAE.
        let n = pairs.len() as f64;
        let rounded = |v: &Value| v.as_f64().unwrap().round();
        let exact = pairs.iter().filter(|(j, h)| rounded(j) == h.as_f64().unwrap()).count() as f64 / n;
        let within = pairs.iter().filter(|(j, h)| (rounded(j) - h.as_f64().unwrap()).abs() <= 1.0).count() as f64 / n;
        let mae = pairs.iter().map(|(j, h)| (j.as_f64().unwrap() - h.as_f64().unwrap()).abs()).sum::<f64>() / n;
        assert_eq!(calibration["n"], json!(rows.len()));
        for (key, value) in [("exact_agreement", exact), ("within_one", within), ("mae", mae)] {
            assert!((calibration[key].as_f64().unwrap() - value).abs() < 1e-9, "{name} {key}: {calibration:#}");
        }
        let keys = calibration.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys, SCORE_KEYS, "{calibration:#}");
        for key in SCORE_KEYS {
            assert!(calibration[key].is_number(), "{name}: every statistic is defined here: {calibration:#}");
        }

        let test = format!("score_labels_statistics_are_scipys_and_scikit_learns ({name})");
        if let Some(reference) = reference(&test, "scores", &pairs) {
            assert_matches(&calibration, &SCORE_KEYS, &reference);
        }
    }
}

#[test]
fn pass_fail_labels_statistics_are_scikit_learns() {
    let rows = labelled_rows("labelled_pass.jsonl");
    let judge = FakeJudge::start();
    let (run, report, calibration) = calibrated(&judge, "pass_fail");
    assert_eq!(run.code, Some(101), "the rows below 0.7 fail: {}", run.all());
    assert!(run.has_outcome(&eval("pass_fail::calibration"), "ok"), "no gate: {}", run.all());
    let keys = calibration.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys, PASS_FAIL_KEYS, "{calibration:#}");

    // By hand: the judge passes a row at 7 and above (its threshold, 0.7).
    let count = |judge: bool, human: bool| {
        rows.iter().filter(|r| (r.score >= 7) == judge && r.human.as_bool().unwrap() == human).count()
    };
    let confusion =
        json!({"tp": count(true, true), "fp": count(true, false), "fn": count(false, true), "tn": count(false, false)});
    assert_eq!(calibration["confusion"], confusion, "{calibration:#}");
    assert_eq!(confusion, json!({"tp": 4, "fp": 2, "fn": 2, "tn": 3}));
    assert_eq!(calibration["n"], json!(11));
    assert!((calibration["exact_agreement"].as_f64().unwrap() - 7.0 / 11.0).abs() < 1e-12, "{calibration:#}");

    let pairs = pairs(&report, &eval("pass_fail"), "labelled_pass.jsonl", "pass_fail");
    if let Some(reference) = reference("pass_fail_labels_statistics_are_scikit_learns", "pass_fail", &pairs) {
        assert_matches(&calibration, &PASS_FAIL_KEYS, &reference);
    }
}

#[test]
fn labels_never_reach_the_judge() {
    let rows = labelled_rows("labelled.jsonl");
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let judged = run(suite(&judge, cache.path()).arg(format!("{}::", eval("stated"))));
    // Each row's function checks that its label is not one of its variables (else the row fails).
    assert_eq!(judged.code, Some(0), "{}", judged.all());
    let bodies = judge.bodies();
    assert_eq!(bodies.len(), rows.len());
    for body in &bodies {
        let text = body.to_string();
        assert!(!text.to_lowercase().contains("human"), "a request names the label: {body:#}");
    }
    // damaged-item is labelled 7, a number its request has no other reason to show.
    let damaged = rows.iter().find(|r| r.id == "damaged-item").unwrap();
    assert_eq!((damaged.score, &damaged.human), (5, &json!(7)));
    let [body] = request_for(&bodies, &damaged.input)[..] else { panic!("one request for damaged-item: {bodies:#?}") };
    for message in body["messages"].as_array().unwrap() {
        let content = message["content"].as_str().unwrap();
        assert!(!content.contains('7'), "the label 7 reached the judge: {content}");
    }

    // A rubric that asks for the label fails the row, before any request.
    let peeking = run(suite(&judge, cache.path()).arg(format!("{}::", eval("peeking"))));
    assert_eq!(peeking.code, Some(101), "{}", peeking.all());
    assert_eq!(judge.requests(), rows.len() as u64, "nothing more asked of the judge");
    let path = dataset_path("labelled.jsonl");
    for (line, row) in rows.iter().enumerate() {
        let test = format!("{}::{}", eval("peeking"), row.id);
        assert!(peeking.has_outcome(&test, "FAILED"), "{}", peeking.all());
        let message = failure(&peeking, &test);
        assert_eq!(
            message,
            format!(
                "{}:{}: the rubric asks for {{{{human}}}}, the row's human label, which is never shown to the judge: it \
                 is what the judge's verdict is compared with",
                path.display(),
                line + 1
            )
        );
    }
}

#[test]
fn an_ungated_labelled_dataset_has_a_calibration_test_after_its_rows() {
    let rows = labelled_rows("labelled.jsonl");
    let mut expected: Vec<String> = rows.iter().map(|r| format!("{}::{}", eval("lenient"), r.id)).collect();
    expected.push(eval("lenient::calibration"));
    assert_eq!(listed(&format!("{}::", eval("lenient"))), expected, "the rows in file order, then the calibration");
    // A gated dataset is one test, whose gates include the calibration's.
    assert_eq!(listed(&eval("gated")), [eval("gated"), eval("gated_lenient")]);
    assert_eq!(listed(&eval("pass_fail_gated")), [eval("pass_fail_gated")]);

    // Every gate met.
    let judge = FakeJudge::start();
    let (lenient, _, calibration) = calibrated(&judge, "lenient");
    assert_eq!(lenient.code, Some(0), "{}", lenient.all());
    assert!(lenient.has_outcome(&eval("lenient::calibration"), "ok"), "{}", lenient.all());
    assert!(lenient.stdout.contains("test result: ok. 15 passed; 0 failed"), "{}", lenient.all());

    // A missed gate fails the calibration test alone, saying which statistic missed and by how
    // much; the rows pass. (Weighted scoring, as `lenient`'s: the same statistics.)
    let cache = tempfile::tempdir().unwrap();
    let spearman = run(suite(&judge, cache.path()).arg(format!("{}::", eval("strict_spearman"))));
    assert_eq!(spearman.code, Some(101), "{}", spearman.all());
    assert!(spearman.stdout.contains("test result: FAILED. 14 passed; 1 failed"), "{}", spearman.all());
    assert_eq!(
        failure(&spearman, &eval("strict_spearman::calibration")),
        calibration_failure(&[below(&calibration, "spearman", "Spearman's rho", "min_spearman", 0.99)], &calibration)
    );

    let mae = run(suite(&judge, cache.path()).args(["--exact", &eval("strict_mae::calibration")]));
    assert_eq!(mae.code, Some(101), "{}", mae.all());
    assert!(mae.stdout.contains("test result: FAILED. 0 passed; 1 failed"), "run alone: {}", mae.all());
    let value = calibration["mae"].as_f64().unwrap();
    assert_eq!(
        failure(&mae, &eval("strict_mae::calibration")),
        calibration_failure(
            &[format!("the mean absolute error {value:.3} is above `max_mae` 0.100 (by {:.3})", value - 0.1)],
            &calibration
        )
    );
}

#[test]
fn the_calibration_test_alone_judges_the_labelled_rows_itself() {
    let rows = labelled_rows("labelled.jsonl");
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alone =
        run(reporting(&judge, cache.path(), reports.path()).args(["--exact", &eval("strict_spearman::calibration")]));
    assert_eq!(alone.code, Some(101), "{}", alone.all());
    assert_eq!(judge.requests(), rows.len() as u64, "every labelled row judged");
    // Then the rows: their verdicts are cached.
    let rows_run = run(suite(&judge, cache.path())
        .arg(format!("{}::", eval("strict_spearman")))
        .args(["--skip", "strict_spearman::calibration"]));
    assert_eq!(rows_run.code, Some(0), "{}", rows_run.all());
    assert_eq!(judge.requests(), rows.len() as u64, "nothing judged twice");
}

#[test]
fn a_gated_dataset_fails_its_one_test_on_a_missed_calibration_gate() {
    let judge = FakeJudge::start();
    let (_, _, calibration) = calibrated(&judge, "scores");
    let cache = tempfile::tempdir().unwrap();
    let gated = run(suite(&judge, cache.path()).args(["--exact", &eval("gated")]));
    assert_eq!(gated.code, Some(101), "{}", gated.all());
    assert_eq!(
        failure(&gated, &eval("gated")),
        format!(
            "{}\n14 of 14 rows passed (pass rate 1.00), reaching min_pass_rate 0.50",
            calibration_failure(
                &[below(&calibration, "cohen_kappa", "Cohen's kappa", "min_kappa", 0.95)],
                &calibration
            )
        )
    );
    let met = run(suite(&judge, cache.path()).args(["--exact", &eval("gated_lenient")]));
    assert_eq!(met.code, Some(0), "{}", met.all());

    // Pass/fail labels: the agreement missed, and the gates of score labels named.
    let pass_fail = run(suite(&judge, cache.path()).args(["--exact", &eval("pass_fail_gated")]));
    assert_eq!(pass_fail.code, Some(101), "{}", pass_fail.all());
    let message = failure(&pass_fail, &eval("pass_fail_gated"));
    let lines: Vec<&str> = message.lines().collect();
    let needs = |gate: &str| {
        format!(
            "  `{gate}` needs score labels, and the dataset's `human` labels are true/false: remove it, or label rows \
             with scores"
        )
    };
    assert_eq!(
        lines[..4],
        [
            "the judge's agreement with the human labels of data/datasets/labelled_pass.jsonl misses its gates:",
            "  exact agreement 0.636 is below `min_agreement` 0.900 (by 0.264)",
            &needs("min_spearman"),
            &needs("max_mae"),
        ],
        "{message}"
    );
    assert!(lines[4].starts_with("  over 11 labelled rows: exact agreement 0.64, kappa "), "{message}");
    assert_eq!(lines[5..], ["6 of 11 rows passed (pass rate 0.55), reaching min_pass_rate 0.00"], "{message}");
}

/// judge.toml sets the gates: a dataset's section, over the file's top; the attribute over both.
#[test]
fn judge_toml_sets_a_datasets_calibration_gates() {
    let judge = FakeJudge::start();
    let (_, _, calibration) = calibrated(&judge, "scores");
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("judge.toml");
    let tests = ["configured", "scores", "lenient"].map(|name| eval(&format!("{name}::calibration")));
    // Each calibration test run alone, with the judge.toml `text` (none: no file).
    let with_config = |text: Option<&str>| {
        if let Some(text) = text {
            std::fs::write(&config, text).unwrap();
        }
        tests.clone().map(|test| {
            let mut command = suite(&judge, cache.path());
            if text.is_some() {
                command.env("JUDGE_CONFIG", &config);
            }
            let run = run(command.args(["--exact", &test]));
            assert!(!run.stderr.contains("names no eval"), "{}", run.all());
            assert!(run.has_outcome(&test, if run.code == Some(0) { "ok" } else { "FAILED" }), "{}", run.all());
            run
        })
    };

    let codes = |runs: &[HarnessRun; 3]| runs.each_ref().map(|run| run.code);
    let without = with_config(None);
    assert_eq!(codes(&without), [Some(0); 3], "no gate: {without:#?}");

    let section = with_config(Some("[evals.\"suite_datasets::calibration::configured\"]\nmin_kappa = 0.9\n"));
    assert_eq!(codes(&section), [Some(101), Some(0), Some(0)], "{section:#?}");
    assert_eq!(
        failure(&section[0], &tests[0]),
        calibration_failure(&[below(&calibration, "cohen_kappa", "Cohen's kappa", "min_kappa", 0.9)], &calibration)
    );

    // The file's top sets every dataset; the dataset's section wins over it (configured's 0.5),
    // and the attribute over both (lenient's min_spearman 0.8).
    let top = with_config(Some(
        "min_spearman = 0.99\n\n[evals.\"suite_datasets::calibration::configured\"]\nmin_spearman = 0.5\n",
    ));
    assert_eq!(codes(&top), [Some(0), Some(101), Some(0)], "{top:#?}");
    assert_eq!(
        failure(&top[1], &tests[1]),
        calibration_failure(&[below(&calibration, "spearman", "Spearman's rho", "min_spearman", 0.99)], &calibration),
        "the file's top"
    );
}

#[test]
fn the_calibration_test_stands_alone_under_nextest() {
    if !crate::nextest::nextest_available("the_calibration_test_stands_alone_under_nextest") {
        return;
    }
    let rows = labelled_rows("labelled.jsonl");
    let judge = FakeJudge::start();
    // The statistics and the verdicts of a run in one process, to compare with.
    let (_, _, in_process) = calibrated(&judge, "lenient");
    let expected_failure =
        calibration_failure(&[below(&in_process, "spearman", "Spearman's rho", "min_spearman", 0.99)], &in_process);

    let nextest = |cache: &Path, reports: &Path, filters: &[String]| {
        let mut command = crate::nextest::suite_under_nextest("suite-datasets", &judge, cache, reports);
        bounded(command.args(filters), NEXTEST_LIMIT)
    };
    // Whether nextest's output shows `message` (a failure's, which it indents) line by line.
    let shows = |run: &HarnessRun, message: &str| {
        let output = run.all();
        let lines: Vec<&str> = output.lines().map(str::trim).collect();
        let wanted: Vec<&str> = message.lines().map(str::trim).collect();
        lines.windows(wanted.len()).any(|window| window == wanted)
    };
    let ran = |run: &HarnessRun, outcome: &str, test: &str| {
        run.all().lines().any(|line| line.contains(&format!(" {outcome} ")) && line.trim_end().ends_with(test))
    };

    // The rows and the calibration tests of two datasets, each test a process of its own.
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let both = nextest(
        cache.path(),
        reports.path(),
        &[format!("{}::", eval("lenient")), format!("{}::", eval("strict_spearman"))],
    );
    assert_eq!(both.code, Some(100), "strict_spearman::calibration fails: {}", both.all());
    for name in ["lenient", "strict_spearman"] {
        for row in &rows {
            let test = format!("{}::{}", eval(name), row.id);
            assert!(ran(&both, "PASS", &test), "nextest ran {test}:\n{}", both.all());
        }
    }
    assert!(ran(&both, "PASS", &eval("lenient::calibration")), "{}", both.all());
    assert!(ran(&both, "FAIL", &eval("strict_spearman::calibration")), "{}", both.all());
    assert!(shows(&both, &expected_failure), "the message of a run in one process: {}", both.all());
    // The report gathers the rows of every process: the same statistics.
    let report = read_report(&reports.path().join("suite_datasets.json"));
    assert_matches(&dataset_summary(&report, &eval("lenient"))["calibration"], &SCORE_KEYS, &in_process);

    // The calibration test alone, with nothing cached: it judges the rows itself.
    let requests = judge.requests();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alone = nextest(cache.path(), reports.path(), &[eval("strict_spearman::calibration")]);
    assert_eq!(alone.code, Some(100), "{}", alone.all());
    assert!(ran(&alone, "FAIL", &eval("strict_spearman::calibration")), "{}", alone.all());
    assert!(alone.all().contains("1 test run: 0 passed, 1 failed"), "{}", alone.all());
    assert!(shows(&alone, &expected_failure), "{}", alone.all());
    assert_eq!(judge.requests() - requests, rows.len() as u64, "each labelled row judged once");
}

#[test]
fn the_terminal_and_the_markdown_report_show_the_judge_against_the_labels() {
    let judge = FakeJudge::start();
    for (name, code) in [("scores", 0), ("pass_fail", 101)] {
        let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let run = run(reporting(&judge, cache.path(), reports.path()).arg(format!("{}::", eval(name))));
        assert_eq!(run.code, Some(code), "{}", run.all());
        let report = report(reports.path());
        let line = summary_line(&dataset_summary(&report, &eval(name))["calibration"]);
        assert!(
            run.all().contains(&format!("judge against the human labels of {}: {line}", eval(name))),
            "the run's summary: {}",
            run.all()
        );
        // Markdown: under the dataset's line.
        let md = std::fs::read_to_string(reports.path().join("suite-datasets.md")).unwrap();
        let lines: Vec<&str> = md.lines().collect();
        let at = lines.iter().position(|l| l.starts_with("- ") && names(l, &eval(name)));
        let at = at.unwrap_or_else(|| panic!("no line for {name}:\n{md}"));
        assert_eq!(lines[at + 1], format!("  - judge against human labels: {line}"), "{md}");
        if name == "pass_fail" {
            assert!(
                line.ends_with("judge passes / person passes: 4 both, 2 judge only, 2 person only, 3 neither"),
                "{line}"
            );
        }
    }
}

/// A calibration gate on a dataset without labels or a pass-rate gate is not dropped: a test
/// fails, saying that rows need labels (as it does behind a pass-rate gate).
#[test]
fn a_calibration_gate_without_labels_fails_saying_rows_need_them() {
    let listing = listed(&format!("{}::", eval("unlabelled")));
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run(suite(&judge, cache.path()).arg(format!("{}::", eval("unlabelled"))));
    assert_eq!(run.code, Some(101), "min_kappa = 0.4 cannot be met without labels; listed {listing:?}\n{}", run.all());
    assert!(run.stdout.contains("no scored row has a `human` label"), "{}", run.all());
}

/// The suite's counts in the JUnit report in `reports`: tests and failures.
fn junit_counts(reports: &Path) -> (String, String) {
    let xml = std::fs::read_to_string(reports.join("suite-datasets.junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).unwrap();
    let count = |attribute: &str| suite.attribute(attribute).unwrap_or_else(|| panic!("{xml}")).to_owned();
    (count("tests"), count("failures"))
}

/// The reports count an ungated dataset's calibration test as libtest does: a test, failed when a
/// gate is missed.
#[test]
fn the_reports_count_a_failed_calibration_test() {
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(reporting(&judge, cache.path(), reports.path()).arg(format!("{}::", eval("strict_mae"))));
    assert!(run.stdout.contains("test result: FAILED. 14 passed; 1 failed"), "{}", run.all());
    assert_eq!(
        junit_counts(reports.path()),
        ("15".to_owned(), "1".to_owned()),
        "libtest's counts, the calibration test included"
    );
}

/// The reports say that a gated dataset whose pass rate is reached but whose calibration gate is
/// missed failed its gate, as its test did.
#[test]
fn the_reports_say_a_gate_failed_on_its_calibration() {
    let judge = FakeJudge::start();
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(reporting(&judge, cache.path(), reports.path()).args(["--exact", &eval("gated")]));
    assert!(run.stdout.contains("test result: FAILED. 0 passed; 1 failed"), "{}", run.all());
    let report = report(reports.path());
    let summary = dataset_summary(&report, &eval("gated"));
    assert_eq!(summary["gate"], "failed", "{summary:#}");
    assert_eq!(junit_counts(reports.path()).1, "1", "libtest's count of failures");
}
