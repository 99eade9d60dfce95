//! Evals whose verdicts are snapshotted with insta. Their output is `SUITE_ANSWER` when set, so a
//! test can change what the judge says between runs.

use judge_runtime::llm_eval;

/// A changed rationale is shown for review; the score gates.
#[llm_eval(
    rubric = "Names the capital and its river.",
    input = "Capital of France, and its river?",
    expected = "Paris on the Seine",
    threshold = 0.1,
    snapshot = true
)]
fn capital() -> String {
    answer()
}

/// A changed rationale fails the eval.
#[llm_eval(
    rubric = "Names the capital and its river.",
    input = "Capital of France, and its river?",
    expected = "Paris on the Seine",
    threshold = 0.1,
    snapshot = "strict"
)]
fn capital_strict() -> String {
    answer()
}

/// Not snapshotted unless the run asks for it (`JUDGE_SNAPSHOT`).
#[llm_eval(rubric = "Names the capital.", input = "Capital of Japan?", expected = "Tokyo")]
fn unsnapshotted() -> String {
    "Tokyo.".to_owned()
}

fn answer() -> String {
    std::env::var("SUITE_ANSWER").unwrap_or_else(|_| "Paris, on the Seine.".to_owned())
}

judge_runtime::main!();
