//! Settings resolve attribute > environment > judge.toml > defaults, in a real run.

use judge_tests::{FakeJudge, HarnessRun, harness};

use crate::common::{run_exact, suite};

fn config(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::fs::write(file.path(), text).unwrap();
    file
}

#[test]
fn the_default_threshold_fails_a_six() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(suite(&judge, cache.path()), &["score_six"]);
    assert!(run.stdout.contains("scored 0.60, below the threshold 0.70"), "{}", run.all());
}

#[test]
fn the_file_sets_what_nothing_else_does() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let file = config("threshold = 0.5\n");
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_CONFIG", file.path());
    assert_eq!(run_exact(command, &["score_six"]).code, Some(0));
}

#[test]
fn the_file_can_name_the_judge() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let file = config("judge = \"openai:model-from-file\"\n");
    let mut command = suite(&judge, cache.path());
    command.env_remove("JUDGE_MODEL").env("JUDGE_CONFIG", file.path());
    let run = run_exact(command, &["passes"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.models().into_iter().collect::<Vec<_>>(), ["model-from-file"]);
}

#[test]
fn the_environment_beats_the_file() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let file = config("threshold = 0.5\njudge = \"openai:model-from-file\"\n");
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_CONFIG", file.path()).env("JUDGE_THRESHOLD", "0.65");
    let run = run_exact(command, &["score_six"]);
    assert!(run.stdout.contains("below the threshold 0.65"), "{}", run.all());
    assert_eq!(judge.models().into_iter().collect::<Vec<_>>(), ["fake-judge"], "JUDGE_MODEL beats the file");
}

#[test]
fn the_attribute_beats_the_environment() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_THRESHOLD", "0.9");
    let run = run_exact(command, &["score_six_attribute_threshold"]);
    assert_eq!(run.code, Some(0), "threshold = 0.5 beats JUDGE_THRESHOLD=0.9: {}", run.all());
    let run = run_exact(suite(&judge, cache.path()), &["judge_from_attribute"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(
        judge.models().into_iter().collect::<Vec<_>>(),
        ["attribute-model", "fake-judge"],
        "judge = \"openai:attribute-model\" beats JUDGE_MODEL"
    );
    assert_eq!(judge.requests(), 2);
}

#[test]
fn no_judge_configured_says_how_to_configure_one() {
    let cache = tempfile::tempdir().unwrap();
    // No embedded model either (one may be installed on this machine).
    let no_models = tempfile::tempdir().unwrap();
    let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
    command
        .env("JUDGE_CACHE_DIR", cache.path())
        .env("JUDGE_MODEL_DIR", no_models.path())
        .env("OPENAI_API_KEY", "sk-alone")
        .args(["--exact", "suite_basic::passes"]);
    let run = HarnessRun::of(&mut command);
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.stdout.contains("no judge is configured: set JUDGE_MODEL"), "{}", run.all());
    assert!(run.stdout.contains("an API key alone does not pick a model"), "{}", run.all());
}

#[test]
fn the_public_api_needs_a_key() {
    let cache = tempfile::tempdir().unwrap();
    let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
    command
        .env("JUDGE_CACHE_DIR", cache.path())
        .env("JUDGE_MODEL", "openai:gpt-4.1-mini")
        .args(["--exact", "suite_basic::passes"]);
    let run = HarnessRun::of(&mut command);
    assert!(run.stdout.contains("openai needs an API key: set OPENAI_API_KEY"), "{}", run.all());
}

#[test]
fn the_api_key_is_sent_as_a_bearer_token_and_never_shown() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("OPENAI_API_KEY", "sk-test-secret-4242");
    let run = run_exact(command, &["passes", "clock_hands"]);
    assert_eq!(judge.authorizations().into_iter().collect::<Vec<_>>(), ["Bearer sk-test-secret-4242"]);
    assert!(!run.all().contains("sk-test-secret"), "{}", run.all());
    for file in crate::common::files(cache.path()) {
        assert!(!std::fs::read_to_string(&file).unwrap().contains("sk-test-secret"), "{}", file.display());
    }
}

#[test]
fn bad_values_name_their_variable_or_key() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_SAMPLES", "many");
    let run = run_exact(command, &["passes"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("environment variable JUDGE_SAMPLES=\"many\" is invalid"), "{}", run.all());

    let file = config("samples = 0\n");
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_CONFIG", file.path());
    let run = run_exact(command, &["passes"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("key `samples` 0 is out of range"), "{}", run.all());

    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_MODEL", "gpt-4");
    let run = run_exact(command, &["passes"]);
    assert!(run.stdout.contains("judge \"gpt-4\" (from JUDGE_MODEL) is invalid"), "{}", run.all());
    assert_eq!(judge.requests(), 0);
}
