use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", snapshot = "always")]
fn capital() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
