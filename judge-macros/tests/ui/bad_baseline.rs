use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", baseline = 3)]
fn not_text() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", baseline = "Paris", criteria = { accuracy = "Right.", clarity = "Plain." })]
fn with_criteria() -> String {
    "Paris".to_owned()
}

fn count() -> u32 {
    3
}

#[llm_eval(rubric = "Names the capital.", baseline = count)]
fn baseline_not_text() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
