//! Providers over their real wire formats: Anthropic's forced tool call, the OpenAI-compatible
//! presets, what servers reject (learned once per run), and generation parameters.

use judge_tests::{FakeJudge, FakeJudgeConfig, HarnessRun, Rejects};

use crate::common::{hostile, run_exact, suite};

#[test]
fn anthropic_judges_through_a_forced_tool_call() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command
        .env("JUDGE_MODEL", "anthropic:claude-fake")
        .env("ANTHROPIC_BASE_URL", judge.anthropic_base_url())
        .env("ANTHROPIC_API_KEY", "anthropic-test-key");
    let run = run_exact(command, &["passes", "trimmed_seven", "malformed_once", "score_six"]);
    assert!(run.has_outcome("suite_basic::passes", "ok"), "{}", run.all());
    assert!(run.has_outcome("suite_basic::trimmed_seven", "ok"), "{}", run.all());
    assert!(run.has_outcome("suite_basic::malformed_once", "ok"), "a re-ask over the Messages API:\n{}", run.all());
    assert!(run.has_outcome("suite_basic::score_six", "FAILED"), "{}", run.all());
    assert!(run.stdout.contains("judge:     anthropic:claude-fake"), "{}", run.all());
    assert_eq!(judge.rejected(), 0, "every request was a valid Messages API request");
    assert!(judge.authorizations().contains("anthropic-test-key"));
    let body = judge.bodies().into_iter().next().unwrap();
    assert_eq!(body["tool_choice"]["type"], "tool");
    assert_eq!(body["max_tokens"], 1024, "the Messages API needs max_tokens; the default is sent");
    assert!(body["system"].as_str().unwrap().contains("untrusted data"));
}

#[test]
fn openai_compatible_presets_differ_only_in_url_and_key() {
    let judge = FakeJudge::start();
    let host = judge.base_url().trim_start_matches("http://").trim_end_matches("/v1").to_owned();
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("ollama:qwen2.5:7b", vec![("OLLAMA_HOST", host)], None),
        (
            "vllm:served",
            vec![("VLLM_BASE_URL", judge.base_url()), ("VLLM_API_KEY", "vllm-key".into())],
            Some("Bearer vllm-key"),
        ),
        (
            "openrouter:vendor/model",
            vec![("OPENROUTER_BASE_URL", judge.base_url()), ("OPENROUTER_API_KEY", "router-key".into())],
            Some("Bearer router-key"),
        ),
    ];
    for (spec, vars, authorization) in cases {
        let cache = tempfile::tempdir().unwrap();
        let mut command = suite(&judge, cache.path());
        command.env("JUDGE_MODEL", spec).env_remove("OPENAI_BASE_URL");
        for (name, value) in vars {
            command.env(name, value);
        }
        let run = run_exact(command, &["passes"]);
        assert_eq!(run.code, Some(0), "{spec}: {}", run.all());
        let model = spec.split_once(':').unwrap().1;
        assert!(judge.models().contains(model), "{spec}: {:?}", judge.models());
        if let Some(authorization) = authorization {
            assert!(judge.authorizations().contains(authorization), "{spec}: {:?}", judge.authorizations());
        }
    }
    assert_eq!(judge.authorizations().len(), 2, "ollama sends no key: {:?}", judge.authorizations());
}

/// Runs `evals` one request at a time (so each rejection is learned before the next request)
/// against a server that rejects `rejects`.
fn against(rejects: Rejects, evals: &[&str], extra_env: &[(&str, &str)]) -> (FakeJudge, HarnessRun) {
    let judge = FakeJudge::start_with(FakeJudgeConfig { rejects, ..Default::default() });
    let cache = tempfile::tempdir().unwrap();
    let mut command = suite(&judge, cache.path());
    command.env("JUDGE_MAX_CONCURRENCY", "1");
    for (name, value) in extra_env {
        command.env(name, value);
    }
    let run = run_exact(command, evals);
    (judge, run)
}

#[test]
fn structured_output_steps_down_to_json_mode_then_plain_text_once_per_run() {
    let evals = ["passes", "static_str", "async_result", "trimmed_seven"];
    let rejects = Rejects { json_schema: true, json_object: true, ..Rejects::default() };
    let (judge, run) = against(rejects, &evals, &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.rejected(), 2, "json_schema, then json_object, each refused once:\n{}", run.all());
    assert!(
        run.stderr.contains("rejected `json_schema`") && run.stderr.contains("rejected JSON mode"),
        "{}",
        run.all()
    );
    let bodies = judge.bodies();
    assert_eq!(bodies[0]["response_format"]["type"], "json_schema");
    assert_eq!(bodies[1]["response_format"]["type"], "json_object");
    assert!(bodies[2..].iter().all(|b| b.get("response_format").is_none()), "plain text from then on");

    // A server that takes JSON mode stops there.
    let (judge, run) = against(Rejects { json_schema: true, ..Rejects::default() }, &evals, &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.rejected(), 1);
    assert!(judge.bodies()[1..].iter().all(|b| b["response_format"]["type"] == "json_object"));
}

#[test]
fn a_reasoning_model_gets_no_temperature_logprobs_or_max_tokens() {
    let rejects = Rejects { schema_bounds: true, seed: true, ..Rejects::reasoning_model() };
    let evals = ["passes", "static_str", "async_result", "weighted"];
    let (judge, run) = against(rejects, &evals, &[("JUDGE_MAX_TOKENS", "300"), ("JUDGE_SEED", "5")]);
    assert!(run.has_outcome("suite_basic::passes", "ok"), "{}", run.all());
    assert_eq!(run.code, Some(0), "{}", run.all());
    let bodies = judge.bodies();
    let last = bodies.last().unwrap();
    for dropped in ["temperature", "max_tokens", "logprobs", "top_logprobs", "seed"] {
        assert!(last.get(dropped).is_none(), "{dropped} still sent: {last}");
    }
    assert_eq!(last["max_completion_tokens"], 300);
    let score = &last["response_format"]["json_schema"]["schema"]["properties"]["score"];
    assert!(score.get("minimum").is_none() && score.get("maximum").is_none(), "{score}");
    let user = last["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("from 0 (worst) to 10 (best)"), "the range stays in the prompt");
    // Five parts were refused, each once: later evals sent none of them.
    let shapes: Vec<String> = bodies
        .iter()
        .map(|b| {
            let keys: Vec<&String> = b.as_object().unwrap().keys().filter(|k| *k != "messages").collect();
            format!("{keys:?} {}", b["response_format"]["json_schema"]["schema"]["properties"]["score"])
        })
        .collect();
    assert_eq!(judge.rejected(), 5, "{}\n{shapes:#?}", run.all());
    assert_eq!(bodies.len(), 5 + 5, "four evals, five samples");
}

#[test]
fn generation_parameters_reach_the_request_and_the_cache_key() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(hostile(&judge, cache.path()), &["with_parameters"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let body = judge.bodies().pop().unwrap();
    assert_eq!((&body["temperature"], &body["max_tokens"], &body["seed"]), (&0.5.into(), &200.into(), &7.into()));

    // From judge.toml, for evals whose attribute is silent; another temperature is another
    // verdict, another timeout is not.
    let config = cache.path().join("params.toml");
    let with = |temperature: f64, timeout: u32| {
        std::fs::write(&config, format!("temperature = {temperature}\ntimeout = {timeout}\n")).unwrap();
        let mut command = suite(&judge, cache.path());
        command.env("JUDGE_CONFIG", &config);
        let run = run_exact(command, &["passes"]);
        assert_eq!(run.code, Some(0), "{}", run.all());
        judge.requests()
    };
    assert_eq!(with(0.2, 30), 2);
    assert_eq!(judge.bodies().pop().unwrap()["temperature"], 0.2);
    assert_eq!(with(0.2, 60), 2, "the timeout does not decide a verdict: cached");
    assert_eq!(with(0.3, 60), 3, "the temperature does: judged again");
}

/// After a server refuses a part of the request, the verdict is cached under the key of the request
/// as sent, and the refusals are kept in the cache beside it: a replay (no server) computes the
/// same key; without the kept refusals the key is the full request's, which was never answered.
#[test]
fn the_cache_key_holds_what_was_sent_and_the_refusals_are_kept_with_the_verdicts() {
    let cache = tempfile::tempdir().unwrap();
    {
        let judge = FakeJudge::start_with(FakeJudgeConfig {
            rejects: Rejects { temperature: true, logprobs: true, ..Rejects::default() },
            ..Default::default()
        });
        let mut command = suite(&judge, cache.path());
        command.env("JUDGE_MAX_CONCURRENCY", "1");
        let run = run_exact(command, &["passes", "weighted"]);
        assert_eq!(run.code, Some(0), "{}", run.all());
        assert_eq!(judge.rejected(), 2, "temperature, then logprobs: {}", run.all());
        let last = judge.bodies().pop().unwrap();
        assert!(last.get("temperature").is_none() && last.get("logprobs").is_none(), "{last}");
    }
    let entries = crate::common::files(cache.path());
    let kept: Vec<_> =
        entries.iter().filter(|f| std::fs::read_to_string(f).unwrap().contains("\"refused\"")).cloned().collect();
    assert_eq!(kept.len(), 1, "one record of what openai:fake-judge refused: {entries:?}");
    let record = std::fs::read_to_string(&kept[0]).unwrap();
    assert!(record.contains("\"temperature\"") && record.contains("\"logprobs\""), "{record}");

    let replay = || {
        let mut command = judge_tests::harness(env!("CARGO_BIN_EXE_suite-basic"));
        command
            .env("JUDGE_MODEL", "openai:fake-judge")
            .env("JUDGE_CACHE", "replay")
            .env("JUDGE_CACHE_DIR", cache.path());
        run_exact(command, &["passes", "weighted"])
    };
    let run = replay();
    assert_eq!(run.code, Some(0), "the kept refusals give the keys of the requests as sent: {}", run.all());
    std::fs::remove_file(&kept[0]).unwrap();
    let run = replay();
    assert_eq!(run.code, Some(101), "{}", run.all());
    assert!(run.stdout.contains("JUDGE_CACHE=replay forbids judge calls"), "{}", run.all());
}
