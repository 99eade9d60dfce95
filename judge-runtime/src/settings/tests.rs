//! The unit tests of settings/: resolution order, sources, and the errors of bad values.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::aggregate::Reducer;
use crate::error::ConfigError;
use crate::settings::criteria::CriterionDef;
use crate::settings::layer::Layer;
use crate::settings::modes::CacheMode;
use crate::settings::modes::ProgressMode;
use crate::settings::modes::SnapshotMode;
use crate::settings::params::GenerationParams;
use crate::settings::workspace::workspace_root;
use crate::settings::*;
use judge_rules::Reduce;
use judge_rules::judge::JudgeSpec;
use judge_rules::levels::Band;

fn env(pairs: &[(&str, &str)]) -> Result<Layer, ConfigError> {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Layer::from_env(move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()), Path::new("/ws"))
}

fn file(text: &str) -> Result<Layer, ConfigError> {
    Layer::from_toml(text, Path::new("/ws/judge.toml"))
}

fn resolve(env_layer: Layer, file_layer: Layer, attr: AttributeSettings<'_>) -> Result<EvalSettings, ConfigError> {
    Settings::from_layers(env_layer, file_layer, Path::new("/ws")).eval("evals::x", attr, None)
}

/// A judge as `#[llm_eval]` hands it over.
fn spec(text: &str) -> JudgeSpec {
    JudgeSpec::parse(text).unwrap()
}

#[test]
fn attribute_beats_env_beats_file_beats_default() {
    let e = env(&[("JUDGE_MODEL", "openai:env"), ("JUDGE_THRESHOLD", "0.5"), ("JUDGE_SAMPLES", "3")]).unwrap();
    let f = file("judge = \"openai:file\"\nthreshold = 0.6\nsamples = 5\ntrim = 0.2").unwrap();
    let judge = spec("openai:attr");
    let attr = AttributeSettings { judge: Some(&judge), threshold: Some(0.9), ..Default::default() };

    let s = resolve(e.clone(), f.clone(), attr).unwrap();
    assert_eq!(s.judge().model, "attr");
    assert_eq!(s.threshold, 0.9);
    assert_eq!(s.samples, 3, "env wins over the file when the attribute is silent");
    assert_eq!(s.reduce.trim, 0.2, "the file wins over the default when env and attribute are silent");

    let s = resolve(Layer::default(), f, AttributeSettings::default()).unwrap();
    assert_eq!((s.judge().model.as_ref(), s.threshold, s.samples), ("file", 0.6, 5));

    let s = resolve(e, Layer::default(), AttributeSettings::default()).unwrap();
    assert_eq!((s.judge().model.as_ref(), s.reduce.trim), ("env", DEFAULT_TRIM));
}

#[test]
fn run_settings_resolve_env_then_file_then_default() {
    let e = env(&[("JUDGE_CACHE", "replay"), ("JUDGE_CACHE_DIR", "verdicts")]).unwrap();
    let f = file("max_concurrency = 4\ncache = \"off\"\nrationales = \"all\"").unwrap();
    let run = Settings::from_layers(e, f, Path::new("/ws")).run();
    assert_eq!(run.values.cache, CacheMode::Replay);
    assert_eq!(run.cache_dir, CacheLocation::Dir("/ws/verdicts".into()));
    assert_eq!(run.values.max_concurrency, 4);
    assert_eq!(run.values.rationales, Rationales::All);
    let run = Settings::from_layers(Layer::default(), Layer::default(), Path::new("/ws")).run();
    assert_eq!(run.values.max_concurrency, 16);
    assert_eq!(run.values.cache, CacheMode::On);
    assert_eq!(run.cache_dir, CacheLocation::Dir("/ws/target/judge-cache".into()));
}

#[test]
fn generation_and_limit_settings_resolve_in_the_same_order() {
    let e = env(&[("JUDGE_TEMPERATURE", "0.4"), ("JUDGE_TIMEOUT", "7.5"), ("JUDGE_MAX_ATTEMPTS", "9")]).unwrap();
    let f = file(
        "judge = \"openai:m\"\ntemperature = 1.0\nmax_tokens = 300\nseed = 42\ndeadline = 60\n\
         requests_per_minute = 120\ntokens_per_minute = 90000\nmax_judge_calls = 500\n\
         max_judge_tokens = 1000000\nmax_output_chars = 2000",
    )
    .unwrap();
    let attr = AttributeSettings { max_tokens: Some(50), ..Default::default() };
    let settings = Settings::from_layers(e, f, Path::new("/ws"));
    let s = settings.eval("evals::x", attr, None).unwrap();
    assert_eq!(
        s.generation,
        GenerationParams { temperature: Some(0.4), max_tokens: Some(50), seed: Some(42), weighted: true }
    );
    assert_eq!(s.values.timeout, Duration::from_millis(7500));
    let run = settings.run();
    assert_eq!((run.values.deadline, run.values.max_attempts), (Duration::from_secs(60), 9));
    assert_eq!((run.values.requests_per_minute, run.values.tokens_per_minute), (Some(120), Some(90_000)));
    assert_eq!(
        (run.values.max_judge_calls, run.values.max_judge_tokens, run.values.max_output_chars),
        (Some(500), Some(1_000_000), 2000)
    );

    let defaults = Settings::from_layers(Layer::default(), file("judge = \"openai:m\"").unwrap(), Path::new("/ws"));
    let s = defaults.eval("evals::x", AttributeSettings::default(), None).unwrap();
    assert_eq!(s.generation, GenerationParams::default());
    assert_eq!(s.values.timeout, Duration::from_secs_f64(DEFAULT_TIMEOUT_SECS));
    let run = defaults.run();
    assert_eq!((run.values.max_attempts, run.values.max_output_chars), (6, DEFAULT_MAX_OUTPUT_CHARS));
    assert_eq!((run.values.requests_per_minute, run.values.max_judge_calls), (None, None));
}

#[test]
fn report_baseline_snapshot_and_progress_settings_resolve() {
    let e = env(&[
        ("JUDGE_REPORT_DIR", "target/judge-report"),
        ("JUDGE_REPORT_HTML", "/abs/report.html"),
        ("JUDGE_SNAPSHOT", "strict"),
        ("JUDGE_MAX_SCORE_DROP", "0.1"),
    ])
    .unwrap();
    let f = file(
        "judge = \"openai:m\"\nreport_junit = \"ci/junit.xml\"\nscore_baseline = \"evals/baseline.json\"\n\
         save_score_baseline = \"evals/new.json\"\nprogress = \"plain\"\nsnapshot = true\nmax_score_drop = 0.3",
    )
    .unwrap();
    let settings = Settings::from_layers(e, f.clone(), Path::new("/ws"));
    let run = settings.run();
    assert_eq!(
        run.reports().resolve("evals"),
        [
            Some(PathBuf::from("/ws/target/judge-report/evals.json")),
            Some(PathBuf::from("/ws/ci/junit.xml")),
            Some(PathBuf::from("/abs/report.html")),
            Some(PathBuf::from("/ws/target/judge-report/evals.md")),
        ],
        "report_dir names each file after the binary; a file's own setting wins"
    );
    assert_eq!(run.values.score_baseline, Some(PathBuf::from("/ws/evals/baseline.json")));
    assert_eq!(run.values.save_score_baseline, Some(PathBuf::from("/ws/evals/new.json")));
    assert_eq!((run.values.max_score_drop, run.values.progress), (Some(0.1), ProgressMode::Plain));
    let eval = |attr| settings.eval("evals::x", attr, None).unwrap().values.snapshot;
    assert_eq!(eval(AttributeSettings::default()), SnapshotMode::Strict, "the environment beats the file");
    assert_eq!(eval(AttributeSettings { snapshot: Some(SnapshotMode::Off), ..Default::default() }), SnapshotMode::Off);
    let from_file = Settings::from_layers(Layer::default(), f, Path::new("/ws"));
    assert_eq!(
        from_file.eval("evals::x", AttributeSettings::default(), None).unwrap().values.snapshot,
        SnapshotMode::On
    );
    let none = Settings::from_layers(Layer::default(), Layer::default(), Path::new("/ws")).run();
    assert_eq!(none.reports().resolve("evals"), [None, None, None, None], "no report unless asked for");
    assert_eq!((none.values.progress, none.values.max_score_drop), (ProgressMode::Auto, None));

    let msg = file("snapshot = \"always\"").unwrap_err().to_string();
    assert!(msg.contains("`snapshot`") && msg.contains("true, false or \"strict\""), "{msg}");
    let msg = file("report_html = \"\"").unwrap_err().to_string();
    assert!(msg.contains("`report_html` is empty"), "{msg}");
}

#[test]
fn techniques_resolve_without_surprises() {
    // A single judge named in a path or an eval that mentions "judges" is still one judge.
    let settings = Settings::from_layers(Layer::default(), Layer::default(), Path::new("/home/me/llm-judges"));
    let judge = spec("openai:m");
    let attr = AttributeSettings { judge: Some(&judge), ..Default::default() };
    assert_eq!(settings.eval("evals::judges_agree", attr, None).unwrap().panel.len(), 1);
    // The attribute's criteria win over judge.toml's levels (and the reverse), without error.
    let f = file("judge = \"openai:m\"\nlevels = [\"0-4: wrong\", \"5-10: right\"]").unwrap();
    let settings = Settings::from_layers(Layer::default(), f, Path::new("/ws"));
    let defs = [
        CriterionDef { name: "a", rubric: "r", weight: None, threshold: None },
        CriterionDef { name: "b", rubric: "s", weight: None, threshold: None },
    ];
    let s = settings.eval("evals::x", AttributeSettings { criteria: Some(&defs), ..Default::default() }, None).unwrap();
    assert!(s.criteria.is_some() && s.levels.is_none());
    let s = settings.eval("evals::x", AttributeSettings { compares: true, ..Default::default() }, None).unwrap();
    assert!(s.levels.is_none() && s.reduce.rule == Reduce::Mean && s.threshold == DEFAULT_COMPARISON_THRESHOLD);
    assert!(settings.eval("evals::x", AttributeSettings::default(), None).unwrap().levels.is_some());
    // Both in judge.toml is an error when the file is read.
    let both = file("levels = [\"0-4: wrong\", \"5-10: right\"]\n[criteria]\na = \"r\"\nb = \"s\"\n");
    assert!(both.unwrap_err().to_string().contains("cannot be combined with `levels`"));
    // Ensemble settings on one judge, and failing on disagreement without a spread, are errors.
    let attr = AttributeSettings {
        judge: Some(&judge),
        combine: Some(judge_rules::words::Combine::Median),
        ..Default::default()
    };
    let msg = settings.eval("evals::x", attr, None).unwrap_err().to_string();
    assert!(msg.contains("`combine` applies to an ensemble") && msg.contains("openai:m"), "{msg}");
    let judges = [spec("openai:a"), spec("openai:b")];
    let attr = AttributeSettings {
        judges: Some(&judges),
        on_disagreement: Some(judge_rules::words::OnDisagreement::Fail),
        ..Default::default()
    };
    assert!(settings.eval("evals::x", attr, None).unwrap_err().to_string().contains("needs `max_spread`"));
}

#[test]
fn an_eval_section_of_judge_toml_sets_that_eval_only() {
    let f = file(
        "judge = \"openai:m\"\nthreshold = 0.8\njudges = [\"openai:a\", \"openai:b\"]\n\
         levels = [\"0-4: wrong\", \"5-10: right\"]\n\
         [evals.\"evals::x\"]\nthreshold = 0.6\njudge = \"anthropic:c\"\n\
         [evals.\"evals::y\"]\nbaseline = \"The old answer.\"\n",
    )
    .unwrap();
    let settings = Settings::from_layers(Layer::default(), f, Path::new("/ws"));
    let x = settings.eval("evals::x", AttributeSettings::default(), None).unwrap();
    // The section's one judge wins over the file's ensemble; its threshold over the file's.
    assert_eq!((x.panel.len(), x.judge().to_string().as_str(), x.threshold), (1, "anthropic:c", 0.6));
    assert!(x.levels.is_some(), "what the section does not set comes from the file");
    let y = settings.eval("evals::y", AttributeSettings::default(), None).unwrap();
    assert_eq!((y.compare_with.is_some(), y.compare_with.as_deref()), (true, Some("The old answer.")));
    assert!(y.levels.is_none(), "a baseline sets the file's levels aside");
    assert_eq!(y.threshold, 0.8, "the file's threshold still applies");
    let z = settings.eval("evals::z", AttributeSettings::default(), None).unwrap();
    assert_eq!((z.panel.len(), z.threshold, z.compare_with.is_some()), (2, 0.8, false));
    // Sections are checked against this binary's evals, not other binaries'.
    let names = ["evals::x".to_owned(), "evals::z".to_owned()];
    assert_eq!(settings.unknown_eval_sections(&names), ["evals::y"]);
    assert!(settings.unknown_eval_sections(&["other::w".to_owned()]).is_empty(), "another binary's");
    // A section's baseline gives way to the attribute's criteria, as the file's levels do.
    let defs = [
        CriterionDef { name: "a", rubric: "r", weight: None, threshold: None },
        CriterionDef { name: "b", rubric: "s", weight: None, threshold: None },
    ];
    let y = settings.eval("evals::y", AttributeSettings { criteria: Some(&defs), ..Default::default() }, None).unwrap();
    assert!(y.compare_with.is_none() && y.criteria.is_some());
    let both = file("[evals.\"evals::x\"]\nbaseline = \"b\"\nlevels = [\"0-4: wrong\", \"5-10: right\"]\n");
    assert!(both.unwrap_err().to_string().contains("evals.\"evals::x\".baseline"));
    // A section takes only an eval's settings; a baseline needs a section.
    let run_key = file("[evals.\"evals::x\"]\ncache = \"off\"\n").unwrap_err().to_string();
    assert!(run_key.contains("evals.\"evals::x\".cache") && run_key.contains("not a setting of one eval"), "{run_key}");
    assert!(file("baseline = \"x\"").unwrap_err().to_string().contains("[evals.\"module::name\"] section"));
}

#[test]
fn reduce_resolves_in_order_and_is_checked_against_samples() {
    let f = file("judge = \"openai:m\"\nreduce = \"median\"\nsamples = 5\ntrim = 0.2").unwrap();
    let settings = Settings::from_layers(Layer::default(), f.clone(), Path::new("/ws"));
    let reduce = |attr| settings.eval("evals::x", attr, None).map(|s| s.reduce.rule);
    assert_eq!(reduce(AttributeSettings::default()).unwrap(), Reduce::Median);
    let attr = AttributeSettings { reduce: Some(judge_rules::Reduce::AtLeast(4)), ..Default::default() };
    assert_eq!(reduce(attr).unwrap(), Reduce::AtLeast(4));
    let attr = AttributeSettings { reduce: Some(judge_rules::Reduce::AtLeast(6)), ..Default::default() };
    let msg = reduce(attr).unwrap_err().to_string();
    assert!(msg.contains("reduce") && msg.contains("needs at least 6 samples, and the eval has 5"), "{msg}");
    let e = env(&[("JUDGE_REDUCE", "at_least(9)")]).unwrap();
    let msg = Settings::from_layers(e, f, Path::new("/ws")).eval("evals::x", Default::default(), None).unwrap_err();
    assert!(msg.to_string().contains("JUDGE_REDUCE") && msg.to_string().contains("evals::x"), "{msg}");
    let defaults = Settings::from_layers(Layer::default(), file("judge = \"openai:m\"").unwrap(), Path::new("/ws"));
    let s = defaults.eval("evals::x", AttributeSettings::default(), None).unwrap();
    assert_eq!(s.reduce, Reducer::new(Reduce::TrimmedMean, DEFAULT_TRIM));
    assert!(file("reduce = \"max\"").unwrap_err().to_string().contains("`reduce`"));
}

#[test]
fn no_judge_anywhere_is_one_clear_error() {
    let err = resolve(Layer::default(), Layer::default(), AttributeSettings::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("JUDGE_MODEL") && msg.contains("judge.toml"), "{msg}");
    assert!(msg.contains("an API key alone does not pick a model"), "{msg}");
}

#[test]
fn bad_env_values_name_their_variable() {
    for (var, value) in [
        ("JUDGE_THRESHOLD", "1.5"),
        ("JUDGE_THRESHOLD", "high"),
        ("JUDGE_SAMPLES", "0"),
        ("JUDGE_TRIM", "0.5"),
        ("JUDGE_MAX_CONCURRENCY", "-1"),
        ("JUDGE_CACHE", "sometimes"),
        ("JUDGE_RATIONALES", "none"),
        ("JUDGE_TEMPERATURE", "3"),
        ("JUDGE_MAX_TOKENS", "0"),
        ("JUDGE_SEED", "-4"),
        ("JUDGE_TIMEOUT", "0"),
        ("JUDGE_DEADLINE", "soon"),
        ("JUDGE_MAX_ATTEMPTS", "0"),
        ("JUDGE_REQUESTS_PER_MINUTE", "0"),
        ("JUDGE_TOKENS_PER_MINUTE", "-5"),
        ("JUDGE_MAX_JUDGE_CALLS", "0"),
        ("JUDGE_MAX_JUDGE_TOKENS", "many"),
        ("JUDGE_MAX_OUTPUT_CHARS", "10"),
        ("JUDGE_MAX_SCORE_DROP", "1.5"),
        ("JUDGE_PROGRESS", "sometimes"),
        ("JUDGE_SNAPSHOT", "always"),
        ("JUDGE_REDUCE", "max"),
        ("JUDGE_SCORING", "probable"),
        ("JUDGE_REDUCE", "at_least(0)"),
    ] {
        let msg = env(&[(var, value)]).unwrap_err().to_string();
        assert!(msg.contains(var) && msg.contains(value), "{msg}");
    }
}

#[test]
fn bad_file_keys_are_named() {
    let msg = file("treshold = 0.5").unwrap_err().to_string();
    assert!(msg.contains("`treshold` is unknown") && msg.contains("threshold, samples"), "{msg}");
    let msg = file("samples = \"seven\"").unwrap_err().to_string();
    assert!(msg.contains("`samples` must be a whole number"), "{msg}");
    let msg = file("threshold = 2").unwrap_err().to_string();
    assert!(msg.contains("`threshold`") && msg.contains("0.0..=1.0"), "{msg}");
    let msg = file("judge = ").unwrap_err().to_string();
    assert!(msg.contains("cannot read /ws/judge.toml"), "{msg}");
}

#[test]
fn a_bad_judge_spec_names_its_source() {
    let e = env(&[("JUDGE_MODEL", "gpt-4")]).unwrap();
    let msg = resolve(e, Layer::default(), AttributeSettings::default()).unwrap_err().to_string();
    assert!(msg.contains("\"gpt-4\" (from JUDGE_MODEL)"), "{msg}");
}

#[test]
fn workspace_root_is_the_nearest_workspace_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let member = dir.path().join("crates/app");
    std::fs::create_dir_all(&member).unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = [\"crates/app\"]\n").unwrap();
    std::fs::write(member.join("Cargo.toml"), "[package]\nname = \"app\"\n").unwrap();
    assert_eq!(workspace_root(&member), dir.path());
    let lone = tempfile::tempdir().unwrap();
    assert_eq!(workspace_root(lone.path()), lone.path());
}

#[test]
fn compare_with_and_its_old_name_baseline_set_a_sections_comparison() {
    for key in ["compare_with", "baseline"] {
        let f = file(&format!("judge = \"openai:m\"\n[evals.\"evals::y\"]\n{key} = \"The old answer.\"\n")).unwrap();
        let settings = Settings::from_layers(Layer::default(), f, Path::new("/ws"));
        let y = settings.eval("evals::y", AttributeSettings::default(), None).unwrap();
        assert_eq!(y.compare_with.as_deref(), Some("The old answer."), "{key}");
        assert_eq!((y.reduce.rule, y.threshold), (Reduce::Mean, DEFAULT_COMPARISON_THRESHOLD), "{key}");
        // Either name is an eval's setting, and an error names the key as written.
        let msg = file(&format!("{key} = \"x\"")).unwrap_err().to_string();
        assert!(msg.contains(&format!("key `{key}` belongs to one eval")), "{msg}");
        let msg = file(&format!("[evals.\"evals::y\"]\n{key} = \"\"\n")).unwrap_err().to_string();
        assert!(msg.contains(&format!("evals.\"evals::y\".{key}` is empty")), "{msg}");
    }
}

#[test]
fn each_resolved_value_knows_its_source() {
    let e = env(&[("JUDGE_THRESHOLD", "0.5")]).unwrap();
    let f = file("judge = \"openai:m\"\nsamples = 3\n[evals.\"evals::y\"]\nsamples = 4\n").unwrap();
    let settings = Settings::from_layers(e, f, Path::new("/ws"));
    let x = settings.eval("evals::x", AttributeSettings::default(), None).unwrap();
    assert_eq!(
        x.sources.describe(),
        "judge: judge.toml: judge, threshold: JUDGE_THRESHOLD, samples: judge.toml: samples"
    );
    let y = settings.eval("evals::y", AttributeSettings { threshold: Some(0.9), ..Default::default() }, None).unwrap();
    assert_eq!(y.sources.samples.to_string(), "`evals.\"evals::y\".samples` in /ws/judge.toml");
    assert_eq!(y.sources.threshold.label(), "attribute");
    let defaults = Settings::from_layers(Layer::default(), file("judge = \"openai:m\"").unwrap(), Path::new("/ws"));
    let z = defaults.eval("evals::z", AttributeSettings::default(), None).unwrap();
    assert_eq!((z.sources.threshold.label(), z.sources.samples.label()), ("default".to_owned(), "default".to_owned()));
}

#[test]
fn typed_levels_and_judges_from_code_are_checked_by_the_rules() {
    let settings = Settings::from_layers(Layer::default(), Layer::default(), Path::new("/ws"));
    let band = |min, max| Band { min, max, description: std::borrow::Cow::Borrowed("x") };
    let judge = spec("openai:m");
    let good = [band(0, 4), band(5, 10)];
    let attr = AttributeSettings { judge: Some(&judge), levels: Some(&good), ..Default::default() };
    assert_eq!(settings.eval("evals::x", attr, None).unwrap().levels.map(|l| l.iter().count()), Some(2));
    let gap = [band(0, 4), band(6, 10)];
    let msg = settings
        .eval("evals::x", AttributeSettings { judge: Some(&judge), levels: Some(&gap), ..Default::default() }, None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("attribute `levels` of evals::x") && msg.contains("level 2 (\"6-10\")"), "{msg}");
    let twice = [spec("openai:a"), spec("openai:a")];
    let msg =
        settings.eval("evals::x", AttributeSettings { judges: Some(&twice), ..Default::default() }, None).unwrap_err();
    assert!(msg.to_string().contains("named twice in the ensemble"), "{msg}");
}

#[test]
fn attribute_values_read_by_their_kind_go_through_the_settings_readers() {
    let settings = Settings::from_layers(Layer::default(), Layer::default(), Path::new("/ws"));
    let judge = spec("openai:m");
    let eval = |by_kind: &[(&str, AttributeValue)]| {
        settings.eval("evals::x", AttributeSettings { judge: Some(&judge), by_kind, ..Default::default() }, None)
    };
    let fail = eval(&[("on_tie", AttributeValue::Text("fail"))]).unwrap();
    assert_eq!(fail.values.on_tie, judge_rules::words::OnTie::Fail);
    assert_eq!(eval(&[]).unwrap().values.on_tie, judge_rules::words::OnTie::Pass, "the declared default");
    // Code the macro did not write is checked as the environment's values are.
    let msg = eval(&[("on_tie", AttributeValue::Text("never"))]).unwrap_err().to_string();
    assert!(msg.contains("attribute `on_tie` of evals::x") && msg.contains("\"never\""), "{msg}");
    let msg = eval(&[("on_tie", AttributeValue::Number(1.0))]).unwrap_err().to_string();
    assert!(msg.contains("must be a string"), "{msg}");
    let msg = eval(&[("rubric", AttributeValue::Text("r"))]).unwrap_err().to_string();
    assert!(msg.contains("`rubric` is not a setting the attribute takes by its kind"), "{msg}");
}
