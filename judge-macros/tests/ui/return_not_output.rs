use judge_runtime::llm_eval;

#[llm_eval(rubric = "Says a number.")]
fn number() -> i32 {
    22
}

#[llm_eval(rubric = "Says a number.")]
async fn async_number() -> i32 {
    22
}

judge_runtime::main!();
