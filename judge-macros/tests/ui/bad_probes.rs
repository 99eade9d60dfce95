use judge_runtime::llm_eval;

#[llm_eval(rubric = "Names the capital.", probes = ["position", "length"])]
fn unknown_probe() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", probes = ["verbosity", "verbosity"])]
fn probe_twice() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", probes = "position")]
fn not_an_array() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", max_position_bias = 1.5, max_verbosity_bias = -0.1)]
fn gates_out_of_range() -> String {
    "Paris".to_owned()
}

#[llm_eval(rubric = "Names the capital.", probes)]
fn no_value() -> String {
    "Paris".to_owned()
}

judge_runtime::main!();
