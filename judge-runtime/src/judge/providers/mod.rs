//! Judge providers: each turns a conversation into a reply over its own wire format.

pub(crate) mod openai;
