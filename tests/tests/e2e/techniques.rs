//! The judging techniques of the seeds, from the attribute, judge.toml and the environment,
//! against the fake judge.

use judge_tests::FakeJudge;
use serde_json::Value;

use crate::common::{eval_named, read_report, run_exact};

/// The `suite-techniques` binary, judged by `judge`, with its cache in `dir/cache` and its JSON
/// report at `dir/report.json`.
fn techniques(judge: &FakeJudge, dir: &std::path::Path) -> std::process::Command {
    let mut command = judge_tests::harness(env!("CARGO_BIN_EXE_suite-techniques"));
    command
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_CACHE_DIR", dir.join("cache"))
        .env("JUDGE_REPORT_JSON", dir.join("report.json"));
    command
}

/// Each eval's (score, reduce) from the JSON report, by short name.
fn scores(dir: &std::path::Path) -> Vec<(String, f64, String)> {
    let report: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    report["evals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let name = e["name"].as_str().unwrap().rsplit("::").next().unwrap().to_owned();
            (name, e["score"].as_f64().unwrap(), e["stats"]["reduce"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn every_reducer_from_the_attribute_decides_pass_and_fail() {
    let judge = FakeJudge::start();
    let dir = tempfile::tempdir().unwrap();
    let evals = ["median_seven", "mean_seven", "min_seven", "at_least_three", "at_least_four", "pass_all_seven"];
    let run = run_exact(techniques(&judge, dir.path()), &evals);
    assert_eq!(run.code, Some(101), "{}", run.all());
    for (eval, outcome) in [
        ("median_seven", "ok"),
        ("mean_seven", "FAILED"),
        ("min_seven", "ok"),
        ("at_least_three", "ok"),
        ("at_least_four", "FAILED"),
        ("pass_all_seven", "FAILED"),
    ] {
        assert!(run.has_outcome(&format!("suite_techniques::{eval}"), outcome), "{eval}:\n{}", run.all());
    }
    let rounded: Vec<(String, String, String)> =
        scores(dir.path()).into_iter().map(|(name, score, reduce)| (name, format!("{score:.2}"), reduce)).collect();
    let expected = [
        ("at_least_four", "0.70", "at_least(4)"),
        ("at_least_three", "0.80", "at_least(3)"),
        ("mean_seven", "0.67", "mean"),
        ("median_seven", "0.70", "median"),
        ("min_seven", "0.20", "min"),
        ("pass_all_seven", "0.20", "pass_all"),
    ]
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
    assert_eq!(rounded, expected);
    assert!(
        run.stdout.contains("  4. highest of 7 samples: at least 4 must reach the threshold; median 0.70"),
        "the failure says how the score was reduced:\n{}",
        run.stdout
    );
    assert!(run.stdout.contains("  lowest of 7 samples: every one must reach the threshold"), "{}", run.stdout);
    assert!(run.stdout.contains("  scores:    9/10, 2/10, 6/10, 7/10, 10/10, 5/10, 8/10"), "{}", run.stdout);
    assert!(!run.stdout.contains("(trimmed)"), "only the trimmed mean trims:\n{}", run.stdout);
    // Seven identical-by-content verdicts per score, shared across the six evals: 7 calls.
    assert_eq!(judge.requests(), 7);
    // Refresh judges each of them again, once for the run, not once per eval.
    let mut refresh = techniques(&judge, dir.path());
    refresh.env("JUDGE_CACHE", "refresh");
    assert_eq!(run_exact(refresh, &evals).code, Some(101));
    assert_eq!(judge.requests(), 14);
}

#[test]
fn reduce_comes_from_the_environment_or_judge_toml_when_the_attribute_is_silent() {
    let judge = FakeJudge::start();
    let run_with = |var: Option<(&str, &str)>, config: Option<&str>| {
        let dir = tempfile::tempdir().unwrap();
        let mut command = techniques(&judge, dir.path());
        if let Some((key, value)) = var {
            command.env(key, value);
        }
        if let Some(text) = config {
            let path = dir.path().join("judge.toml");
            std::fs::write(&path, text).unwrap();
            command.env("JUDGE_CONFIG", path);
        }
        let run = run_exact(command, &["reduce_unset", "median_seven"]);
        (run, scores(dir.path()))
    };
    let (run, by_default) = run_with(None, None);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(by_default[1].2, "trimmed_mean");
    let (run, from_env) = run_with(Some(("JUDGE_REDUCE", "pass_all")), None);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert_eq!((from_env[1].2.as_str(), from_env[0].2.as_str()), ("pass_all", "median"), "the attribute wins");
    let (run, from_file) = run_with(None, Some("reduce = \"min\"\n"));
    assert_eq!((from_file[1].2.as_str(), run.code), ("min", Some(101)), "{}", run.all());

    // An at_least(k) the eval's samples cannot satisfy is an error naming the variable and the eval.
    let dir = tempfile::tempdir().unwrap();
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_REDUCE", "at_least(8)");
    let run = run_exact(command, &["reduce_unset"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(
        run.stdout.contains("JUDGE_REDUCE")
            && run.stdout.contains("at_least(8) needs at least 8 samples, and the eval has 7"),
        "{}",
        run.all()
    );
}

#[test]
fn scoring_weighted_uses_token_probabilities_and_stated_does_not_ask_for_them() {
    let judge = FakeJudge::start();
    let dir = tempfile::tempdir().unwrap();
    let run = run_exact(techniques(&judge, dir.path()), &["weighted_scoring", "stated_scoring"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    let sample = |i: usize| report["evals"][i]["samples"][0].clone();
    // Sorted by name: stated_scoring, weighted_scoring.
    assert_eq!((sample(0)["raw_score"].as_f64(), sample(0)["method"].as_str()), (Some(7.0), Some("stated")));
    assert_eq!(
        (sample(1)["raw_score"].as_f64(), sample(1)["method"].as_str()),
        (Some(8.0), Some("probability_weighted"))
    );
    // Two calls: the settings differ, so do the cache keys; only the weighted one asks for logprobs.
    let bodies = judge.bodies();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies.iter().filter(|b| b.get("logprobs").is_some()).count(), 1, "{bodies:?}");

    // JUDGE_SCORING=stated applies where the attribute is silent.
    let dir = tempfile::tempdir().unwrap();
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_SCORING", "stated");
    assert_eq!(run_exact(command, &["weighted_scoring"]).code, Some(0));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["evals"][0]["samples"][0]["method"], "stated");
}

#[test]
fn rubric_levels_are_named_by_the_judge_and_shown_in_the_failure() {
    let judge = FakeJudge::start();
    let dir = tempfile::tempdir().unwrap();
    let run = run_exact(techniques(&judge, dir.path()), &["levelled"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(
        run.stdout.contains("  level:     0-2: Expected output requirements completely unmet or contradicted."),
        "{}",
        run.all()
    );
    let body = &judge.bodies()[0];
    let schema = &body["response_format"]["json_schema"]["schema"];
    assert_eq!(schema["properties"]["level"]["enum"], serde_json::json!(["0-2", "3-4", "5-6", "7-8", "9-10"]));
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("## Rubric levels (scores, then what they mean)\n- 0-2: Expected output"), "{user}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["evals"][0]["samples"][0]["level"], "0-2");

    // judge.toml levels apply to evals without the attribute.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("judge.toml");
    std::fs::write(&config, "levels = [\"0-5: not a number\", \"6-10: a number\"]\n").unwrap();
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_CONFIG", &config);
    let run = run_exact(command, &["weighted_scoring"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["evals"][0]["samples"][0]["level"], "6-10");

    // A bad band in judge.toml is an error naming the key and the level.
    std::fs::write(&config, "levels = [\"0-5: low\", \"7-10: high\"]\n").unwrap();
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_CONFIG", &config);
    let run = run_exact(command, &["weighted_scoring"]);
    assert!(run.all().contains("`levels`") && run.all().contains("level 2"), "{}", run.all());
}

#[test]
fn criteria_are_scored_in_one_call_reduced_each_and_checked_against_their_thresholds() {
    let judge = FakeJudge::start();
    let dir = tempfile::tempdir().unwrap();
    let run = run_exact(techniques(&judge, dir.path()), &["criteria_pass", "criteria_fail_on_one"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    let report = report(dir.path());
    let (failed, passed) = (&report["evals"][0], &report["evals"][1]);
    assert_eq!((passed["status"].as_str(), failed["status"].as_str()), (Some("passed"), Some("failed")));
    assert!((passed["score"].as_f64().unwrap() - 0.95).abs() < 1e-9, "{passed}");
    let criteria: Vec<(&str, f64, bool)> = passed["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["score"].as_f64().unwrap(), c["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(criteria, [("accuracy", 1.0, true), ("clarity", 0.8, true)]);
    // Samples are generated at once, so which one got the scripted clarity 2 varies: find it.
    let clarity: Vec<f64> =
        passed["samples"].as_array().unwrap().iter().map(|s| s["criteria"][1]["score"].as_f64().unwrap()).collect();
    let mut sorted = clarity.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(sorted, [2.0, 8.0, 9.0], "{passed}");
    let sample = &passed["samples"][clarity.iter().position(|c| *c == 2.0).unwrap()];
    assert!(
        sample["rationale"].as_str().unwrap().contains("clarity (2/10): On clarity, the output carries the marker 2.")
    );
    // The failure names the criterion below its threshold though the score is above the eval's.
    assert!((failed["score"].as_f64().unwrap() - 0.85).abs() < 1e-9, "{failed}");
    let message = failed["message"].as_str().unwrap();
    assert!(message.starts_with("scored 0.85, above the threshold 0.70, but:"), "{message}");
    assert!(message.contains("criterion clarity: 0.40 (weight 1), below its threshold 0.70"), "{message}");
    // One call per sample, each with one schema object per criterion.
    assert_eq!(judge.requests(), 4);
    let body = &judge.bodies()[0];
    let schema = &body["response_format"]["json_schema"]["schema"];
    assert_eq!(schema["required"], serde_json::json!(["accuracy", "clarity"]));
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("## Criteria (grade each one separately)\n- accuracy: States the right number.\n"), "{user}");
}

#[test]
fn with_criteria_a_reducer_that_asks_about_single_samples_decides_on_their_weighted_scores() {
    let judge = FakeJudge::start();
    let dir = tempfile::tempdir().unwrap();
    let run = run_exact(techniques(&judge, dir.path()), &["criteria_at_least_two"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    let eval = &report(dir.path())["evals"][0];
    assert!((eval["score"].as_f64().unwrap() - 0.6).abs() < 1e-9, "{eval}");
    let criteria: Vec<f64> =
        eval["criteria"].as_array().unwrap().iter().map(|c| c["score"].as_f64().unwrap()).collect();
    assert_eq!(criteria, [1.0, 1.0], "each criterion alone has two samples at 1.0");
}

#[test]
fn criteria_come_from_judge_toml_and_bad_ones_are_named() {
    let judge = FakeJudge::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("judge.toml");
    std::fs::write(
        &config,
        "[criteria]\naccuracy = \"Right number.\"\nclarity = { rubric = \"Plain.\", weight = 2 }\n",
    )
    .unwrap();
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_CONFIG", &config);
    let run = run_exact(command, &["weighted_scoring"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let report = report(dir.path());
    let names: Vec<&str> =
        report["evals"][0]["criteria"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["accuracy", "clarity"]);

    std::fs::write(
        &config,
        "[criteria]\naccuracy = \"Right number.\"\nclarity = { rubric = \"Plain.\", weight = -1 }\n",
    )
    .unwrap();
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_CONFIG", &config);
    let run = run_exact(command, &["weighted_scoring"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.all().contains("`criteria`") && run.all().contains("criterion `clarity`: `weight` must be above 0"),
        "{}",
        run.all()
    );
}

#[test]
fn pairwise_comparisons_ask_both_orders_and_score_the_win_rate() {
    let judge = FakeJudge::start();
    let dir = tempfile::tempdir().unwrap();
    let evals = ["beats_baseline", "ties_baseline", "loses_to_baseline_fn"];
    let run = run_exact(techniques(&judge, dir.path()), &evals);
    assert_eq!(run.code, Some(101), "{}", run.all());
    let report = report(dir.path());
    let by_name = |name: &str| eval_named(&report, name);
    let (beats, ties, loses) = (by_name("beats_baseline"), by_name("ties_baseline"), by_name("loses_to_baseline_fn"));
    // The default reducer of a comparison is the mean: the win rate.
    assert_eq!((beats["score"].as_f64(), beats["stats"]["reduce"].as_str()), (Some(1.0), Some("mean")));
    assert_eq!((ties["score"].as_f64(), ties["status"].as_str()), (Some(0.5), Some("passed")));
    assert_eq!((loses["score"].as_f64(), loses["status"].as_str()), (Some(0.0), Some("failed")));
    let sample = &beats["samples"][0];
    assert_eq!(sample["comparison"], serde_json::json!({"output_first": "output", "baseline_first": "output"}));
    assert_eq!(
        (sample["method"].as_str(), sample["compared_with"].as_str()),
        (Some("compared"), Some("They overlap 24 times."))
    );
    assert_eq!(loses["samples"][0]["compared_with"], "The hands overlap 22 times a day.");
    let message = loses["message"].as_str().unwrap();
    assert!(
        message.contains("  scores:    loss") && message.contains("  versus:    The hands overlap 22 times a day."),
        "{message}"
    );
    assert!(message.contains("Output shown first: ") && message.contains("Output shown second: "), "{message}");
    // Two calls per sample (3 + 1 + 1 samples), one per order: the output is A in one and B in the other.
    assert_eq!(judge.requests(), 10);
    let orders: Vec<bool> = judge
        .bodies()
        .iter()
        .map(|b| b["messages"][1]["content"].as_str().unwrap().to_owned())
        .filter(|user| user.contains("Twice an hour."))
        .map(|user| user.find("Twice an hour.").unwrap() < user.find("## Output B").unwrap())
        .collect();
    assert_eq!(orders.len(), 2);
    assert_ne!(orders[0], orders[1], "one order shows the output first, the other second");
    // A rerun judges nothing: each order's verdict is cached.
    let rerun = run_exact(techniques(&judge, dir.path()), &evals);
    assert_eq!((rerun.code, judge.requests()), (Some(101), 10), "{}", rerun.all());
}

#[test]
fn a_judge_biased_to_position_gets_a_tie_not_a_win() {
    let judge = FakeJudge::start_with(judge_tests::FakeJudgeConfig { position_bias: true, ..Default::default() });
    let dir = tempfile::tempdir().unwrap();
    let run = run_exact(techniques(&judge, dir.path()), &["ties_baseline"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let sample = report(dir.path())["evals"][0]["samples"][0].clone();
    // The judge named the first output both times: the output once, the baseline once.
    assert_eq!(sample["comparison"], serde_json::json!({"output_first": "output", "baseline_first": "baseline"}));
    assert_eq!(sample["score"], 0.5);
    assert!(sample["rationale"].as_str().unwrap().contains("the judge preferred a position, so this is a tie"));
}

#[test]
fn comparisons_that_all_tie_are_said_and_fail_with_on_tie_fail() {
    let judge = FakeJudge::start_with(judge_tests::FakeJudgeConfig { position_bias: true, ..Default::default() });
    let dir = tempfile::tempdir().unwrap();
    let run = run_exact(techniques(&judge, dir.path()), &["ties_baseline", "ties_fail"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.has_outcome("suite_techniques::ties_baseline", "ok"), "{}", run.all());
    assert!(run.has_outcome("suite_techniques::ties_fail", "FAILED"), "{}", run.all());
    // Passed, but not in silence.
    let note = "ties_baseline: every comparison is a tie (1 of 1 split by order: each order preferred the output \
                shown in its own position): the judge could not tell the outputs apart; on_tie = \"fail\" fails such an eval";
    assert!(run.all().contains(note), "{}", run.all());
    let record = report(dir.path());
    let passed = eval_named(&record, "ties_baseline");
    assert_eq!(passed["all_ties"], serde_json::json!({"comparisons": 1, "split": 1, "fails": false}));
    let failed = eval_named(&record, "ties_fail");
    assert_eq!((failed["failure"].as_str(), failed["score"].as_f64()), (Some("all_ties"), Some(0.5)));
    assert_eq!(failed["all_ties"], serde_json::json!({"comparisons": 2, "split": 2, "fails": true}));
    let message = failed["message"].as_str().unwrap();
    assert!(message.starts_with("scored 0.50, above the threshold 0.50, but:"), "{message}");
    assert!(
        message.contains("every comparison is a tie (2 of 2 split by order") && message.contains("(on_tie = \"fail\")")
    );

    // From the environment, for an eval whose attribute is silent; a bad word names the variable.
    let dir = tempfile::tempdir().unwrap();
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_ON_TIE", "fail");
    let run = run_exact(command, &["ties_baseline"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert_eq!(eval_named(&report(dir.path()), "ties_baseline")["failure"], "all_ties");
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_ON_TIE", "never");
    let run = run_exact(command, &["ties_baseline"]);
    assert!(run.all().contains("JUDGE_ON_TIE=\"never\" is invalid"), "{}", run.all());
}

#[test]
fn an_ensemble_of_judges_combines_flags_and_measures_agreement() {
    let judge = FakeJudge::start();
    let dir = tempfile::tempdir().unwrap();
    let mut command = techniques(&judge, dir.path());
    command.env("ANTHROPIC_BASE_URL", judge.anthropic_base_url()).env("ANTHROPIC_API_KEY", "test-key");
    let run = run_exact(command, &["ensemble_agrees", "ensemble_disagrees", "ensemble_majority"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    let report = report(dir.path());
    let by_name = |name: &str| eval_named(&report, name);
    let agrees = by_name("ensemble_agrees");
    assert_eq!((agrees["status"].as_str(), agrees["score"].as_f64()), (Some("passed"), Some(0.8)));
    assert_eq!(agrees["judge"], "openai:judge-a + anthropic:judge-b");
    let panel = &agrees["samples"][0]["panel"];
    assert_eq!(
        (panel[0]["judge"].as_str(), panel[1]["judge"].as_str()),
        (Some("openai:judge-a"), Some("anthropic:judge-b"))
    );
    assert_eq!(agrees["disagreement"]["spread"], 0.0);

    let disagrees = by_name("ensemble_disagrees");
    assert_eq!((disagrees["status"].as_str(), disagrees["score"].as_f64()), (Some("failed"), Some(0.8)));
    assert_eq!(
        (&disagrees["disagreement"]["flagged"], &disagrees["disagreement"]["fails"]),
        (&Value::Bool(true), &Value::Bool(true))
    );
    assert!((disagrees["disagreement"]["spread"].as_f64().unwrap() - 0.7).abs() < 1e-9);
    let message = disagrees["message"].as_str().unwrap();
    assert!(message.starts_with("scored 0.80, above the threshold 0.70, but:"), "{message}");
    assert!(
        message.contains("the judges disagree: their scores of sample 1 are 0.70 apart, more than max_spread 0.30"),
        "{message}"
    );
    assert!(message.contains("judges:    openai:judge-a + openai:judge-b + openai:judge-c (combined by median)"));
    assert_eq!(by_name("ensemble_majority")["score"], 1.0);
    // Agreement over the suite: units (0.8, 0.8), (0.9, 0.8, 0.2) twice (verdicts cached per judge).
    let units: Vec<Vec<(String, f64)>> = vec![
        vec![("a".into(), 0.8), ("b".into(), 0.8)],
        vec![("a".into(), 0.9), ("b".into(), 0.8), ("c".into(), 0.2)],
        vec![("a".into(), 0.9), ("b".into(), 0.8), ("c".into(), 0.2)],
    ];
    let expected = alpha(&units);
    let alpha_reported = report["agreement"]["alpha"].as_f64().unwrap();
    assert!((alpha_reported - expected).abs() < 1e-9, "{alpha_reported} vs {expected}");
    assert_eq!(report["agreement"]["samples"], 3);
    assert!(
        run.stdout.contains(&format!("over 3 samples: Krippendorff's alpha {expected:.2} (interval)")),
        "{}",
        run.stdout
    );
    // Each judge is asked once per distinct request: 2 + 3 (the majority eval reuses the same three verdicts).
    assert_eq!(judge.requests(), 5);
    assert_eq!(
        judge.models().into_iter().collect::<Vec<_>>(),
        ["judge-a", "judge-b", "judge-c"],
        "both wire formats, three models"
    );
}

#[test]
fn an_ensemble_from_the_environment_or_judge_toml_flags_without_failing() {
    let judge = FakeJudge::start();
    let dir = tempfile::tempdir().unwrap();
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_MODELS", "openai:judge-a, openai:judge-b").env("JUDGE_MAX_SPREAD", "0.2");
    let run = run_exact(command, &["ensemble_unset"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stderr.contains(
            "ensemble_unset: the judges disagree: their scores of sample 1 are 0.40 apart, more than max_spread 0.20"
        ),
        "{}",
        run.all()
    );
    let eval = &report(dir.path())["evals"][0];
    assert_eq!((eval["score"].as_f64(), eval["disagreement"]["flagged"].as_bool()), (Some(0.7), Some(true)));

    let config = dir.path().join("judge.toml");
    std::fs::write(
        &config,
        "judges = [\"openai:judge-a\", \"openai:judge-b\"]\nmax_spread = 0.2\non_disagreement = \"fail\"\n",
    )
    .unwrap();
    // The environment's JUDGE_MODEL would win over the file's `judges`, as every variable does.
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_CONFIG", &config).env_remove("JUDGE_MODEL");
    let run = run_exact(command, &["ensemble_unset"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.stdout.contains("(on_disagreement = \"fail\")"), "{}", run.stdout);

    // One judge is no ensemble: the error names the variable.
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_MODELS", "openai:judge-a");
    let run = run_exact(command, &["ensemble_unset"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.all().contains("JUDGE_MODELS") && run.all().contains("at least two judges"), "{}", run.all());
}

#[test]
fn g_eval_steps_are_generated_once_cached_recorded_and_followed() {
    let judge = FakeJudge::start();
    let dir = tempfile::tempdir().unwrap();
    let run = run_exact(techniques(&judge, dir.path()), &["auto_steps", "given_steps"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    // One call for the steps, two samples, one given-steps sample.
    assert_eq!(judge.requests(), 4);
    let bodies = judge.bodies();
    let users: Vec<String> = bodies.iter().map(|b| b["messages"][1]["content"].as_str().unwrap().to_owned()).collect();
    let asks = users.iter().filter(|u| u.contains("## Your task\nWrite the evaluation steps")).count();
    assert_eq!(asks, 1, "the steps are asked for once: {users:#?}");
    let generated = "## Evaluation steps (follow them in order before you grade)\n\
                     1. Read what the rubric asks: Says the hands overlap 22 times a day.\n\
                     2. Compare the output with the reference answer, word by word.\n";
    assert_eq!(users.iter().filter(|u| u.contains(generated)).count(), 2, "both samples follow them");
    let given = "1. Find the number the output states.\n2. Check it against the reference answer.\n";
    assert_eq!(users.iter().filter(|u| u.contains(given)).count(), 1);
    let first = report(dir.path());
    let auto = eval_named(&first, "auto_steps");
    assert_eq!(auto["steps"][0]["judge"], "openai:fake-judge");
    assert_eq!(auto["steps"][0]["steps"].as_array().unwrap().len(), 3);
    // Cached: a rerun asks nothing, the steps included.
    let rerun = run_exact(techniques(&judge, dir.path()), &["auto_steps", "given_steps"]);
    assert_eq!((rerun.code, judge.requests()), (Some(0), 4), "{}", rerun.all());
    assert_eq!(report(dir.path())["evals"][0]["steps"], auto["steps"]);

    // The snapshot holds the generated steps, so `cargo insta review` shows when they change.
    let mut command = techniques(&judge, dir.path());
    command
        .env("JUDGE_SNAPSHOT", "true")
        .env("INSTA_WORKSPACE_ROOT", dir.path())
        .env("INSTA_UPDATE", "new")
        .env_remove("CI");
    assert_eq!(run_exact(command, &["auto_steps"]).code, Some(0));
    let snapshot =
        std::fs::read_to_string(dir.path().join("tests/src/bin/snapshots/suite_techniques__auto_steps.snap.new"))
            .expect("a new snapshot");
    assert!(
        snapshot
            .contains("evaluation steps written by openai:fake-judge:\n1. Read what the rubric asks: Says the hands"),
        "{snapshot}"
    );

    // JUDGE_STEPS=auto applies where the attribute is silent. Two evals of one task, run at
    // once, share the steps being generated: they are asked for once.
    let before = judge.bodies().len();
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_STEPS", "auto");
    let run = run_exact(command, &["weighted_scoring", "stated_scoring"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let record = report(dir.path());
    for name in ["weighted_scoring", "stated_scoring"] {
        assert_eq!(eval_named(&record, name)["steps"][0]["steps"][0], "Read what the rubric asks: Scripted.");
    }
    let asks = judge.bodies()[before..]
        .iter()
        .filter(|b| b["messages"][1]["content"].as_str().unwrap().contains("Write the evaluation steps"))
        .count();
    assert_eq!(asks, 1, "one request for the steps of both evals");
}

/// Krippendorff's alpha (interval), computed here from its definition, independently of the runtime.
fn alpha(units: &[Vec<(String, f64)>]) -> f64 {
    let values: Vec<f64> = units.iter().flatten().map(|(_, v)| *v).collect();
    let n = values.len() as f64;
    let within: f64 = units
        .iter()
        .map(|u| {
            let mut sum = 0.0;
            for (i, a) in u.iter().enumerate() {
                for (j, b) in u.iter().enumerate() {
                    if i != j {
                        sum += (a.1 - b.1).powi(2);
                    }
                }
            }
            sum / (u.len() - 1) as f64
        })
        .sum::<f64>()
        / n;
    let mut all = 0.0;
    for (i, a) in values.iter().enumerate() {
        for (j, b) in values.iter().enumerate() {
            if i != j {
                all += (a - b).powi(2);
            }
        }
    }
    1.0 - within / (all / (n * (n - 1.0)))
}

/// The JSON report in `dir`.
fn report(dir: &std::path::Path) -> Value {
    read_report(&dir.join("report.json"))
}

/// examples/tests/techniques.rs, one eval per technique, against the fake judge speaking both
/// wire formats: every technique runs as documented, at the documented cost in calls.
#[test]
fn the_example_of_every_technique_runs() {
    let judge = FakeJudge::start();
    let dir = tempfile::tempdir().unwrap();
    let mut command = judge_tests::harness(env!("CARGO_BIN_EXE_example-techniques"));
    command
        .env("JUDGE_MODEL", "openai:gpt-4.1-mini")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("ANTHROPIC_BASE_URL", judge.anthropic_base_url())
        .env("ANTHROPIC_API_KEY", "test-key")
        .env("JUDGE_CACHE_DIR", dir.path().join("cache"))
        .env("JUDGE_REPORT_JSON", dir.path().join("report.json"));
    let run = judge_tests::HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let report = report(dir.path());
    let evals: Vec<(&str, &str)> = report["evals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().rsplit("::").next().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        evals,
        [
            ("capital_at_least_two", "passed"),
            ("capital_vs_previous", "passed"),
            ("clock_hands_levels", "passed"),
            ("clock_hands_panel", "passed"),
            ("clock_hands_steps", "passed"),
            ("refund_criteria", "passed"),
        ]
    );
    // Calls: at_least(2) 3 samples × 1; pairwise 1 × 2 orders; levels 1; the panel 1 × 2 judges;
    // steps 1 (once) + 3 samples; criteria 1 (every criterion in one call).
    assert_eq!(judge.requests(), 3 + 2 + 1 + 2 + 4 + 1);
    assert_eq!(judge.models().into_iter().collect::<Vec<_>>(), ["claude-haiku-4-5", "gpt-4.1-mini"]);
}

#[test]
fn an_eval_section_of_judge_toml_gives_one_eval_a_baseline_and_a_typo_is_warned_of() {
    let judge = FakeJudge::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("judge.toml");
    std::fs::write(
        &config,
        "threshold = 0.9\n[evals.\"suite_techniques::weighted_scoring\"]\nbaseline = \"[score:3] an older answer\"\n",
    )
    .unwrap();
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_CONFIG", &config);
    let run = run_exact(command, &["weighted_scoring", "stated_scoring"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    let report = report(dir.path());
    // The section's eval is compared (7 beats 3 in both orders) and passes at the comparison's...
    let compared = eval_named(&report, "weighted_scoring");
    assert_eq!((compared["score"].as_f64(), compared["status"].as_str()), (Some(1.0), Some("passed")));
    assert_eq!(compared["samples"][0]["compared_with"], "[score:3] an older answer");
    // ...the file's threshold, 0.9, which the other eval (7/10) misses.
    assert_eq!(eval_named(&report, "stated_scoring")["status"], "failed");

    std::fs::write(&config, "[evals.\"suite_techniques::weighted_scorng\"]\nthreshold = 0.5\n").unwrap();
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_CONFIG", &config);
    let run = run_exact(command, &["weighted_scoring"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stderr.contains(
            "warning: judge.toml's section [evals.\"suite_techniques::weighted_scorng\"] names no eval of this test \
             binary, so it applies to none"
        ),
        "{}",
        run.all()
    );
    // A section without the module path gets a hint.
    std::fs::write(&config, "[evals.\"weighted_scoring\"]\nthreshold = 0.5\n").unwrap();
    let mut command = techniques(&judge, dir.path());
    command.env("JUDGE_CONFIG", &config);
    let run = run_exact(command, &["weighted_scoring"]);
    assert!(run.stderr.contains("(did you mean [evals.\"suite_techniques::weighted_scoring\"]?)"), "{}", run.all());
}
