use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.")]
fn capital<T: Into<String>>() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.")]
fn capital_where() -> String
where
    String: Clone,
{
    "Paris".to_owned()
}

judge_runtime::main!();
