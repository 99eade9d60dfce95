//! The `#[llm_eval]` attribute of judge. Use it through `judge_runtime::llm_eval`, whose
//! documentation describes every key.
//!
//! This entry point only converts token streams; the work happens in [`expand`] on `proc_macro2`
//! types, so it can be unit-tested.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod args;
mod criteria;
mod expand;
mod fallback;
mod validate;

use proc_macro::TokenStream;

/// Turns a function that returns a model's output into an eval that a judge grades.
///
/// ```ignore
/// #[llm_eval(rubric = "Says 22 and explains why.", threshold = 0.7, samples = 7,
///            input = "How many times a day do the clock hands overlap?", expected = "22")]
/// fn clock_hands() -> String { my_app::answer("...") }
/// ```
///
/// Keys: `rubric` (required), `threshold` (0.0..=1.0), `input`, `expected`, `samples` (≥ 1),
/// `trim` (0.0..0.5), `reduce`, `scoring`, `levels`, `criteria`, `compare_with` (the text, or a
/// function returning the output, each sample's output is compared with; `baseline` is its old
/// name, still accepted with a deprecation warning), `steps`, `judge` (`"provider:model"`),
/// `judges`, `combine`, `max_spread`, `on_disagreement`, `temperature`, `max_tokens`, `seed`,
/// `timeout`, `snapshot`, `name`, `crate` (path of a renamed `judge_runtime`). judge-rules declares
/// them all (`judge_rules::settings::SETTINGS`); the README's settings table and `docs/techniques/`
/// describe each.
///
/// The function takes no parameters, may be `async`, and returns anything `Into<String>` or a
/// `Result` of that. `#[ignore]` on it is honoured.
#[proc_macro_attribute]
pub fn llm_eval(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::llm_eval(args.into(), item.into()).into()
}
