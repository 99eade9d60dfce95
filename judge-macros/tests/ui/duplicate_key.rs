use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", samples = 3, rubric = "Is polite.")]
fn capital() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
