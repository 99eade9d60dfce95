use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", samples = "adaptiv")]
fn misspelt() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", samples = "adaptive", reduce = "min")]
fn not_a_central_reducer() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", samples = "adaptive", min_samples = 9, max_samples = 4)]
fn bounds_crossed() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", samples = "adaptive", min_samples = 1)]
fn one_is_too_few() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
