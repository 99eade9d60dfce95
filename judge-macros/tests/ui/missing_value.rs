use judge_runtime::llm_eval;

#[llm_eval(rubric)]
fn capital() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", samples, threshold = 0.8)]
fn capital_again() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
