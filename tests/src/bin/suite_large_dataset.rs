//! The dataset benchmark's suite (`cargo bench -p judge-tests --bench datasets`): one eval with a
//! test per row and one gated eval, both over a file the benchmark writes (BENCH_ROWS rows).

use judge_runtime::{Case, llm_eval};

#[llm_eval(dataset = "../target/judge-bench/large.jsonl", rubric = "Answers {{input}}.")]
fn rows(case: &Case) -> String {
    format!("[score:8] The answer to {}.", case.input)
}

#[llm_eval(dataset = "../target/judge-bench/large.jsonl", rubric = "Answers {{input}}.", min_pass_rate = 0.9)]
fn gate(case: &Case) -> String {
    format!("[score:8] The answer to {}.", case.input)
}

judge_runtime::main!();
