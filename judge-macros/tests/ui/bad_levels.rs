use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", levels = ["0-4: wrong", "6-10: right"])]
fn capital() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", levels = "0-10: anything")]
fn capital_again() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
