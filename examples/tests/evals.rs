//! The example eval suite: run it with `cargo test -p judge-examples --test evals`, with a judge
//! configured (see the README).

use judge_runtime::llm_eval;

#[llm_eval(
    input = "How many times a day do the hour and minute hands of a clock overlap?",
    expected = "22 times a day",
    rubric = "The answer must say 22 and justify it; a wrong count scores 0-2.",
    threshold = 0.7,
    samples = 3,
    // The median of the three samples' scores: one bad sample cannot sink the eval, two can.
    reduce = "median"
)]
async fn clock_hands() -> anyhow::Result<String> {
    Ok(judge_examples::answer_async("How many times a day do the hour and minute hands of a clock overlap?").await?)
}

#[llm_eval(
    input = "What is the capital of Australia?",
    expected = "Canberra",
    rubric = "Names Canberra as the capital. Naming Sydney or Melbourne as the capital scores 0."
)]
fn capital_of_australia() -> String {
    judge_examples::answer("What is the capital of Australia?")
}

#[llm_eval(
    input = "Can I get a refund?",
    expected = "Unused items can be returned within 30 days of delivery for a full refund",
    rubric = "States the 30-day window and that the refund is full. Invented conditions score low.",
    threshold = 0.6
)]
fn refund_policy() -> String {
    judge_examples::answer("Can I get a refund?")
}

judge_runtime::main!();
