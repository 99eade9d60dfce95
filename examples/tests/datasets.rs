//! The example suite driven by datasets: the support assistant's answers to the questions in
//! `evals/support.jsonl` (one test for the whole file, gated on its pass rate) and
//! `evals/support.csv` (one test per row), and the judge checked against people's scores
//! (`evals/support_labelled.jsonl`). Run it with `cargo test -p judge-examples --test
//! datasets`, with a judge configured (see the README); add a row and rerun, with no rebuild.

use judge_runtime::{Case, llm_eval};

#[llm_eval(
    dataset = "evals/support.jsonl",
    rubric = "Answers the customer's question correctly and completely, as the reference answer does. \
              An invented policy, price or delay scores 0-2.",
    threshold = 0.7,
    // One weak answer does not fail the suite; a change that breaks a few more does.
    min_pass_rate = 0.8
)]
async fn support(case: &Case) -> anyhow::Result<String> {
    Ok(judge_examples::support_answer_async(&case.input).await?)
}

#[llm_eval(
    dataset = "evals/support.csv",
    rubric = "Answers the customer's question correctly, as the reference answer does, in at most {{max_words}} words."
)]
fn support_brief(case: &Case) -> String {
    judge_examples::support_answer(&case.input)
}

/// The judge itself under test: stored answers that people scored (`human`, 0-10), graded again
/// by the judge. One test for the dataset (`min_pass_rate = 0.0`: a bad answer scoring low is the
/// judge agreeing, not a failure); the reports show how well judge and people agree.
#[llm_eval(
    dataset = "evals/support_labelled.jsonl",
    rubric = "Answers the customer's question correctly and completely, as the reference answer does. \
              An invented policy, an unsafe instruction or a rude answer scores 0-2.",
    min_pass_rate = 0.0
)]
fn judge_agreement(case: &Case) -> anyhow::Result<String> {
    Ok(case.var::<String>("answer")?)
}

judge_runtime::main!();
