//! Judge providers: each answers the same calls ([`client::JudgeClient`]) over its own wire
//! format (OpenAI-compatible servers, Anthropic) or engine (the embedded judge).

pub(crate) mod anthropic;
pub(crate) mod client;
#[cfg(feature = "local")]
pub(crate) mod local;
pub(crate) mod openai;
pub(crate) mod openai_reply;
pub(crate) mod preset;
pub(crate) mod refusals;
