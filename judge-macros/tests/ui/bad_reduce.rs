use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", samples = 2, reduce = "at_least(3)")]
fn capital() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", reduce = "maximum")]
fn capital_again() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
