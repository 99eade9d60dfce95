use judge_runtime::llm_eval;

#[llm_eval(rubric = "Says a number.")]
fn number() -> Result<i32, String> {
    Ok(22)
}

judge_runtime::main!();
