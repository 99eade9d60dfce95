//! Judge providers: each turns a conversation into a reply over its own wire format.

#[cfg(feature = "local")]
pub(crate) mod local;
pub(crate) mod openai;
