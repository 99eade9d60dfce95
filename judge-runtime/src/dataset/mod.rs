//! Datasets: files of cases (JSONL, JSON, CSV) that drive one eval, a case per row.
//!
//! A row's known fields are `id` (its name; else its row number), `input`, `expected`, and the
//! settings a row may give for itself (`rubric`, `threshold`, `samples`, `compare_with`), which win
//! over the attribute's; every other field is a variable of its [`Case`].

mod case;
mod formats;
mod from_row;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub use case::{Case, CaseError};
pub use from_row::FromRow;

use crate::calibration::HumanLabel;
use crate::error::DatasetError;
use formats::Format;

/// The fields a row may have besides its variables.
const KNOWN: [&str; 8] = ["id", "input", "expected", "rubric", "threshold", "samples", "compare_with", "human"];

/// The settings a row gives for itself, over the attribute's.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RowSettings {
    pub rubric: Option<String>,
    pub threshold: Option<f64>,
    pub samples: Option<u32>,
    pub compare_with: Option<String>,
}

/// One row of a dataset, as the eval function's parameter is read from it ([`FromRow`]).
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The line of the file the row starts on (a CSV record's line).
    pub(crate) line: usize,
    /// Its `id`, else its number among the rows: the last segment of its test's name.
    pub(crate) id: String,
    /// The settings it gives for itself.
    pub(crate) settings: RowSettings,
    /// A person's label (`human`): never shown to the judge, compared with its verdict.
    pub(crate) human: Option<HumanLabel>,
    /// The row as a JSON object, checked when read and parsed again where it is used: held as
    /// text, a row costs about its size in the file (a parsed map costs several times that).
    text: Box<str>,
}

/// The rows of one dataset file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dataset {
    /// The file as the attribute names it, relative to the crate's manifest directory.
    pub file: String,
    /// The file, resolved.
    pub path: PathBuf,
    pub rows: Vec<Arc<Row>>,
}

impl Dataset {
    /// Reads the dataset `file`, a path relative to `manifest_dir` (the crate's). Every error
    /// starts `PATH:LINE:` (or `PATH:` for the file as a whole).
    pub fn read(manifest_dir: &Path, file: &str) -> Result<Self, DatasetError> {
        let path = manifest_dir.join(file);
        let format = Format::of(&path)?;
        let is_csv = format == Format::Csv;
        let mut rows = Vec::new();
        let mut lines_of: HashMap<String, usize> = HashMap::new();
        let mut number = 0;
        let mut labelled: Option<(usize, HumanLabel)> = None;
        formats::read(&path, format, |(line, fields, text)| {
            number += 1;
            let row =
                Row::read(line, number, &fields, text, is_csv).map_err(|m| DatasetError::new(&path, Some(line), m))?;
            if let Some(first) = lines_of.insert(row.id.clone(), line) {
                return Err(DatasetError::new(
                    &path,
                    Some(line),
                    format!(
                        "duplicate id {:?} on lines {first} and {line}; ids name the tests, so each must be unique",
                        row.id
                    ),
                ));
            }
            if let (Some(label), Some((first_line, first))) = (row.human, labelled)
                && matches!(label, HumanLabel::Pass(_)) != matches!(first, HumanLabel::Pass(_))
            {
                return Err(DatasetError::new(
                    &path,
                    Some(line),
                    format!(
                        "the `human` labels of a dataset are all scores or all true/false: this row's is {}, line \
                         {first_line}'s {}",
                        label.kind(),
                        first.kind()
                    ),
                ));
            }
            if let (Some(label), None) = (row.human, labelled) {
                labelled = Some((line, label));
            }
            rows.push(Arc::new(row));
            Ok(())
        })?;
        if rows.is_empty() {
            return Err(DatasetError::new(&path, None, "the dataset has no rows; add at least one".to_owned()));
        }
        Ok(Self { file: file.to_owned(), path, rows })
    }
}

impl Row {
    /// Reads a row's known fields; `number` is its position among the rows (1-based).
    fn read(
        line: usize,
        number: usize,
        fields: &Map<String, Value>,
        text: Box<str>,
        is_csv: bool,
    ) -> Result<Self, String> {
        let get = |key: &str| fields.get(key).filter(|v| !v.is_null());
        let string = |key: &str| -> Result<Option<String>, String> {
            match get(key) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!("`{key}` must be a string, found {}", kind(other))),
            }
        };
        let number_of = |key: &str| -> Result<Option<f64>, String> {
            match get(key) {
                None => Ok(None),
                Some(Value::Number(n)) => Ok(n.as_f64()),
                Some(Value::String(s)) if is_csv => {
                    s.trim().parse().map(Some).map_err(|_| format!("`{key}` must be a number, found {s:?}"))
                }
                Some(other) => Err(format!("`{key}` must be a number, found {}", kind(other))),
            }
        };
        let id = match get("id") {
            None => number.to_string(),
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
            Some(other) => {
                return Err(format!("`id` must be a non-empty string or a whole number, found {}", kind(other)));
            }
        };
        if id.chars().any(char::is_control) || id.contains("::") {
            return Err(format!("`id` {id:?} names a test: it must be one line without control characters or `::`"));
        }
        let threshold = number_of("threshold")?;
        if let Some(threshold) = threshold {
            judge_rules::settings::get("threshold").range().check_value(threshold)?;
        }
        let samples = match number_of("samples")? {
            None => None,
            Some(samples) => {
                judge_rules::settings::get("samples").range().check_value(samples)?;
                Some(samples as u32)
            }
        };
        let settings =
            RowSettings { rubric: string("rubric")?, threshold, samples, compare_with: string("compare_with")? };
        string("input")?;
        string("expected")?;
        let human = match get("human") {
            None => None,
            Some(Value::Bool(pass)) => Some(HumanLabel::Pass(*pass)),
            Some(Value::Number(n)) => n.as_f64().map(HumanLabel::Score),
            Some(Value::String(s)) if is_csv => Some(match s.trim() {
                "true" => HumanLabel::Pass(true),
                "false" => HumanLabel::Pass(false),
                text => HumanLabel::Score(text.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                    format!("`human` is a person's score (a number on the eval's scale) or true/false, found {s:?}")
                })?),
            }),
            Some(other) => {
                return Err(format!(
                    "`human` is a person's score (a number on the eval's scale) or true/false, found {}",
                    kind(other)
                ));
            }
        };
        Ok(Self { line, id, settings, human, text })
    }

    /// Every field of the row.
    pub fn fields(&self) -> Map<String, Value> {
        serde_json::from_str(&self.text).expect("a row's text is a JSON object, checked when it was read")
    }

    /// The row's `input` and `expected`, where it has them, from one reading of its text.
    pub fn input_and_expected(&self) -> (Option<String>, Option<String>) {
        let mut fields = self.fields();
        let mut text = |key: &str| match fields.remove(key) {
            Some(Value::String(text)) => Some(text),
            _ => None,
        };
        (text("input"), text("expected"))
    }

    /// The row's variables: every field but the known ones.
    pub fn vars(&self) -> Map<String, Value> {
        let mut fields = self.fields();
        fields.retain(|key, _| !KNOWN.contains(&key.as_str()));
        fields
    }

    /// The row as a [`Case`]: an error if it has no `input`.
    pub fn case(&self) -> Result<Case, String> {
        let mut fields = self.fields();
        let mut take = |key: &str| match fields.shift_remove(key) {
            Some(Value::String(text)) => Some(text),
            _ => None,
        };
        let (input, expected) = (take("input"), take("expected"));
        let input = input.ok_or_else(|| {
            "the row has no `input`; give it one, or take a row type of your own (`fn f(row: &MyRow)`, MyRow: \
             serde::Deserialize)"
                .to_owned()
        })?;
        fields.retain(|key, _| !KNOWN.contains(&key.as_str()));
        Ok(Case { id: self.id.clone(), input, expected, vars: fields })
    }

    /// `rubric` with each `{{name}}` replaced by the row's `name` (`id`, `input`, `expected`, or a
    /// variable; a string as it is, any other value as JSON). A placeholder the row cannot fill is
    /// an error naming it and what the row has.
    pub fn fill(&self, rubric: &str) -> Result<String, String> {
        if !rubric.contains("{{") {
            return Ok(rubric.to_owned());
        }
        let fields = self.fields();
        let mut filled = String::with_capacity(rubric.len());
        let mut rest = rubric;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start + 2..].find("}}") else { break };
            let name = rest[start + 2..start + 2 + len].trim();
            if name == "human" {
                return Err(
                    "the rubric asks for {{human}}, the row's human label, which is never shown to the judge: \
                            it is what the judge's verdict is compared with"
                        .to_owned(),
                );
            }
            let value = match name {
                "id" => Some(self.id.clone()),
                _ => fields
                    .get(name)
                    .filter(|v| !v.is_null())
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
            };
            let value = value.ok_or_else(|| {
                let has: Vec<&str> = std::iter::once("id")
                    .chain(fields.iter().filter(|(k, v)| k.as_str() != "id" && !v.is_null()).map(|(k, _)| k.as_str()))
                    .collect();
                format!("the rubric asks for {{{{{name}}}}}, which the row does not have (it has: {})", has.join(", "))
            })?;
            filled.push_str(&rest[..start]);
            filled.push_str(&value);
            rest = &rest[start + 2 + len + 2..];
        }
        filled.push_str(rest);
        Ok(filled)
    }

    /// The row as a `T` of the user's, from all its fields.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_value::<T>(Value::Object(self.fields()))
            .map_err(|e: serde_json::Error| format!("the row cannot be read as `{}`: {e}", std::any::type_name::<T>()))
    }
}

/// A JSON value's kind, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
