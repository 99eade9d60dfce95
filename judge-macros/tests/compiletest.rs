//! Compile-fail tests of `#[llm_eval]`: each `tests/ui/*.rs` must fail to compile with exactly the
//! spanned errors in its `.stderr`. They live here, not in the end-to-end crate, so that trybuild
//! builds judge-runtime without the `local` feature (no llama.cpp).

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
