//! The attribute has an error, but `capital` is still emitted: calling it compiles, so the only
//! error is the attribute's.

use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", threshold = 1.5)]
fn capital() -> String {
    "Paris".to_owned()
}

fn shout() -> String {
    capital().to_uppercase()
}

judge_runtime::main!();
