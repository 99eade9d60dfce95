//! Reading a dataset file into rows, by its extension: `.jsonl` (one JSON object per line, blank
//! lines skipped, read line by line), `.json` (an array of objects) and `.csv` (a header row, then
//! one record per row, read by the csv crate). Each row comes with the line it starts on.

use std::io::BufRead;
use std::path::Path;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::DatasetError;

/// A dataset's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Jsonl,
    Json,
    Csv,
}

impl Format {
    /// The format of `path`, by its extension.
    pub fn of(path: &Path) -> Result<Self, DatasetError> {
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("jsonl") => Ok(Self::Jsonl),
            Some("json") => Ok(Self::Json),
            Some("csv") => Ok(Self::Csv),
            other => Err(DatasetError::new(
                path,
                None,
                format!(
                    "{} is not a dataset format: name the file .jsonl (one JSON object per line), .json (an array \
                     of objects) or .csv (a header row)",
                    other.map_or_else(|| "a file without an extension".to_owned(), |e| format!("`.{e}`"))
                ),
            )),
        }
    }
}

/// One row as read: the line it starts on, its fields, and its text as a JSON object.
pub(crate) type RawRow = (usize, Map<String, Value>, Box<str>);

/// Hands every row of the dataset at `path` to `row`, in order, as it is read: a row is parsed,
/// checked and dropped before the next, so that reading holds one parsed row at a time.
pub(crate) fn read(
    path: &Path,
    format: Format,
    mut row: impl FnMut(RawRow) -> Result<(), DatasetError>,
) -> Result<(), DatasetError> {
    let unreadable = |e: std::io::Error| DatasetError::new(path, None, format!("cannot read the dataset: {e}"));
    match format {
        Format::Jsonl => {
            let file = std::fs::File::open(path).map_err(unreadable)?;
            for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
                let line = line.map_err(unreadable)?;
                if line.trim().is_empty() {
                    continue;
                }
                let value: Value = serde_json::from_str(&line)
                    .map_err(|e| DatasetError::new(path, Some(i + 1), malformed_in_line(&e)))?;
                row((i + 1, object(path, i + 1, value)?, line.trim().into()))?;
            }
            Ok(())
        }
        Format::Json => {
            let text = std::fs::read_to_string(path).map_err(unreadable)?;
            let items: Vec<&RawValue> = serde_json::from_str(&text).map_err(|e| {
                let message = if e.is_data() {
                    "the file is not a JSON array of objects (a .json dataset is `[{...}, {...}]`; for one object \
                     per line, name it .jsonl)"
                        .to_owned()
                } else {
                    format!("malformed JSON: {e}")
                };
                DatasetError::new(path, Some(e.line()), message)
            })?;
            // Each item borrows from `text`: its offset there gives its line, counted on from the
            // previous item's.
            let (mut counted, mut line) = (0, 1);
            for raw in items {
                let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
                line += text[counted..offset].matches('\n').count();
                counted = offset;
                // Read again as a value: the first reading checked the syntax only, so a number out
                // of range or a lone surrogate in a string shows here.
                let value: Value = serde_json::from_str(raw.get()).map_err(|e| {
                    let what = e.to_string();
                    let what = what.rsplit_once(" at line ").map_or(what.as_str(), |(what, _)| what).to_owned();
                    DatasetError::new(path, Some(line + e.line() - 1), format!("malformed JSON: {what}"))
                })?;
                row((line, object(path, line, value)?, raw.get().into()))?;
            }
            Ok(())
        }
        Format::Csv => {
            let mut reader =
                csv::ReaderBuilder::new().has_headers(true).from_path(path).map_err(|e| csv_error(path, e))?;
            let headers: Vec<String> =
                reader.headers().map_err(|e| csv_error(path, e))?.iter().map(|h| h.trim().to_owned()).collect();
            if let Some(empty) = headers.iter().position(String::is_empty) {
                return Err(DatasetError::new(
                    path,
                    Some(1),
                    format!("column {} of the header row has no name", empty + 1),
                ));
            }
            if let Some((i, name)) = headers.iter().enumerate().find(|(i, h)| headers[..*i].contains(h)) {
                return Err(DatasetError::new(
                    path,
                    Some(1),
                    format!("column {} of the header row repeats the name {name:?}: each field has one column", i + 1),
                ));
            }
            for record in reader.records() {
                let record = record.map_err(|e| csv_error(path, e))?;
                let line = record.position().map_or(0, |p| p.line() as usize);
                // An empty cell is an absent field: a CSV cannot tell "" from nothing.
                let fields: Map<String, Value> = headers
                    .iter()
                    .zip(record.iter())
                    .filter(|(_, cell)| !cell.is_empty())
                    .map(|(name, cell)| (name.clone(), Value::String(cell.to_owned())))
                    .collect();
                let text = serde_json::to_string(&fields).expect("a map of strings serializes").into();
                row((line, fields, text))?;
            }
            Ok(())
        }
    }
}

/// A JSON error within one line of a `.jsonl` file: its column, without serde's "line 1".
fn malformed_in_line(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let what = text.rsplit_once(" at line ").map_or(text.as_str(), |(what, _)| what);
    format!("malformed JSON at column {}: {what}", error.column())
}

/// A row must be a JSON object.
fn object(path: &Path, line: usize, value: Value) -> Result<Map<String, Value>, DatasetError> {
    match value {
        Value::Object(fields) => Ok(fields),
        other => Err(DatasetError::new(
            path,
            Some(line),
            format!("a row is a JSON object (`{{\"input\": …}}`), not {}", super::kind(&other)),
        )),
    }
}

fn csv_error(path: &Path, error: csv::Error) -> DatasetError {
    let line = error.position().map(|p| p.line() as usize);
    let message = match error.kind() {
        csv::ErrorKind::Io(e) => format!("cannot read the dataset: {e}"),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the record has {len} fields where the header row has {expected_len}")
        }
        _ => format!("malformed CSV: {error}"),
    };
    DatasetError::new(path, line, message)
}
