use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.")]
fn capital(country: &str) -> String {
    format!("The capital of {country} is Paris.")
}

judge_runtime::main!();
