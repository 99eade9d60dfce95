use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", judges = ["openai:gpt-4.1"])]
fn one_judge() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", judges = ["openai:gpt-4.1", "openai:gpt-4.1"])]
fn twice() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", judge = "openai:gpt-4.1", judges = ["openai:a", "acme:b"])]
fn unknown_provider() -> String {
    "Paris".to_owned()
}

#[llm_eval(
    rubric = "Names the capital.",
    judge = "openai:gpt-4.1",
    judges = ["openai:a", "anthropic:b"],
    combine = "vote",
    max_spread = 2,
    on_disagreement = "warn"
)]
fn everything_else() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", judge = "openai:gpt-4.1", combine = "median")]
fn combine_with_one_judge() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
