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
pub struct CaseError {
    /// The case's id.
    pub id: String,
    /// What is wrong.
    pub message: String,
}

impl Case {
    /// The variable `name`, as a `T`. A CSV cell is a string, which is also read as a number or a
    /// boolean when `T` is one (`case.var::<u32>("max_words")`).
    pub fn var<T: DeserializeOwned>(&self, name: &str) -> Result<T, CaseError> {
        let error = |message: String| CaseError { id: self.id.clone(), message };
        let value = self.vars.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.vars.keys().map(String::as_str).collect();
            error(format!("no variable `{name}` (the row has: {})", list(&known)))
        })?;
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
        Case {
            id: "refund-window".to_owned(),
            input: "Can I return it?".to_owned(),
            expected: Some("Within 30 days.".to_owned()),
            vars: vars.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn variables_are_read_by_type_and_csv_strings_as_what_they_spell() {
        let c = case(json!({"max_words": 50, "tone": "warm", "csv_words": "12", "strict": "true"}));
        assert_eq!(c.var::<u32>("max_words"), Ok(50));
        assert_eq!(c.var::<String>("tone").as_deref(), Ok("warm"));
        assert_eq!(c.var::<u32>("csv_words"), Ok(12));
        assert_eq!(c.var::<bool>("strict"), Ok(true));
        let missing = c.var::<u32>("nope").unwrap_err().to_string();
        assert!(missing.contains("no variable `nope`") && missing.contains("max_words"), "{missing}");
        let wrong = c.var::<u32>("tone").unwrap_err().to_string();
        assert!(wrong.contains("`tone` (\"warm\") is not of the type asked for"), "{wrong}");
    }
}
