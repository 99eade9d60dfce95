//! Everything the harness shows a person. No other module prints.

pub(crate) mod escape;
pub(crate) mod files;
pub(crate) mod html;
pub(crate) mod junit;
pub(crate) mod markdown;
pub(crate) mod progress;
pub(crate) mod record;
pub(crate) mod message;
