//! The embedded judge's engine: llama.cpp in-process, and the model file it runs.

#[cfg(feature = "local")]
pub(crate) mod llama;
pub mod local_model;
