//! The OpenAI provider against llama-cpp-python's server, an OpenAI-compatible server that nobody
//! here wrote, serving the embedded judge's model. Needs `pip install -r
//! tests/requirements-llama-server.txt` and `scripts/install-local-judge`; without them these
//! tests skip, except in CI where they fail.
//!
//! What the pinned server does with our requests (see the provider's fallback): it rejects
//! `response_format` `json_schema` (its request type allows only `text` and `json_object`) with an
//! HTTP 500 whose message names `json_schema`; it takes `{"type": "json_object", "schema": …}`
//! instead and constrains the reply with a grammar built from the schema (shape and key order,
//! though not the score's `minimum`/`maximum`); and it returns OpenAI's
//! `choices[0].logprobs.content[*].top_logprobs`, taken before the grammar applies.

use std::path::Path;

use judge_runtime::local_model;
use judge_tests::{HarnessRun, LlamaServer, harness, llama_cpp_python_installed};
use serde_json::{Value, json};

use crate::common::{exact_args, exact_args_of, in_ci};

const ALIAS: &str = "smollm2-judge";

/// A started server, or `None` (after saying why) when a test should skip. Its log is kept in
/// cargo's target/tmp, named after `test`.
fn start_server(test: &str) -> Option<LlamaServer> {
    let model = local_model::default_model_path().filter(|p| p.is_file());
    let missing = if !llama_cpp_python_installed() {
        Some("llama-cpp-python's server is not installed (pip install -r tests/requirements-llama-server.txt)")
    } else if model.is_none() {
        Some("the embedded judge's model is not installed (scripts/install-local-judge)")
    } else {
        None
    };
    if let Some(missing) = missing {
        assert!(!in_ci(), "{missing}: CI must install it");
        eprintln!("SKIPPED: {missing}");
        return None;
    }
    let model = model.expect("checked above");
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("llama-server-{test}.log"));
    let server = LlamaServer::start(&model, ALIAS, &log)
        .unwrap_or_else(|e| panic!("llama-cpp-python's server did not start: {e}"));
    Some(server)
}

/// The verdict schema the judge sends on the default 0–10 scale.
fn verdict_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "rationale": {"type": "string", "description": "The reasons for the score, written before choosing it."},
            "score": {"type": "integer", "minimum": 0, "maximum": 10, "description": "The grade, from 0 (worst) to 10 (best)."}
        },
        "required": ["rationale", "score"],
        "additionalProperties": false
    })
}

fn chat_request(response_format: Value) -> Value {
    json!({
        "model": ALIAS,
        "messages": [
            {"role": "system", "content": "You are a strict grader. Reply with a JSON object: a rationale, then an integer score from 0 (wrong) to 10 (right)."},
            {"role": "user", "content": "Question: What is the capital of France?\nReference answer: Paris\nAnswer to grade: Paris is the capital of France.\nGrade the answer."}
        ],
        "temperature": 0.0,
        "response_format": response_format,
        "logprobs": true,
        "top_logprobs": 10
    })
}

/// Checks that a 200 reply is a verdict with token logprobs, and says what it holds.
fn assert_verdict_with_logprobs(reply: &Value, server: &LlamaServer) {
    let choice = &reply["choices"][0];
    let content = choice["message"]["content"].as_str().unwrap_or_else(|| panic!("no content: {reply}"));
    let verdict: Value = serde_json::from_str(content)
        .unwrap_or_else(|e| panic!("the content is not JSON ({e}): {content}\n{}", server.log()));
    assert!(verdict["rationale"].is_string(), "no string rationale: {content}");
    assert!(verdict["score"].is_i64(), "no integer score: {content}");
    let tokens = choice["logprobs"]["content"].as_array().unwrap_or_else(|| panic!("no logprobs.content: {reply}"));
    assert!(!tokens.is_empty(), "{reply}");
    for token in tokens {
        assert!(token["token"].is_string() && token["logprob"].is_f64(), "{token}");
        let top = token["top_logprobs"].as_array().unwrap_or_else(|| panic!("no top_logprobs: {token}"));
        // The ten most likely, and the chosen token after them when it is not among them.
        assert!((1..=11).contains(&top.len()), "{token}");
        assert!(top.iter().all(|alt| alt["token"].is_string() && alt["logprob"].is_f64()), "{token}");
    }
    let text: String = tokens.iter().filter_map(|t| t["token"].as_str()).collect();
    assert!(text.contains("\"score\""), "the tokens do not spell the score's key: {text}");
    let shown: Vec<&str> = tokens.iter().filter_map(|t| t["token"].as_str()).collect();
    eprintln!("content: {content}\ntokens: {shown:?}\nfirst token: {}", tokens[0]);
}

#[test]
fn the_raw_protocol_gives_a_verdict_with_token_logprobs() {
    let Some(server) = start_server("raw_protocol") else { return };
    let json_schema = json!({
        "type": "json_schema",
        "json_schema": {"name": "verdict", "strict": true, "schema": verdict_schema()}
    });
    let reply = server.post_json("/chat/completions", &chat_request(json_schema)).unwrap();
    eprintln!("json_schema: HTTP {}: {}", reply.status, reply.body.chars().take(600).collect::<String>());
    if reply.status == 200 {
        assert_verdict_with_logprobs(&reply.json(), &server);
        return;
    }
    // The provider falls back to JSON mode with the schema when the error names `json_schema`.
    let message = reply.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("json_schema"), "HTTP {}: {}\n{}", reply.status, reply.body, server.log());
    let json_object = json!({"type": "json_object", "schema": verdict_schema()});
    let reply = server.post_json("/chat/completions", &chat_request(json_object)).unwrap();
    eprintln!("json_object with schema: HTTP {}", reply.status);
    assert_eq!(reply.status, 200, "{}\n{}", reply.body, server.log());
    assert_verdict_with_logprobs(&reply.json(), &server);
}

#[test]
fn a_harness_run_is_judged_by_the_server() {
    let Some(server) = start_server("harness_run") else { return };
    let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
    command
        .env("JUDGE_MODEL", format!("openai:{}", server.alias()))
        .env("OPENAI_BASE_URL", server.base_url())
        .env("JUDGE_CACHE", "off")
        .env("JUDGE_THRESHOLD", "1.0")
        .env("JUDGE_RATIONALES", "all")
        .args(exact_args(&["passes"]));
    let run = HarnessRun::of(&mut command);
    eprintln!("{}", run.all());
    let context = || format!("{}\n{}", run.all(), server.log());
    assert!(!run.stdout.contains("could not be scored"), "{}", context());
    // SmolLM2-135M is no reliable grader: what is checked is that its verdict was read, not its score.
    let scored = match run.code {
        Some(0) => run.has_outcome("suite_basic::passes", "ok"),
        Some(101) => run.stdout.contains("scored ") && run.stdout.contains("below the threshold"),
        _ => false,
    };
    assert!(scored, "{}", context());
}

#[test]
fn every_technique_that_asks_for_text_is_understood_by_the_server() {
    let Some(server) = start_server("techniques") else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut command = harness(env!("CARGO_BIN_EXE_example-techniques"));
    command
        .env("JUDGE_MODEL", format!("openai:{}", server.alias()))
        .env("OPENAI_BASE_URL", server.base_url())
        .env("JUDGE_CACHE", "off")
        .env("JUDGE_RATIONALES", "all")
        .env("JUDGE_REPORT_JSON", dir.path().join("techniques.json"));
    let evals = ["clock_hands_levels", "refund_criteria", "capital_vs_previous", "clock_hands_steps"];
    command.args(exact_args_of(Path::new(env!("CARGO_BIN_EXE_example-techniques")), &evals));
    let run = HarnessRun::of(&mut command);
    eprintln!("{}", run.all());
    let context = || format!("{}\n{}", run.all(), server.log());
    assert!(matches!(run.code, Some(0 | 101)), "{}", context());
    // Criteria, both orders of a comparison and generated steps: every reply was read (the server
    // constrains it with a grammar built from our schemas). SmolLM2-135M's grades are not checked.
    let report = crate::common::read_report(&dir.path().join("techniques.json"));
    let status = |eval: &str| {
        let record = crate::common::eval_named(&report, eval);
        (record["status"].as_str().unwrap().to_owned(), record["message"].as_str().unwrap_or_default().to_owned())
    };
    for eval in ["refund_criteria", "capital_vs_previous", "clock_hands_steps"] {
        let (status, message) = status(eval);
        assert!(status == "passed" || status == "failed", "{eval}: {status}: {message}\n{}", context());
    }
    // The grammar cannot tie the score to the level named, and this small model does not either:
    // its replies are read, and a score outside its level is caught and asked again.
    let (status, message) = status("clock_hands_levels");
    assert!(
        status != "error" || message.contains("outside the level"),
        "clock_hands_levels: {status}: {message}\n{}",
        context()
    );
}

#[test]
fn synthetic_pairs_are_generated_and_judged_by_the_server() {
    let Some(server) = start_server("synthetic") else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut command = harness(env!("CARGO_BIN_EXE_suite-synthetic"));
    // Three rows, each a pair to generate (the reply constrained by the grammar of our schema)
    // and two answers to grade.
    command
        .env("JUDGE_MODEL", format!("openai:{}", server.alias()))
        .env("OPENAI_BASE_URL", server.base_url())
        .env("JUDGE_CACHE", "off")
        .env("JUDGE_VALIDATE", "synthetic")
        .env("JUDGE_REPORT_JSON", dir.path().join("synthetic.json"))
        .env("INSTA_WORKSPACE_ROOT", dir.path())
        .env("INSTA_UPDATE", "new")
        .args(["--exact", "suite_synthetic::outputs::synthetic"]);
    let run = HarnessRun::of(&mut command);
    eprintln!("{}", run.all());
    let context = || format!("{}\n{}", run.all(), server.log());
    assert_eq!(run.code, Some(0), "no gate, so nothing fails: {}", context());
    // SmolLM2-135M is no reliable generator nor grader: what is checked is that every row's pair
    // was read (or dropped for a stated reason) and every kept pair judged.
    let report = crate::common::read_report(&dir.path().join("synthetic.json"));
    let record = crate::common::eval_named(&report, "outputs::synthetic");
    assert_eq!(record["status"], "passed", "{}", context());
    let synthetic = &record["synthetic"];
    let dropped: u64 = synthetic["dropped"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(synthetic["pairs"].as_u64().unwrap() + dropped, 3, "{synthetic}\n{}", context());
    let snapshot = crate::common::snapshot_dir(dir.path()).join("suite_synthetic__outputs@@synthetic.snap.new");
    assert!(snapshot.is_file(), "the pairs are kept for review: {}", context());
}
