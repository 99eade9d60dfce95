//! Compile-fail tests of `#[llm_eval]`: each `tests/ui/*.rs` must fail to build with exactly the
//! diagnostics in its `.stderr`. Regenerate with `TRYBUILD=overwrite`, then read the diff.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
