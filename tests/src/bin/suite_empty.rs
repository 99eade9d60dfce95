//! A harness binary in which no eval is registered (the attribute was forgotten): it must fail
//! loudly rather than pass with zero tests.

judge_runtime::main!();
