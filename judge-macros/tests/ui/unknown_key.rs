use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", treshold = 0.5)]
fn capital() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
