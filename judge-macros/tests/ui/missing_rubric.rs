use judge_runtime::llm_eval;

#[llm_eval(threshold = 0.5)]
fn capital() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
