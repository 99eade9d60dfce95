//! A harness binary like a user's suite driven by datasets (tests/data/datasets), run by the
//! end-to-end tests against the fake judge. Markers in outputs script the fake judge: `[score:N]`.

use judge_runtime::{Case, llm_eval};

/// The app's answer to a support question; `weak-answer` scores 3.
fn answer(case: &Case) -> String {
    let score = if case.id == "weak-answer" { 3 } else { 9 };
    format!("[score:{score}] An answer to: {}", case.input)
}

/// One test per row.
#[llm_eval(dataset = "data/datasets/support.jsonl", rubric = "Answers {{input}} correctly.", threshold = 0.7)]
fn support(case: &Case) -> String {
    answer(case)
}

/// One test for the dataset: 4 of its 5 rows pass.
#[llm_eval(dataset = "data/datasets/support.jsonl", rubric = "Answers correctly.", min_pass_rate = 0.8)]
async fn support_gate(case: &Case) -> anyhow::Result<String> {
    Ok(answer(case))
}

/// The same gate, set higher than the rows reach.
#[llm_eval(dataset = "data/datasets/support.jsonl", rubric = "Answers correctly.", min_pass_rate = 0.9)]
fn support_strict_gate(case: &Case) -> String {
    answer(case)
}

/// A ticket, read from a CSV row of the user's own shape.
#[derive(serde::Deserialize)]
struct Ticket {
    subject: String,
    priority: String,
    body: String,
}

#[llm_eval(dataset = "data/datasets/tickets.csv", rubric = "Triage of ticket {{id}} names its priority.")]
fn tickets(ticket: Ticket) -> String {
    format!("[score:8] {} (priority {}): {}", ticket.subject, ticket.priority, ticket.body)
}

judge_runtime::main!();
