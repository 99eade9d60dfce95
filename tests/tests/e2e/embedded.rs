//! The embedded llama.cpp judge, through real harness runs and the `Grader` API. Needs the model
//! (`scripts/install-local-judge`); without it these tests skip, except in CI where they fail.

use std::path::PathBuf;

use judge_runtime::{Grader, local_model};
use judge_tests::{HarnessRun, harness};

use crate::common::{exact_args, in_ci};

/// The installed default model, or `None` (after saying so) when a test should skip.
fn installed_model() -> Option<PathBuf> {
    let path = local_model::default_model_path().filter(|p| p.is_file());
    if path.is_none() {
        assert!(!in_ci(), "the embedded judge's model is not installed: CI must run scripts/install-local-judge");
        eprintln!("SKIPPED: the embedded judge's model is not installed (scripts/install-local-judge)");
    }
    path
}

fn local_suite(cache: &std::path::Path) -> std::process::Command {
    let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
    command.env("JUDGE_MODEL", "local").env("JUDGE_CACHE_DIR", cache);
    command
}

#[test]
fn a_right_answer_passes_and_right_answers_outscore_wrong_ones() {
    if installed_model().is_none() {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let mut command = local_suite(cache.path());
    command.args(exact_args(&["passes"]));
    let run = HarnessRun::of(&mut command);
    assert!(run.has_outcome("suite_basic::passes", "ok"), "{}", run.all());

    // A threshold of 1.0 makes the run report every sample's score.
    let mut command = local_suite(cache.path());
    command.env("JUDGE_THRESHOLD", "1.0").env("JUDGE_RATIONALES", "all").args(exact_args(&["clock_hands"]));
    let run = HarnessRun::of(&mut command);
    let out = &run.stdout;
    assert!(out.contains("judge:     local"), "{out}");
    assert!(out.contains("[embedded judge: agreement with the reference answer"), "{out}");
    // Samples 1 and 4 are right (22), the others wrong (24): each right one outscores each wrong one.
    let scores: Vec<f64> = out
        .lines()
        .filter_map(|l| l.strip_prefix("sample "))
        .filter_map(|l| l.split(": ").nth(1)?.split('/').next()?.parse().ok())
        .collect();
    assert_eq!(scores.len(), 5, "{out}");
    let worst_right = scores[0].min(scores[3]);
    let best_wrong = scores[1].max(scores[2]).max(scores[4]);
    assert!(worst_right > best_wrong, "{scores:?}\n{out}");
}

#[test]
fn with_nothing_configured_the_embedded_judge_is_the_default_and_says_so() {
    if installed_model().is_none() {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
    command.env("JUDGE_CACHE_DIR", cache.path()).args(exact_args(&["passes"]));
    let run = HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(run.stderr.matches("use the embedded judge").count(), 1, "{}", run.all());
}

#[test]
fn a_missing_model_says_how_to_install_it() {
    let empty = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut command = local_suite(cache.path());
    command.env("JUDGE_MODEL_DIR", empty.path()).args(exact_args(&["passes"]));
    let run = HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.stdout.contains("is not installed at"), "{}", run.all());
    assert!(run.stdout.contains("install it with:\n  cargo judge model install"), "{}", run.all());

    // With nothing configured and no model, the usual message names the embedded judge too.
    let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
    command.env("JUDGE_MODEL_DIR", empty.path()).env("JUDGE_CACHE_DIR", cache.path()).args(exact_args(&["passes"]));
    let run = HarnessRun::of(&mut command);
    assert!(run.stdout.contains("Offline, JUDGE_MODEL=local uses the embedded judge"), "{}", run.all());
    assert!(run.stdout.contains("install its model with: cargo judge model install ("), "{}", run.all());
}

#[test]
fn a_damaged_model_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(local_model::DEFAULT_MODEL_FILE), b"GGUF but not really").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut command = local_suite(cache.path());
    command.env("JUDGE_MODEL_DIR", dir.path()).args(exact_args(&["passes"]));
    let run = HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.stdout.contains(&format!("not {}", local_model::DEFAULT_MODEL_SHA256)), "{}", run.all());
    assert!(run.stdout.contains("delete it and install it again"), "{}", run.all());
}

#[test]
fn a_model_path_that_is_not_a_model_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.gguf");
    std::fs::write(&bogus, b"not a gguf file").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut command = local_suite(cache.path());
    command.env("JUDGE_MODEL", format!("local:{}", bogus.display())).args(exact_args(&["passes"]));
    let run = HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.stdout.contains("cannot load the model"), "{}", run.all());
}

/// One labelled pair of the frozen set.
struct Pair {
    id: String,
    category: String,
    input: String,
    rubric: String,
    expected: String,
    good: String,
    bad: String,
}

fn pairs() -> Vec<Pair> {
    let text = include_str!("../../data/judge_pairs.jsonl");
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let field = |k: &str| v[k].as_str().unwrap().to_owned();
            Pair {
                id: field("id"),
                category: field("category"),
                input: field("input"),
                rubric: field("rubric"),
                expected: field("expected"),
                good: field("good"),
                bad: field("bad"),
            }
        })
        .collect()
}

/// Pairwise accuracy on the frozen set: the share of pairs whose good answer scores above the bad
/// one. The figure is in the README; this guards it against regressions.
#[test]
fn pairwise_accuracy_on_the_frozen_set() {
    if installed_model().is_none() {
        return;
    }
    let grader = Grader::new("local").unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let pairs = pairs();
    let results: Vec<(f64, f64)> = runtime.block_on(async {
        let mut results = Vec::new();
        for p in &pairs {
            let (good, bad) = tokio::join!(
                grader.grade(&p.rubric, Some(&p.input), Some(&p.expected), &p.good),
                grader.grade(&p.rubric, Some(&p.input), Some(&p.expected), &p.bad)
            );
            let (good, bad) = (good.unwrap(), bad.unwrap());
            results.push((good.normalized(), bad.normalized()));
        }
        results
    });
    let mut by_category: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    let mut wrong = Vec::new();
    for (p, (good, bad)) in pairs.iter().zip(&results) {
        let entry = by_category.entry(p.category.as_str()).or_default();
        entry.1 += 1;
        if good > bad {
            entry.0 += 1;
        } else {
            wrong.push(format!("{} (good {good:.2}, bad {bad:.2})", p.id));
        }
    }
    let right: usize = by_category.values().map(|c| c.0).sum();
    let accuracy = right as f64 / pairs.len() as f64;
    eprintln!("embedded judge pairwise accuracy: {right}/{} = {:.1}%", pairs.len(), accuracy * 100.0);
    for (category, (r, n)) in &by_category {
        eprintln!("  {category}: {r}/{n}");
    }
    eprintln!("  misordered: {}", wrong.join(", "));
    assert!(accuracy >= ACCURACY_FLOOR, "accuracy {accuracy:.3} fell below {ACCURACY_FLOOR}; misordered: {wrong:?}");
}

/// Below the measured accuracy (46/54 locally, 45/54 on a clean-clone CI run: batches form by
/// timing and near-ties can flip), with room for that: a drop below it is a regression.
const ACCURACY_FLOOR: f64 = 0.80;

#[test]
fn levels_name_the_band_of_the_score_and_text_techniques_say_what_judge_they_need() {
    if installed_model().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut command = harness(env!("CARGO_BIN_EXE_suite-techniques"));
    command
        .env("JUDGE_MODEL", "local")
        .env("JUDGE_CACHE_DIR", dir.path().join("cache"))
        .env("JUDGE_REPORT_JSON", dir.path().join("report.json"));
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_suite-techniques"));
    let evals = ["levelled", "criteria_fail_on_one", "beats_baseline", "auto_steps"];
    command.args(crate::common::exact_args_of(binary, &evals));
    let run = HarnessRun::of(&mut command);
    let report = crate::common::read_report(&dir.path().join("report.json"));
    let eval = |name: &str| crate::common::eval_named(&report, name);
    // Levels: the embedded judge's level is the band its score falls in.
    let levelled = eval("levelled");
    let sample = &levelled["samples"][0];
    let (score, level) = (sample["raw_score"].as_f64().unwrap(), sample["level"].as_str().unwrap());
    let (low, high) = level.split_once('-').unwrap();
    let (low, high): (f64, f64) = (low.parse().unwrap(), high.parse().unwrap());
    assert!((low..=high).contains(&score.round()), "score {score} outside level {level}\n{}", run.all());
    // Criteria, a baseline and generated steps need a judge that writes text: each says so.
    for name in ["criteria_fail_on_one", "beats_baseline", "auto_steps"] {
        let record = eval(name);
        let message = record["message"].as_str().unwrap_or_default();
        assert_eq!(record["status"], "error", "{name}: {}", run.all());
        assert!(
            message.contains("the embedded judge scores one output") && message.contains("llama.cpp server"),
            "{message}"
        );
    }
}

#[test]
fn the_embedded_judge_grades_synthetic_pairs_that_another_model_writes() {
    if installed_model().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let synthetic = |vars: &[(&str, &str)]| {
        let mut command = harness(env!("CARGO_BIN_EXE_suite-synthetic"));
        command
            .env("JUDGE_MODEL", "local")
            .env("JUDGE_CACHE_DIR", dir.path().join("cache"))
            .env("JUDGE_REPORT_JSON", dir.path().join("report.json"))
            .env("INSTA_WORKSPACE_ROOT", dir.path())
            .env("INSTA_UPDATE", "no")
            .envs(vars.iter().copied())
            .args(["--exact", "suite_synthetic::support::synthetic"]);
        let run = HarnessRun::of(&mut command);
        (run, crate::common::read_report(&dir.path().join("report.json")))
    };
    // It writes no pairs itself, and says what to do.
    let (alone, report) = synthetic(&[]);
    assert_eq!(alone.code, Some(101), "{}", alone.all());
    let message = crate::common::eval_named(&report, "support::synthetic")["message"].as_str().unwrap().to_owned();
    assert!(message.contains("validate = \"synthetic\"") && message.contains("`generator`"), "{message}");
    // A generator that writes (the fake judge's generation mode), the embedded judge grading: every
    // pair is judged, each answer graded on its own, and the dropped ones are dropped as before.
    let writer = judge_tests::FakeJudge::start();
    let vars = [("JUDGE_GENERATOR", "openai:fake-generator"), ("OPENAI_BASE_URL", &writer.base_url())];
    let (run, report) = synthetic(&vars);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let record = crate::common::eval_named(&report, "support::synthetic");
    assert_eq!(record["synthetic"]["pairs"], 4, "{}", run.all());
    assert_eq!(
        record["synthetic"]["dropped"],
        serde_json::json!({"identical": 1, "empty": 1, "refused": 1, "unreadable": 1})
    );
    // Only the pairs were asked of the server; the embedded judge graded them.
    assert_eq!(writer.requests(), 7 + 3, "{}", run.all());
}
