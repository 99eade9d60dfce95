//! The fake judge over real HTTP, with a plain HTTP client.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;

/// A user message as the judge client renders it.
fn prompt(output: &str) -> String {
    format!(
        "## Rubric\nSays how often the hands overlap.\n\n## Input given to the AI system\nHow often?\n\n\
         ## Reference answer (written by the developers; correct)\n22 times\n\n## Output under evaluation\n\
         <output-0123456789abcdef>\n{output}\n</output-0123456789abcdef>\n\n## Your task\nReply with a JSON \
         object with two fields, in this order: \"rationale\", a string giving your reasons, then \"score\", \
         an integer from 0 (worst) to 10 (best)."
    )
}

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "rationale": { "type": "string" },
            "score": { "type": "integer", "minimum": 0, "maximum": 10 }
        },
        "required": ["rationale", "score"],
        "additionalProperties": false
    })
}

fn openai_body(output: &str) -> Value {
    json!({
        "model": "fake-judge",
        "messages": [{ "role": "system", "content": "Be strict." }, { "role": "user", "content": prompt(output) }],
        "response_format": {
            "type": "json_schema",
            "json_schema": { "name": "verdict", "strict": true, "schema": schema() }
        },
        "temperature": 0.0
    })
}

fn anthropic_body(messages: Value) -> Value {
    json!({
        "model": "claude-fake",
        "max_tokens": 1024,
        "system": "Be strict.",
        "messages": messages,
        "tools": [{ "name": "verdict", "description": "Record the verdict.", "input_schema": schema() }],
        "tool_choice": { "type": "tool", "name": "verdict" }
    })
}

async fn post(judge: &FakeJudge, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/chat/completions", judge.base_url()))
        .header("authorization", "Bearer sk-test")
        .json(body)
        .send()
        .await
        .expect("the fake judge answers")
}

async fn post_anthropic(judge: &FakeJudge, key: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/v1/messages", judge.anthropic_base_url()))
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
        .json(body)
        .send()
        .await
        .expect("the fake judge answers")
}

fn content(reply: &Value) -> &str {
    reply["choices"][0]["message"]["content"].as_str().expect("a message content")
}

#[tokio::test]
async fn answers_a_judge_request_with_a_verdict() {
    let judge = FakeJudge::start();
    let response = post(&judge, &openai_body("They overlap 22 times a day.")).await;
    assert_eq!(response.status(), 200);
    let reply: Value = response.json().await.unwrap();
    let verdict: Value = serde_json::from_str(content(&reply)).unwrap();
    assert_eq!(verdict["score"], 10);
    assert_eq!((judge.requests(), judge.verdicts(), judge.rejected()), (1, 1, 0));
    assert_eq!(judge.bodies(), [openai_body("They overlap 22 times a day.")]);
    assert_eq!(judge.authorizations().into_iter().collect::<Vec<_>>(), ["Bearer sk-test"]);
    assert_eq!(judge.status_counts(), [(200, 1)].into());
}

#[tokio::test]
async fn plain_text_mode_wraps_the_verdict_in_prose() {
    let judge = FakeJudge::start();
    let mut body = openai_body("[score:6]");
    body.as_object_mut().unwrap().remove("response_format");
    let reply: Value = post(&judge, &body).await.json().await.unwrap();
    let text = content(&reply);
    assert!(text.starts_with("Here is my verdict:\n```json\n{"), "{text}");
    assert!(text.contains(r#""score":6}"#), "{text}");

    // Without a schema, the prompt must state the range.
    let unstated = prompt("[score:6]").replace("from 0 (worst) to 10 (best)", "out of ten");
    body["messages"][1]["content"] = json!(unstated);
    let response = post(&judge, &body).await;
    assert_eq!(response.status(), 400);
    assert_eq!(judge.rejected(), 1);
}

#[tokio::test]
async fn a_rejected_feature_gets_an_openai_error_naming_it() {
    let config = FakeJudgeConfig { rejects: Rejects::reasoning_model(), ..Default::default() };
    let judge = FakeJudge::start_with(config);
    let response = post(&judge, &openai_body("[score:6]")).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["param"], "temperature");
    assert_eq!(error["error"]["code"], "unsupported_parameter");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    let mut body = openai_body("[score:6]");
    body.as_object_mut().unwrap().remove("temperature");
    body["max_completion_tokens"] = json!(200);
    assert_eq!(post(&judge, &body).await.status(), 200);
    assert_eq!(judge.bodies().len(), 2);
    assert_eq!(judge.rejected(), 1);
}

#[tokio::test]
async fn a_truncated_body_fails_on_the_client() {
    let judge = FakeJudge::start_with(FakeJudgeConfig {
        faults: Faults { rate_truncated: 1.0, ..Faults::default() },
        ..Default::default()
    });
    let response = post(&judge, &openai_body("[score:6]")).await;
    assert_eq!(response.status(), 200);
    let error = response.text().await.expect_err("the body is cut");
    assert!(error.is_body() || error.is_decode(), "{error:?}");
    assert_eq!(judge.faults(), [("truncated", 1)].into());
    assert_eq!(judge.faults_injected(), 1);
}

#[tokio::test]
async fn broken_bodies_are_what_they_claim_not_to_be() {
    let judge = FakeJudge::start_with(FakeJudgeConfig {
        faults: Faults { rate_malformed_json: 1.0, max_consecutive: 1, ..Faults::default() },
        ..Default::default()
    });
    let response = post(&judge, &openai_body("[score:6]")).await;
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(serde_json::from_str::<Value>(&response.text().await.unwrap()).is_err());
    // One fault in a row at most: the retry gets through.
    assert_eq!(post(&judge, &openai_body("[score:6]")).await.status(), 200);
    assert_eq!(judge.verdicts(), 1);

    let html = FakeJudge::start_with(FakeJudgeConfig {
        faults: Faults { rate_wrong_content_type: 1.0, ..Faults::default() },
        ..Default::default()
    });
    let response = post(&html, &openai_body("[score:6]")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
}

#[tokio::test]
async fn injected_429s_carry_retry_after_and_stop_after_max_consecutive() {
    let judge = FakeJudge::start_with(FakeJudgeConfig {
        faults: Faults { rate_429: 1.0, retry_after: Some("1".into()), max_consecutive: 2, ..Faults::default() },
        ..Default::default()
    });
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = post(&judge, &openai_body("[score:6]")).await;
        if response.status() == 429 {
            assert_eq!(response.headers()["retry-after"], "1");
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [429, 429, 200]);
    assert_eq!(judge.status_counts(), [(200, 1), (429, 2)].into());
}

#[tokio::test]
async fn malformed_verdicts_end_by_the_third_ask() {
    let judge = FakeJudge::start_with(FakeJudgeConfig {
        faults: Faults { rate_malformed_verdict: 1.0, ..Faults::default() },
        ..Default::default()
    });
    let mut body = openai_body("[score:6]");
    for ask in 0..3 {
        let reply: Value = post(&judge, &body).await.json().await.unwrap();
        let text = content(&reply).to_owned();
        let is_verdict = serde_json::from_str::<Value>(&text).is_ok();
        assert_eq!(is_verdict, ask == 2, "ask {ask}: {text}");
        let messages = body["messages"].as_array_mut().unwrap();
        messages.push(json!({ "role": "assistant", "content": text }));
        messages.push(json!({ "role": "user", "content": "Reply again with only a JSON object." }));
    }
    assert_eq!(judge.faults(), [("malformed_verdict", 2)].into());
}

#[tokio::test]
async fn a_stall_outlasts_the_client_and_not_the_server() {
    let judge = FakeJudge::start_with(FakeJudgeConfig {
        faults: Faults { rate_stall: 1.0, stall: Duration::from_secs(600), ..Faults::default() },
        ..Default::default()
    });
    let client = reqwest::Client::builder().timeout(Duration::from_millis(200)).build().unwrap();
    let url = format!("{}/chat/completions", judge.base_url());
    let error = client.post(url).json(&openai_body("[score:6]")).send().await.expect_err("times out");
    assert!(error.is_timeout(), "{error:?}");
    let start = Instant::now();
    drop(judge);
    assert!(start.elapsed() < Duration::from_secs(10), "stopping waited for the stall");
}

#[tokio::test]
async fn a_wrong_key_is_echoed_and_quota_is_final() {
    let judge = FakeJudge::start_with(FakeJudgeConfig { require_key: Some("sk-right".into()), ..Default::default() });
    let response = post(&judge, &openai_body("[score:6]")).await;
    assert_eq!(response.status(), 401);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["message"], "Incorrect API key provided: sk-test.");
    let response = post_anthropic(&judge, "sk-secret-anthropic", &anthropic_body(json!([]))).await;
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("sk-secret-anthropic"));
    assert!(judge.authorizations().contains("sk-secret-anthropic"));

    let broke = FakeJudge::start_with(FakeJudgeConfig { quota_exhausted: true, ..Default::default() });
    let response = post(&broke, &openai_body("[score:6]")).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().get("retry-after").is_none());
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "insufficient_quota");
}

#[tokio::test]
async fn the_rate_limit_is_per_key() {
    let judge = FakeJudge::start_with(FakeJudgeConfig {
        rate_limit: Some(RateLimit { requests: 2, window: Duration::from_secs(30) }),
        ..Default::default()
    });
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(post(&judge, &openai_body("[score:6]")).await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429]);
    let response = post(&judge, &openai_body("[score:6]")).await;
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((29..=30).contains(&retry_after), "{retry_after}");
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "rate_limit_exceeded");
    // Another key has its own allowance.
    let other = anthropic_body(json!([{ "role": "user", "content": prompt("x") }]));
    assert_eq!(post_anthropic(&judge, "sk-other", &other).await.status(), 200);
    assert_eq!(judge.rate_limited(), 2);
}

#[tokio::test]
async fn the_anthropic_endpoint_calls_the_verdict_tool() {
    let judge = FakeJudge::start();
    let body = anthropic_body(json!([{ "role": "user", "content": prompt("[score:7]") }]));
    let response = post_anthropic(&judge, "sk-ant", &body).await;
    assert_eq!(response.status(), 200);
    let reply: Value = response.json().await.unwrap();
    assert_eq!(reply["type"], "message");
    assert_eq!(reply["stop_reason"], "tool_use");
    assert_eq!(reply["model"], "claude-fake");
    let call = &reply["content"][0];
    assert_eq!((&call["type"], &call["name"]), (&json!("tool_use"), &json!("verdict")));
    assert_eq!(call["input"]["score"], 7);
    assert!(reply["usage"]["input_tokens"].as_u64().unwrap() > 0);
    assert_eq!(judge.models().into_iter().collect::<Vec<_>>(), ["claude-fake"]);
    assert_eq!(judge.judged_outputs(), ["[score:7]"]);

    // Strict: without anthropic-version, a 400 in Anthropic's error format.
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", judge.anthropic_base_url()))
        .header("x-api-key", "sk-ant")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!((&error["type"], &error["error"]["type"]), (&json!("error"), &json!("invalid_request_error")));
    assert_eq!(judge.rejected(), 1);
}

#[tokio::test]
async fn anthropic_faults_use_anthropic_errors() {
    let judge = FakeJudge::start_with(FakeJudgeConfig {
        faults: Faults { rate_529: 1.0, max_consecutive: 1, ..Faults::default() },
        ..Default::default()
    });
    let body = anthropic_body(json!([{ "role": "user", "content": prompt("[score:7]") }]));
    let response = post_anthropic(&judge, "sk-ant", &body).await;
    assert_eq!(response.status(), 529);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error, json!({ "type": "error", "error": { "type": "overloaded_error", "message": "Overloaded" } }));
    assert_eq!(post_anthropic(&judge, "sk-ant", &body).await.status(), 200);

    let unreadable = FakeJudge::start_with(FakeJudgeConfig {
        faults: Faults { rate_malformed_verdict: 1.0, ..Faults::default() },
        ..Default::default()
    });
    let reply: Value = post_anthropic(&unreadable, "sk-ant", &body).await.json().await.unwrap();
    let input = &reply["content"][0]["input"];
    assert!(input["rationale"].is_string() && input.get("score").is_none(), "{reply}");
    // A re-ask answers the tool call with its result.
    let reask = anthropic_body(json!([
        { "role": "user", "content": prompt("[score:7]") },
        { "role": "assistant", "content": reply["content"] },
        { "role": "user", "content": [
            { "type": "tool_result", "tool_use_id": "toolu_fake", "content": "no score", "is_error": true },
            { "type": "text", "text": "Call the tool again, with a score." }
        ] }
    ]));
    assert_eq!(post_anthropic(&unreadable, "sk-ant", &reask).await.status(), 200);
    let unanswered = anthropic_body(json!([
        { "role": "user", "content": prompt("[score:7]") },
        { "role": "assistant", "content": reply["content"] },
        { "role": "user", "content": "Again." }
    ]));
    assert_eq!(post_anthropic(&unreadable, "sk-ant", &unanswered).await.status(), 400);
}

#[test]
#[should_panic(expected = "not in 0.0..=1.0")]
fn a_rate_above_one_is_refused_at_start() {
    FakeJudge::start_with(FakeJudgeConfig {
        faults: Faults { rate_500: 2.0, ..Faults::default() },
        ..Default::default()
    });
}
