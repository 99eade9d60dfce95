use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.")]
struct Capital {
    name: String,
}

judge_runtime::main!();
