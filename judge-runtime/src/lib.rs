//! LLM-as-a-judge evals written as Rust tests.
//!
//! An eval is a function that returns a model's output. `#[llm_eval]` registers it; a strong LLM
//! grades the output against a rubric; `cargo test` (or `cargo nextest run`) fails when the score is
//! below the threshold, printing the judge's rationale.
//!
//! # Usage
//!
//! In `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! judge-runtime = "0.1"
//!
//! [[test]]
//! name = "evals"
//! harness = false
//! ```
//!
//! In `tests/evals.rs`:
//!
//! ```ignore
//! use judge_runtime::llm_eval;
//!
//! #[llm_eval(
//!     rubric = "Says the hands overlap 22 times and explains why.",
//!     input = "How many times a day do the hour and minute hands of a clock overlap?",
//!     expected = "22 times.",
//!     threshold = 0.7,
//!     samples = 7,
//! )]
//! async fn clock_hands() -> anyhow::Result<String> {
//!     my_app::answer("How many times a day do the hour and minute hands of a clock overlap?").await
//! }
//!
//! judge_runtime::main!();
//! ```
//!
//! Then `JUDGE_MODEL=openai:gpt-4.1-mini OPENAI_API_KEY=... cargo test --test evals`.
//!
//! An eval driven by a dataset takes its row, and makes a test of each row of the file:
//!
//! ```ignore
//! use judge_runtime::{Case, llm_eval};
//!
//! #[llm_eval(dataset = "evals/support.jsonl", rubric = "Answers the customer's question correctly.")]
//! async fn support(case: &Case) -> anyhow::Result<String> {
//!     my_app::answer(&case.input).await
//! }
//! ```
//!
//! The file (JSONL, JSON or CSV, relative to the crate's manifest directory) is read when the test
//! binary runs; see [`Case`], [`FromRow`] and the repository's `docs/datasets.md`.
//!
//! Each eval calls its function `samples` times, has every output judged (verdicts are cached by
//! content, so unchanged outputs are never judged twice), reduces the scores with a trimmed mean and
//! passes when that mean reaches `threshold`. See the README for every setting.
//!
//! # Features
//!
//! - `local`: the embedded llama.cpp judge (`JUDGE_MODEL=local`), for offline runs; compiles
//!   llama.cpp.
//! - `s3`: the verdict cache on an S3-compatible object store (`JUDGE_CACHE_DIR=s3://BUCKET/PREFIX`,
//!   credentials from the standard `AWS_*` variables); pure Rust.
//!
//! Neither is on by default: users of hosted judges and a local cache compile neither.
//!
//! # Known limitations
//!
//! - The in-flight limit (`max_concurrency`) is per process: under `cargo nextest run`, which runs
//!   one process per test, each process has its own.
//! - A function's return type is read as a `Result` when its last path segment is `Result`
//!   (`Result<T, E>`, `anyhow::Result<T>`, `io::Result<T>`); a type alias with another name is
//!   treated as a plain output and must implement `Into<String>`.
//! - Providers: OpenAI-compatible servers (OpenAI, Ollama, vLLM, OpenRouter, llama.cpp), Anthropic,
//!   and (with the `local` feature) an embedded llama.cpp judge whose 135M-parameter default model
//!   scores from token probabilities: good for clear-cut checks offline, no substitute for a strong
//!   judge.
//! - Under `cargo nextest run`, the processes of one run merge their reports; two separate runs
//!   writing the same report file replace each other's (give each binary its file through
//!   `report_dir`). The runs of several machines (shards) are merged afterwards by
//!   `cargo judge merge` (the cargo-judge crate).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod adaptive;
mod aggregate;
mod agreement;
mod atomic_file;
mod baseline;
mod cache;
mod calibration;
mod dataset;
mod digest;
pub mod error;
mod grader;
mod harness;
mod json_writer;
mod judge;
mod length_control;
mod outcome;
mod output;
mod probes;
mod raw_json;
mod report;
mod settings;
mod snapshot;
mod synthetic;

pub use aggregate::{Reducer, Summary, TrimmedMean};
pub use cache::CacheMode;
pub use dataset::{Case, CaseError, FromRow};
pub use grader::Grader;
pub use judge::embedded::local_model;
pub use judge::techniques::verdict::{
    Comparison, CriterionVerdict, PanelVerdict, Preference, Scale, ScoreMethod, Usage, Verdict,
};
pub use judge_macros::llm_eval;
pub use judge_rules::Reduce;
pub use output::{Bytes, IntoEvalOutput};

/// Defines `fn main()` for a test target with `harness = false`: runs every `#[llm_eval]` of the
/// binary as a test, with libtest's command-line arguments (`--list`, `--exact`, `--ignored`,
/// filters, `--test-threads`), and exits with libtest's exit code.
///
/// ```ignore
/// judge_runtime::main!();
/// ```
#[macro_export]
macro_rules! main {
    () => {
        fn main() -> ::std::process::ExitCode {
            $crate::__private::run($crate::__private::Project {
                manifest_dir: ::std::env!("CARGO_MANIFEST_DIR"),
                target_tmpdir: ::std::option_env!("CARGO_TARGET_TMPDIR"),
            })
        }
    };
}

/// What `cargo judge` (the cargo-judge crate) uses: shards' run records merged into one run and
/// its reports rendered, the score baseline, files written whole. Not a public API: it changes with
/// cargo-judge, which depends on this crate's exact version.
#[doc(hidden)]
pub mod __cargo_judge {
    pub use crate::atomic_file::write_durable;
    pub use crate::baseline::ScoreBaseline;
    pub use crate::report::shards::{Conflict, MergedRun, RECORD_FORMAT, RecordError, Regression, ShardRecord, merge};
}

/// What the macros' expansions name. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::dataset::{FromRow, Row};
    pub use crate::harness::registry::{CompareWith, EvalCase, OutputFn, OutputFuture};
    pub use crate::harness::run::{Project, run};
    /// Engine measurements for judge's own benches.
    #[cfg(feature = "local")]
    pub use crate::judge::embedded::llama::{EngineFigures, measure as measure_local_engine};
    pub use crate::output::{Produced, ResultOutput, ValueOutput, from_result, from_value};
    pub use crate::settings::AttributeValue;
    pub use crate::settings::criteria::CriterionDef;
    pub use crate::settings::steps::StepsDef;
    pub use crate::snapshot::{Snapshot, SnapshotHook, SnapshotMode};
    pub use insta;
    pub use inventory;
    pub use judge_rules::judge::{JudgeSpec, Provider};
    pub use judge_rules::levels::Band;
    pub use judge_rules::words::{Combine, OnDisagreement};
    pub use judge_rules::{Reduce, Samples};
    pub use std::borrow::Cow;
    pub use std::boxed::Box;
    pub use std::option::Option::{None, Some};
    pub use std::result::Result::{Err, Ok};

    /// Old names of attribute keys: `#[llm_eval]` names one of these with the key's own token, so
    /// that rustc warns where the old name is written.
    pub mod deprecated {
        /// `baseline = …` in `#[llm_eval]`.
        #[deprecated(note = "`baseline` is the old name of `compare_with`, still accepted; write `compare_with`")]
        #[allow(non_upper_case_globals)]
        pub const baseline: () = ();
    }
}
