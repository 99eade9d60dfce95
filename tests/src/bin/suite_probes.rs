//! Evals with bias probes (`probes`, `max_position_bias`, `max_verbosity_bias`), and a pairwise
//! dataset whose outputs and compared texts differ in length (tests/data/datasets/pairwise.jsonl).
//! Run by the end-to-end tests (tests/tests/e2e/probes.rs) against the fake judge, with and without
//! its planted biases.

use judge_runtime::{Case, llm_eval};

// Each eval's output is its own, so that no two evals share a verdict and each one's judge calls
// can be counted.

/// Graded alone: the position probe compares the output with itself in both orders, the verbosity
/// probe judges it again with padding. Its scripted score, 6, leaves room for padding to pay.
#[llm_eval(
    rubric = "Says the hands overlap 22 times a day.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times",
    threshold = 0.5,
    samples = 2,
    probes = ["position", "verbosity"]
)]
fn graded() -> String {
    "[score:6] They overlap 22 times a day.".to_owned()
}

/// Compared with a text the judge grades the same: its comparisons already swap the order, so the
/// position probe reads them and costs no call; padding the output can win the comparison.
#[llm_eval(
    rubric = "Says the hands overlap 22 times a day.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times",
    compare_with = "[score:6] The hands overlap 22 times a day.",
    threshold = 0.4,
    probes = ["verbosity", "position"]
)]
fn compared() -> String {
    "[score:6] They overlap 22 times in a day.".to_owned()
}

/// A gate alone runs its probe: at most one comparison in five may flip with the order.
#[llm_eval(
    rubric = "Says the hands overlap 22 times a day.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times",
    max_position_bias = 0.2
)]
fn position_gated() -> String {
    "[score:8] The hands overlap 22 times a day.".to_owned()
}

/// Padding may raise the score by 0.1 at most, on average.
#[llm_eval(
    rubric = "Says the hands overlap 22 times a day.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times",
    threshold = 0.5,
    max_verbosity_bias = 0.1
)]
fn verbosity_gated() -> String {
    "[score:6] The hands overlap 22 times in a day.".to_owned()
}

/// No probe of its own: `JUDGE_PROBES` or judge.toml turn them on.
#[llm_eval(
    rubric = "Says the hands overlap 22 times a day.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times"
)]
fn unprobed() -> String {
    "[score:8] They overlap 22 times every day.".to_owned()
}

/// Each row's answer compared with the row's `compare_with`, a test per row; the dataset's rows
/// pool their probes, and their comparisons give the raw and the length-controlled win rate.
#[llm_eval(
    dataset = "data/datasets/pairwise.jsonl",
    rubric = "Says how many times a day the hands overlap: 22.",
    threshold = 0.0,
    probes = ["position", "verbosity"]
)]
fn pairwise(case: &Case) -> anyhow::Result<String> {
    Ok(case.var::<String>("answer")?)
}

judge_runtime::main!();
