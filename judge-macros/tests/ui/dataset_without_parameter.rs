use judge_runtime::llm_eval;

#[llm_eval(dataset = "evals/support.jsonl", rubric = "Answers the customer's question correctly.")]
fn support() -> String {
    String::new()
}

judge_runtime::main!();
