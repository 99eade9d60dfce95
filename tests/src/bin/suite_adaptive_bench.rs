//! The adaptive-samples benchmark's suite (`cargo bench -p judge-tests --bench adaptive`): a test
//! per row of a file the benchmark writes, each row an eval whose true mean score is its `mean`;
//! the fake judge draws each sample's score around it (`[normal:MEAN]`). The benchmark runs it with
//! `JUDGE_SAMPLES=adaptive`, `7` and `15`.

use std::collections::HashMap;
use std::sync::Mutex;

use judge_runtime::{Case, llm_eval};

/// Sample k of row `id`: the k-th call for that row, so that every run draws the same k-th score.
fn draw(id: &str) -> usize {
    static CALLS: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);
    let mut calls = CALLS.lock().unwrap_or_else(|e| e.into_inner());
    let count = calls.get_or_insert_with(HashMap::new).entry(id.to_owned()).or_insert(0);
    *count += 1;
    *count - 1
}

#[llm_eval(dataset = "../target/judge-bench/adaptive.jsonl", rubric = "Answers {{input}}.")]
fn rows(case: &Case) -> anyhow::Result<String> {
    let mean: f64 = case.var("mean")?;
    Ok(format!("[normal:{mean}] draw {} of {}", draw(&case.id), case.id))
}

judge_runtime::main!();
