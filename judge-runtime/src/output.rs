//! What an eval function may return: anything `Into<String>` (bytes through [`Bytes`]), or a
//! `Result` of that.

use std::fmt::Debug;

/// A value an eval function can return as its output: `String`, `&'static str`, `Box<str>`,
/// `Cow<str>`, or any type that implements `Into<String>`.
///
/// A function may also return `Result<T, E>` with `T: IntoEvalOutput` and `E: Debug`; an `Err`
/// fails the eval with the error and makes no judge call.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an eval output",
    label = "an #[llm_eval] function returns its output as text",
    note = "return String, &'static str, any type that implements Into<String>, or Result<that, E> with E: Debug"
)]
pub trait IntoEvalOutput {
    /// The output as text.
    fn into_eval_output(self) -> String;
}

// Without `do_not_recommend`, rustc looks through this impl and reports the failing leaf,
// `String: From<i32>`, with a list of every `From` impl in the dependency graph; with it, rustc
// reports `i32: IntoEvalOutput` and the `on_unimplemented` message above.
#[diagnostic::do_not_recommend]
impl<T: Into<String>> IntoEvalOutput for T {
    fn into_eval_output(self) -> String {
        self.into()
    }
}

/// Raw bytes as an eval output, for model outputs that are not guaranteed to be UTF-8. Invalid
/// sequences are replaced with U+FFFD (`�`) before judging, so the judge always sees text.
///
/// ```
/// # use judge_runtime::IntoEvalOutput;
/// let output = judge_runtime::Bytes(b"caf\xe9".to_vec());
/// assert_eq!(output.into_eval_output(), "caf\u{fffd}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl From<Bytes> for String {
    fn from(bytes: Bytes) -> Self {
        match String::from_utf8(bytes.0) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}

/// Converts the return value of a function that does not return a `Result`.
#[doc(hidden)]
pub fn from_value<T: IntoEvalOutput>(value: T) -> Result<String, String> {
    Ok(value.into_eval_output())
}

/// Converts the return value of a function that returns a `Result`; the error is shown with
/// `{:?}` (as `#[test]` functions show theirs), which for `anyhow::Error` includes its causes.
#[doc(hidden)]
pub fn from_result<T: IntoEvalOutput, E: Debug>(result: Result<T, E>) -> Result<String, String> {
    result.map(IntoEvalOutput::into_eval_output).map_err(|e| format!("Error: {e:?}"))
}

/// The return value of a function named by path (`baseline = path::to::fn`), whose signature the
/// macro cannot see: [`ResultOutput`] converts it when it is a `Result`, [`ValueOutput`] otherwise.
/// Method resolution tries the value before its reference, so a `Result` takes the first.
#[doc(hidden)]
pub struct Produced<T>(pub std::cell::Cell<Option<T>>);

impl<T> Produced<T> {
    /// Wraps a function's return value.
    pub fn new(value: T) -> Self {
        Self(std::cell::Cell::new(Some(value)))
    }
}

/// Converts a produced `Result`.
#[doc(hidden)]
pub trait ResultOutput {
    /// The output, or the function's error.
    fn into_output(self) -> Result<String, String>;
}

impl<T: IntoEvalOutput, E: Debug> ResultOutput for Produced<Result<T, E>> {
    fn into_output(self) -> Result<String, String> {
        from_result(self.0.into_inner().expect("a produced value is converted once"))
    }
}

/// Converts a produced value that is not a `Result`.
#[doc(hidden)]
pub trait ValueOutput {
    /// The output.
    fn into_output(self) -> Result<String, String>;
}

impl<T: IntoEvalOutput> ValueOutput for &Produced<T> {
    fn into_output(self) -> Result<String, String> {
        from_value(self.0.take().expect("a produced value is converted once"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn produced_values_and_results_convert() {
        assert_eq!(Produced::new("text").into_output(), Ok("text".to_owned()));
        assert_eq!(Produced::new(Ok::<_, String>("fine")).into_output(), Ok("fine".to_owned()));
        assert_eq!(Produced::new(Err::<String, _>("broke")).into_output(), Err("Error: \"broke\"".to_owned()));
    }
}
