use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", rubric = "Is polite.", treshold = 0.5, threshold = 1.5, samples = 0)]
fn capital(country: &str) -> String {
    format!("The capital of {country} is Paris.")
}

judge_runtime::main!();
