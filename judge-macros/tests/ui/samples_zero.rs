use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", samples = 0)]
fn capital() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
