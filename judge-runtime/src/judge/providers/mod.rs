//! Judge providers: each turns a conversation into a reply over its own wire format.

pub(crate) mod anthropic;
#[cfg(feature = "local")]
pub(crate) mod local;
pub(crate) mod openai;
pub(crate) mod preset;

use crate::judge::techniques::geval::TokenLogprobs;
use crate::judge::techniques::verdict::Usage;

/// A reply of a judge model, read from its provider's wire format.
#[derive(Debug, Clone)]
pub(crate) struct Completion {
    /// The reply's text; for a tool call, its input as JSON.
    pub text: String,
    pub usage: Usage,
    /// Each token of `text` with its most likely alternatives, when the provider returned logprobs.
    pub tokens: Option<Vec<TokenLogprobs>>,
}
