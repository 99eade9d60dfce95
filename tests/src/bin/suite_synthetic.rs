//! Datasets whose judge is validated on synthetic contrastive pairs (`validate = "synthetic"`,
//! `min_accuracy`, `max_pairs`, `generator`). Run by the end-to-end tests
//! (tests/tests/e2e/synthetic.rs) against the fake judge, whose generation mode writes a worse
//! answer the row's good answer scripts: by default one it grades 1/10, or (markers in the good
//! answer) one identical to it, an empty one, a refusal, or a better one.

use judge_runtime::{Case, llm_eval};

/// The good answers are the rows' `expected`, which the function also returns: of the eight rows,
/// two pairs are ordered right, one wrong, one tied, and four dropped (identical, empty, refused,
/// unreadable).
#[llm_eval(
    dataset = "data/datasets/synthetic.jsonl",
    rubric = "Answers the question correctly.",
    threshold = 0.0,
    validate = "synthetic"
)]
fn support(case: &Case) -> String {
    case.expected.clone().unwrap_or_default()
}

/// The same rows gated: an accuracy of 0.5 misses `min_accuracy`, unless fewer rows are used
/// (`JUDGE_MAX_PAIRS=2` keeps the two right ones).
#[llm_eval(
    dataset = "data/datasets/synthetic.jsonl",
    rubric = "Answers the question correctly.",
    threshold = 0.0,
    min_accuracy = 0.75
)]
fn gated(case: &Case) -> String {
    case.expected.clone().unwrap_or_default()
}

/// Rows without `expected`: the good answers are the function's outputs. Not validated unless
/// `JUDGE_VALIDATE` or judge.toml says so.
#[llm_eval(dataset = "data/datasets/synthetic_outputs.jsonl", rubric = "Answers the question correctly.")]
fn outputs(case: &Case) -> anyhow::Result<String> {
    Ok(case.var::<String>("answer")?)
}

/// A comparison: each pair is compared in both orders, as the comparison technique judges; its
/// pairs come from a generator of their own.
#[llm_eval(
    dataset = "data/datasets/synthetic_outputs.jsonl",
    rubric = "Answers the question correctly.",
    compare_with = "[score:5] A middling answer.",
    threshold = 0.0,
    validate = "synthetic",
    generator = "openai:fake-generator",
    max_pairs = 2
)]
fn compared(case: &Case) -> anyhow::Result<String> {
    Ok(case.var::<String>("answer")?)
}

/// A row whose id is `synthetic` would name the validation's test: the dataset is an error.
#[llm_eval(dataset = "data/datasets/bad/synthetic_id.jsonl", rubric = "Answers the question.", validate = "synthetic")]
fn clash(case: &Case) -> String {
    case.expected.clone().unwrap_or_default()
}

judge_runtime::main!();
