use judge_runtime::{Case, llm_eval};

#[llm_eval(dataset = "evals/support.jsonl", rubric = "Answers correctly.", validate = "contrastive")]
fn unknown_method(case: &Case) -> String {
    case.input.clone()
}

#[llm_eval(dataset = "evals/support.jsonl", rubric = "Answers correctly.", validate = "synthetic", generator = "gpt-4")]
fn malformed_generator(case: &Case) -> String {
    case.input.clone()
}

#[llm_eval(dataset = "evals/support.jsonl", rubric = "Answers correctly.", min_accuracy = 1.2, max_pairs = 0)]
fn gate_and_bound_out_of_range(case: &Case) -> String {
    case.input.clone()
}

#[llm_eval(rubric = "Names the capital.", validate = "synthetic", min_accuracy = 0.8)]
fn without_dataset() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
