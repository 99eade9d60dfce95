use judge_runtime::llm_eval;

const RUBRIC: &str = "Names the capital.";

#[llm_eval(rubric = 3)]
fn literal_of_another_type() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = RUBRIC)]
fn not_a_literal() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", threshold = "high")]
fn number_as_string() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
