//! Bias probes, through the `suite-probes` binary: the position and verbosity probes against a fair
//! fake judge (they find nothing) and against one with each bias planted (they find it, and the
//! gates fail their evals); the judge calls each probe adds, counted at the judge; the padding, the
//! same for every output and fenced with it; `probes` from the attribute, judge.toml and
//! `JUDGE_PROBES`; a dataset's rows pooled; the reports; and nextest, one process per eval.

use std::path::Path;
use std::process::Command;

use judge_tests::{FakeJudge, FakeJudgeConfig, HarnessRun};
use serde_json::{Value, json};

use crate::common::read_report;
use crate::datasets::{NEXTEST_LIMIT, bounded, failure, record, run};

const BINARY: &str = env!("CARGO_BIN_EXE_suite-probes");

/// The evals that are not the dataset's rows.
const SINGLE: [&str; 5] = ["compared", "graded", "position_gated", "unprobed", "verbosity_gated"];

/// The `suite-probes` binary judged by `judge`, with its cache in `cache` and reports in `reports`.
fn suite(judge: &FakeJudge, cache: &Path, reports: &Path) -> Command {
    crate::common::reporting(BINARY, judge, cache, reports)
}

/// Runs the evals that are not the dataset's rows; returns the run and its JSON report.
fn run_single(judge: &FakeJudge, cache: &Path, vars: &[(&str, &str)]) -> (HarnessRun, Value) {
    let reports = tempfile::tempdir().unwrap();
    let run = run(suite(judge, cache, reports.path()).envs(vars.iter().copied()).args(["--skip", "pairwise"]));
    let report = read_report(&reports.path().join("suite-probes.json"));
    (run, report)
}

fn eval(name: &str) -> String {
    format!("suite_probes::{name}")
}

/// The `probes` of the record of `name`.
fn probes<'a>(report: &'a Value, name: &str) -> &'a Value {
    &record(report, &eval(name))["probes"]
}

#[test]
fn a_fair_judge_shows_no_bias_and_each_probe_counts_its_calls() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let (run, report) = run_single(&judge, cache.path(), &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());

    let no_flips = |comparisons: u64, calls: u64| json!({"comparisons": comparisons, "flips": 0, "flip_rate": 0.0, "first_preferred": 0.5, "calls": calls});
    let no_gain =
        |outputs: u64, calls: u64| json!({"outputs": outputs, "mean_delta": 0.0, "raised": 0.0, "calls": calls});
    // Two samples graded alone: each compared with itself in both orders (4 calls), and padded (2).
    assert_eq!(probes(&report, "graded"), &json!({"position": no_flips(2, 4), "verbosity": no_gain(2, 2)}));
    // A comparison already swaps the order: the position probe reads it, for no call; the padded
    // output is compared in both orders (2 calls).
    assert_eq!(probes(&report, "compared"), &json!({"position": no_flips(1, 0), "verbosity": no_gain(1, 2)}));
    // A gate alone runs its probe, and the record keeps the gate.
    let mut position = no_flips(1, 2);
    position["max_position_bias"] = json!(0.2);
    assert_eq!(probes(&report, "position_gated"), &json!({ "position": position }));
    let mut verbosity = no_gain(1, 1);
    verbosity["max_verbosity_bias"] = json!(0.1);
    assert_eq!(probes(&report, "verbosity_gated"), &json!({ "verbosity": verbosity }));
    assert!(record(&report, &eval("unprobed")).get("probes").is_none(), "no probe, no key");

    // The judge saw every call the probes report, and the evals' own: 2 + 1 + 1 + 1 + 1 samples,
    // the compared one in both orders.
    let probe_calls = 4 + 2 + 2 + 2 + 1;
    let own_calls = 2 + 2 + 1 + 1 + 1;
    assert_eq!(judge.requests(), own_calls + probe_calls, "{}", run.all());
    assert!(
        run.stderr.contains(
            "judge: suite_probes::graded: bias probes: position: flip rate 0.00 (0 of 2), first preferred 0.50; \
             verbosity: mean change +0.000, raised 0% of 2; 6 extra judge calls"
        ),
        "{}",
        run.all()
    );

    // Rerun on the same cache: the same findings, no call.
    let (again, replayed) = run_single(&judge, cache.path(), &[]);
    assert_eq!(again.code, Some(0), "{}", again.all());
    assert_eq!(judge.requests(), own_calls + probe_calls, "a rerun judges nothing");
    for name in SINGLE {
        assert_eq!(probes(&replayed, name), probes(&report, name), "{name}");
    }
}

#[test]
fn a_judge_biased_to_the_first_position_is_found_and_gated() {
    let judge = FakeJudge::start_with(FakeJudgeConfig { position_bias: true, ..FakeJudgeConfig::default() });
    let cache = tempfile::tempdir().unwrap();
    let (run, report) = run_single(&judge, cache.path(), &[]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    let flips = |comparisons: u64| json!({"comparisons": comparisons, "flips": comparisons, "flip_rate": 1.0, "first_preferred": 1.0});
    let position = |name| {
        let mut found = probes(&report, name)["position"].clone();
        found
            .as_object_mut()
            .unwrap()
            .retain(|key, _| ["comparisons", "flips", "flip_rate", "first_preferred"].contains(&key.as_str()));
        found
    };
    assert_eq!(position("graded"), flips(2));
    assert_eq!(position("compared"), flips(1));
    assert_eq!(position("position_gated"), flips(1));
    // Padding does not sway this judge.
    assert_eq!(probes(&report, "graded")["verbosity"]["mean_delta"], 0.0);

    // The gate fails its eval, saying by how much; the others pass.
    let gated = eval("position_gated");
    assert!(run.has_outcome(&gated, "FAILED"), "{}", run.all());
    for name in ["graded", "compared", "verbosity_gated", "unprobed"] {
        assert!(run.has_outcome(&eval(name), "ok"), "{name}: {}", run.all());
    }
    let message = failure(&run, &gated);
    assert!(message.starts_with("scored 0.80, above the threshold 0.70, but:\n"), "{message}");
    assert!(
        message.contains(
            "  position bias: 1 of 1 comparisons flip with the order (flip rate 1.00), above max_position_bias 0.20 \
             (by 0.80)\n"
        ),
        "{message}"
    );
    assert!(
        message.contains("  probes:    position: flip rate 1.00 (1 of 1), first preferred 1.00; 2 extra judge calls")
    );
    assert_eq!(record(&report, &gated)["failure"], "bias_probe");
    assert_eq!(record(&report, &gated)["status"], "failed");
}

#[test]
fn a_judge_biased_to_length_is_found_and_gated_and_the_padding_is_one_fenced_text() {
    let judge = FakeJudge::start_with(FakeJudgeConfig { verbosity_bias: true, ..FakeJudgeConfig::default() });
    let cache = tempfile::tempdir().unwrap();
    let (run, report) = run_single(&judge, cache.path(), &[]);
    assert_eq!(run.code, Some(101), "{}", run.all());

    // Every padded output the judge graded alone ends in the same padding, which the fake judge
    // found inside the output's fence (it refuses a request whose output is not fenced once).
    let outputs = judge.judged_outputs();
    let padded: Vec<&String> = outputs.iter().filter(|o| o.contains("To restate the answer above")).collect();
    let padding = |output: &str| output[output.find("\n\nTo restate").unwrap()..].to_owned();
    assert!(padded.len() >= 3 && padded.iter().all(|o| padding(o) == padding(padded[0])), "{padded:#?}");
    // Each request that carries it, the comparisons' too, ends an output with it.
    let bodies = judge.bodies();
    let carrying: Vec<&str> = bodies
        .iter()
        .filter_map(|b| b["messages"][1]["content"].as_str())
        .filter(|user| user.contains("To restate the answer above"))
        .collect();
    assert_eq!(carrying.len(), 2 + 2 + 1, "graded twice, compared in two orders, verbosity_gated");
    assert!(carrying.iter().all(|user| user.contains(&format!("{}\n</", padding(padded[0])))), "{carrying:#?}");
    // The fake judge gives a point for every 100 characters: 6 becomes 6 + chars / 100.
    let gain = |output: &str| {
        ((6 + (output.chars().count() + padding(padded[0]).chars().count()) / 100).min(10) - 6) as f64 / 10.0
    };
    let graded = gain("[score:6] They overlap 22 times a day.");
    assert!(graded >= 0.2, "the padding is long enough to pay: {graded}");

    let verbosity = |name| probes(&report, name)["verbosity"].clone();
    assert_eq!(verbosity("graded")["raised"], 1.0);
    assert!((verbosity("graded")["mean_delta"].as_f64().unwrap() - graded).abs() < 1e-9, "{}", verbosity("graded"));
    // Compared: the padded output now wins both orders, where the plain one tied.
    assert_eq!(verbosity("compared")["mean_delta"], 0.5);
    assert_eq!(probes(&report, "graded")["position"]["flip_rate"], 0.0, "no bias of position");

    let gated = eval("verbosity_gated");
    assert!(run.has_outcome(&gated, "FAILED") && run.has_outcome(&eval("position_gated"), "ok"), "{}", run.all());
    let expected = gain("[score:6] The hands overlap 22 times in a day.");
    let message = failure(&run, &gated);
    assert!(
        message.contains(&format!(
            "  verbosity bias: padding raised the score by {expected:+.3} on average (100% of 1 outputs rose), above \
             max_verbosity_bias 0.100 (by {:.3})\n",
            expected - 0.1
        )),
        "{message}"
    );
    assert_eq!(record(&report, &gated)["failure"], "bias_probe");
}

#[test]
fn probes_come_from_the_attribute_judge_toml_and_the_environment() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let names = |report: &Value, name: &str| -> Vec<String> {
        probes(report, name).as_object().map_or_else(Vec::new, |o| o.keys().cloned().collect())
    };

    let (run, report) = run_single(&judge, cache.path(), &[("JUDGE_PROBES", "verbosity, position")]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(names(&report, "unprobed"), ["position", "verbosity"]);
    // position_gated names no probes: the variable's run, its gate's among them.
    assert_eq!(names(&report, "position_gated"), ["position", "verbosity"]);

    let (run, report) = run_single(&judge, cache.path(), &[("JUDGE_PROBES", "none")]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(names(&report, "unprobed").is_empty(), "`none` turns them off");
    assert_eq!(names(&report, "graded"), ["position", "verbosity"], "the attribute wins over the variable");
    assert_eq!(names(&report, "position_gated"), ["position"], "a gate runs its probe whatever the variable says");

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("judge.toml");
    std::fs::write(
        &config,
        "probes = [\"position\"]\n\n[evals.\"suite_probes::unprobed\"]\nprobes = [\"verbosity\"]\n",
    )
    .unwrap();
    let config_var = config.to_str().unwrap();
    let (run, report) = run_single(&judge, cache.path(), &[("JUDGE_CONFIG", config_var)]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(names(&report, "unprobed"), ["verbosity"], "the section wins over the file's top");
    assert_eq!(names(&report, "verbosity_gated"), ["position", "verbosity"], "the file's probe and the gate's");

    // A word that is no probe stops the run before anything is judged, saying what to write.
    let requests = judge.requests();
    let reports = tempfile::tempdir().unwrap();
    let run = crate::datasets::run(suite(&judge, cache.path(), reports.path()).env("JUDGE_PROBES", "position,length"));
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stderr.contains(
            "environment variable JUDGE_PROBES=\"position,length\" is invalid: \"length\" is not a probe: \
             \"position\""
        ),
        "{}",
        run.all()
    );
    assert_eq!(judge.requests(), requests);
}

#[test]
fn a_datasets_rows_pool_their_probes_in_every_report() {
    let judge = FakeJudge::start_with(FakeJudgeConfig { position_bias: true, ..FakeJudgeConfig::default() });
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = run(suite(&judge, cache.path(), reports.path()).arg("pairwise"));
    assert_eq!(run.code, Some(0), "{}", run.all());
    let report = read_report(&reports.path().join("suite-probes.json"));
    let rows: Vec<&Value> = report["evals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"].as_str().unwrap().contains("::pairwise::"))
        .collect();
    assert_eq!(rows.len(), 32);
    let sum = |probe: &str, key: &str| rows.iter().map(|r| r["probes"][probe][key].as_u64().unwrap()).sum::<u64>();
    let flips = sum("position", "flips");
    // The rows whose two texts grade the same are those a judge biased to position splits.
    assert!(flips > 0 && flips < 32, "{flips}");
    let dataset =
        report["datasets"].as_array().unwrap().iter().find(|d| d["name"] == "suite_probes::pairwise").unwrap();
    let pooled = &dataset["probes"];
    assert_eq!(pooled["position"]["comparisons"], 32);
    assert_eq!(pooled["position"]["flips"], flips);
    assert!((pooled["position"]["flip_rate"].as_f64().unwrap() - flips as f64 / 32.0).abs() < 1e-12);
    assert_eq!(pooled["position"]["calls"], 0, "the comparisons swap the order already");
    assert_eq!(pooled["verbosity"]["outputs"], 32);
    assert_eq!(pooled["verbosity"]["calls"], sum("verbosity", "calls"));
    assert_eq!(pooled["verbosity"]["calls"], 64, "the padded output in both orders");

    let line = format!(
        "position: flip rate {:.2} ({flips} of 32), first preferred {:.2}",
        flips as f64 / 32.0,
        pooled["position"]["first_preferred"].as_f64().unwrap()
    );
    let printed = format!("judge: bias probes over the rows of suite_probes::pairwise: {line}");
    assert!(run.all().contains(&printed), "{}", run.all());
    let read = |ext: &str| std::fs::read_to_string(reports.path().join(format!("suite-probes.{ext}"))).unwrap();
    assert!(read("md").contains(&format!("  - bias probes over its rows: {line}")), "{}", read("md"));
    assert!(read("html").contains(&format!("bias probes over its rows: {line}")));
    assert!(
        read("junit.xml").contains(&format!("<property name=\"bias probes suite_probes::pairwise\" value=\"{line}"))
    );
    // A row's own findings are in its record, not printed one by one.
    assert!(!run.all().contains("suite_probes::pairwise::pair-01: bias probes"), "{}", run.all());
}

#[test]
fn probes_and_their_gates_work_under_nextest() {
    if !crate::nextest::nextest_available("probes_and_their_gates_work_under_nextest") {
        return;
    }
    let judge = FakeJudge::start_with(FakeJudgeConfig { position_bias: true, ..FakeJudgeConfig::default() });
    let (cache, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut command = crate::nextest::suite_under_nextest("suite-probes", &judge, cache.path(), reports.path());
    let run = bounded(command.args(["-E", "not test(/pairwise/)"]), NEXTEST_LIMIT);
    assert_eq!(run.code, Some(100), "nextest fails the gated eval: {}", run.all());
    assert!(run.all().contains("position bias: 1 of 1 comparisons flip with the order"), "{}", run.all());
    // One process per eval, one report: built for tests, the binary is `suite_probes-HASH`.
    let report = read_report(&reports.path().join("suite_probes.json"));
    assert_eq!(record(&report, &eval("position_gated"))["failure"], "bias_probe");
    assert_eq!(probes(&report, "graded")["position"]["flip_rate"], 1.0);
    assert_eq!(probes(&report, "graded")["position"]["calls"], 4);
    for name in SINGLE.iter().filter(|n| **n != "position_gated") {
        assert_eq!(record(&report, &eval(name))["status"], "passed", "{name}");
    }
}
