use judge_runtime::{Case, llm_eval};

#[llm_eval(dataset = "evals/support.jsonl", rubric = "Answers correctly.", min_pass_rate = 1.5)]
fn support(case: &Case) -> String {
    case.input.clone()
}

#[llm_eval(rubric = "Answers correctly.", min_pass_rate = 0.9)]
fn without_dataset() -> String {
    String::new()
}

judge_runtime::main!();
