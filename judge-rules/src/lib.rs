//! The rules of judge's eval settings, in one place: `#[llm_eval]` applies them at compile time (and
//! spans their errors at the offending token), judge-runtime applies them to judge.toml, the
//! environment and any attribute the macro did not write. Not a public API of judge: it changes
//! with judge-macros and judge-runtime, at the same version.
//!
//! `declarations.rs` declares every setting once (key, type, variable, where it may be set, default,
//! doc line, range), through the `declare_settings!` table that judge-runtime reads too;
//! [`settings::SETTINGS`] is this crate's view of it.
//!
//! Each rule reads a value and returns what it means, or why it is wrong in words that fit after
//! the setting's name ("`reduce` …", "JUDGE_REDUCE …").
//!
//! # Usage
//!
//! ```
//! assert_eq!(judge_rules::reduce::parse("at_least(2)"), Ok(judge_rules::Reduce::AtLeast(2)));
//! assert!(judge_rules::judge::read("gpt-4").unwrap_err().contains("provider:model"));
//! ```
//!
//! The macro hands every value it read to the runtime typed, as these modules define them
//! (`Reduce`, `Combine`, `OnDisagreement`, `JudgeSpec`, levels' `Band`s), built with `Cow::Borrowed`
//! where a text is part of the value, so that the runtime never parses what the macro wrote.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod criteria;
mod declarations;
pub mod judge;
pub mod levels;
pub mod ranges;
pub mod reduce;
pub mod samples;
pub mod settings;
pub mod steps;
pub mod techniques;
pub mod words;

pub use reduce::Reduce;
pub use samples::Samples;
