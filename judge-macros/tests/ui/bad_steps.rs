use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", steps = "manual")]
fn not_auto() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", steps = [])]
fn no_steps() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", steps = ["Find the city.", " "])]
fn empty_step() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
