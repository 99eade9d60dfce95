use judge_runtime::{Case, llm_eval};

#[llm_eval(
    dataset = "evals/support.jsonl",
    rubric = "Answers the customer's question correctly.",
    input = "Can I return it?",
    expected = "Within 30 days."
)]
fn support(case: &Case) -> String {
    case.input.clone()
}

judge_runtime::main!();
