//! What a run shows and leaves: the printer (every line a person sees on the terminal; no other
//! module prints), the failure texts, the progress line, and the run's record written as JSON,
//! JUnit, Markdown and HTML, and the records of a sharded run's machines merged into one run.
//! Reports read outcomes; they never import the harness that made them.

pub(crate) mod calibration_plot;
pub(crate) mod datasets;
pub(crate) mod escape;
pub(crate) mod files;
pub(crate) mod html;
pub(crate) mod junit;
pub(crate) mod markdown;
pub(crate) mod message;
pub(crate) mod printer;
pub(crate) mod progress;
pub(crate) mod record;
pub(crate) mod shards;
