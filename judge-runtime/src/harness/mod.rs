//! The test harness: collects the registered evals and runs them as libtest-mimic trials.

pub(crate) mod context;
pub(crate) mod datasets;
pub(crate) mod eval;
pub(crate) mod panel;
pub(crate) mod registry;
pub(crate) mod run;
pub(crate) mod shared_calls;
pub(crate) mod trial;
pub(crate) mod validation;
