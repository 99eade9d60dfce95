//! Everything the harness shows a person. No other module prints.

pub(crate) mod terminal;
