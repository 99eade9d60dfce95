use judge_runtime::llm_eval;

struct BackendDown;

#[llm_eval(rubric = "Names the capital.")]
fn capital() -> Result<String, BackendDown> {
    Err(BackendDown)
}

judge_runtime::main!();
