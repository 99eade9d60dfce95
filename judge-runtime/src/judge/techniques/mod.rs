//! How a judge is asked and how its reply is read: the prompt and its fencing, the verdict and its
//! parsing, and each grading technique (levels, criteria, pairwise comparison, evaluation steps,
//! ensembles, G-Eval's probability weighting).

pub(crate) mod contrast;
pub(crate) mod criteria;
pub(crate) mod ensemble;
pub(crate) mod geval;
pub(crate) mod levels;
pub(crate) mod messages_json;
pub(crate) mod pairwise;
pub(crate) mod prompt;
pub(crate) mod reply;
pub(crate) mod schema;
pub(crate) mod steps;
pub mod verdict;
