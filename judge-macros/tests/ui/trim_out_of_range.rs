use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", samples = 5, trim = 0.5)]
fn capital() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
