use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.")]
fn capital() {
    println!("Paris");
}

judge_runtime::main!();
