//! Support for judge's end-to-end tests and benches: a fake judge server, and running harness
//! binaries as a user's `cargo test` would.

pub mod fake_judge;
pub mod generated_suite;
pub mod harness_process;
pub mod llama_server;
mod plain_http;
mod python;
pub mod s3_server;
pub mod stats_reference;

pub use fake_judge::{FakeJudge, FakeJudgeConfig, Faults, RateLimit, Rejects};
pub use harness_process::{HarnessRun, clear_judge_env, harness, nested_cargo};
pub use llama_server::{LlamaServer, llama_cpp_python_installed};
pub use s3_server::{S3Server, moto_installed};
pub use stats_reference::{length_control_reference, scipy_installed, stats_reference, statsmodels_installed};
