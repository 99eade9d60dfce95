//! [`Case`]: one row of a dataset, as the eval function driven by the dataset receives it.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// One row of a dataset (`#[llm_eval(dataset = "…")]`): its id, its input, its reference answer, and
/// every other field of the row as a variable.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Case {
    /// The row's `id`, else its row number: the last segment of its test's name.
    pub id: String,
    /// The row's `input`: what the model is asked.
    pub input: String,
    /// The row's `expected`: a reference answer, for reference-guided grading.
    pub expected: Option<String>,
    /// The row's other fields (not `id`, `input`, `expected`, nor the settings a row may give:
    /// `rubric`, `threshold`, `samples`, `compare_with`). A CSV row's are strings.
    pub vars: Map<String, Value>,
}

/// A variable of a [`Case`] that is missing or not of the type asked for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("case {id:?}: {message}")]
#[non_exhaustive]
pub struct CaseError {
    /// The case's id.
    pub id: String,
    /// What is wrong.
    pub message: String,
}

impl Case {
    /// A case with `id` and `input`, no reference answer and no variables: to call an eval's
    /// function from a test of your own. The harness builds the cases of a dataset itself.
    pub fn new(id: impl Into<String>, input: impl Into<String>) -> Self {
        Self { id: id.into(), input: input.into(), expected: None, vars: Map::new() }
    }

    /// The case with the reference answer `expected`.
    pub fn with_expected(self, expected: impl Into<String>) -> Self {
        Self { expected: Some(expected.into()), ..self }
    }

    /// The case with the variable `name` set to `value`.
    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// The variable `name`, as a `T`. A CSV cell is a string, which is also read as a number or a
    /// boolean when `T` is one (`case.var::<u32>("max_words")`). A missing variable is an error,
    /// unless `T` is an `Option` (`case.var::<Option<u32>>("max_words")` is `Ok(None)`; an empty
    /// CSV cell is a missing variable).
    pub fn var<T: DeserializeOwned>(&self, name: &str) -> Result<T, CaseError> {
        let error = |message: String| CaseError { id: self.id.clone(), message };
        let Some(value) = self.vars.get(name) else {
            // An `Option` (or anything else that a null reads as) is none.
            if let Ok(none) = serde_json::from_value::<T>(Value::Null) {
                return Ok(none);
            }
            let known: Vec<&str> = self.vars.keys().map(String::as_str).collect();
            return Err(error(format!("no variable `{name}` (the row has: {})", list(&known))));
        };
        match serde_json::from_value::<T>(value.clone()) {
            Ok(found) => Ok(found),
            Err(first) => {
                // A CSV cell ("12", "true") read as the number or boolean it spells.
                let spelled = value.as_str().and_then(|text| serde_json::from_str::<Value>(text.trim()).ok());
                spelled.and_then(|v| serde_json::from_value::<T>(v).ok()).ok_or_else(|| {
                    error(format!("the variable `{name}` ({value}) is not of the type asked for: {first}"))
                })
            }
        }
    }
}

fn list(names: &[&str]) -> String {
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(vars: Value) -> Case {
        let case = Case::new("refund-window", "Can I return it?").with_expected("Within 30 days.");
        vars.as_object().unwrap().iter().fold(case, |case, (name, value)| case.with_var(name, value.clone()))
    }

    #[test]
    fn variables_are_read_by_type_and_csv_strings_as_what_they_spell() {
        let c = case(json!({"max_words": 50, "tone": "warm", "csv_words": "12", "strict": "true"}));
        assert_eq!(c.var::<u32>("max_words"), Ok(50));
        assert_eq!(c.var::<String>("tone").as_deref(), Ok("warm"));
        assert_eq!(c.var::<u32>("csv_words"), Ok(12));
        assert_eq!(c.var::<bool>("strict"), Ok(true));
        assert_eq!(c.var::<Option<u32>>("max_words"), Ok(Some(50)));
        assert_eq!(c.var::<Option<u32>>("nope"), Ok(None), "an optional variable may be missing");
        let missing = c.var::<u32>("nope").unwrap_err().to_string();
        assert!(missing.contains("no variable `nope`") && missing.contains("max_words"), "{missing}");
        let wrong = c.var::<u32>("tone").unwrap_err().to_string();
        assert!(wrong.contains("`tone` (\"warm\") is not of the type asked for"), "{wrong}");
    }
}
