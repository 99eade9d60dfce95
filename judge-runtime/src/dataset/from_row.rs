//! [`FromRow`]: what the function of an eval driven by a dataset may take, read from each row.

use serde::de::DeserializeOwned;

use super::{Case, Row};

/// A type the function of a dataset eval (`#[llm_eval(dataset = "…")]`) takes, read from each
/// row: [`Case`], or any type of your own that implements `serde::Deserialize`, built from all of
/// the row's fields. Not implemented by hand: `Case` and every `Deserialize` type have it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a dataset row",
    label = "the eval's parameter",
    note = "take `&judge_runtime::Case`, or derive `serde::Deserialize` for `{Self}`"
)]
pub trait FromRow: Sized {
    /// Reads `row`; `Err` says why it cannot be read (the harness adds the file and line).
    #[doc(hidden)]
    fn from_row(row: &Row) -> Result<Self, String>;
}

impl FromRow for Case {
    fn from_row(row: &Row) -> Result<Self, String> {
        row.case()
    }
}

impl<T: DeserializeOwned> FromRow for T {
    fn from_row(row: &Row) -> Result<Self, String> {
        row.deserialize()
    }
}
