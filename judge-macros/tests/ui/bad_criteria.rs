use judge_runtime::llm_eval;

#[llm_eval(rubric = "Answers well.", criteria = { accuracy = "Right facts." })]
fn one_criterion() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Answers well.", criteria = { accuracy = "Right facts.", clarity = { rubric = "Plain.", wieght = 2 } })]
fn misspelt_field() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Answers well.", criteria = { accuracy = "Right facts.", clarity = { rubric = "Plain.", threshold = 1.5 } })]
fn threshold_out_of_range() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Answers well.", criteria = ["accuracy"])]
fn not_a_table() -> String {
    "Paris".to_owned()
}

#[llm_eval(
    rubric = "Answers well.",
    levels = ["0-4: wrong", "5-10: right"],
    criteria = { accuracy = "Right facts.", clarity = "Plain." }
)]
fn with_levels() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Answers well.", criteria = { accuracy = "Right facts.", r#clarity = "Plain." })]
fn raw_name() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
