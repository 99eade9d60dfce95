//! Where a resolved setting came from, so that a failure and the reports can say it: an eval whose
//! threshold is 0.9 "from JUDGE_THRESHOLD" is fixed in CI, not in the code.

use std::fmt;
use std::path::PathBuf;

use crate::error::ConfigError;

/// The place a layer of settings was read from.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Origin {
    /// The `JUDGE_*` environment variables.
    #[default]
    Env,
    /// The `#[llm_eval]` attribute of the eval named.
    Attribute(String),
    /// judge.toml at `path`: its top, or its `[evals."NAME"]` section.
    File {
        /// The file.
        path: PathBuf,
        /// The eval whose section this is; `None`: the top of the file.
        section: Option<String>,
    },
    /// A row of a dataset: the row's own `threshold`, `samples`, `compare_with`.
    Row {
        /// The dataset file, resolved.
        path: PathBuf,
        /// The row's line.
        line: usize,
    },
}

impl Origin {
    /// The source of the setting `key` read from this place.
    pub fn source(&self, key: &'static str) -> Source {
        match self {
            Self::Env => Source::Env(judge_rules::settings::get(key).env.unwrap_or(key)),
            Self::Attribute(eval) => Source::Attribute { eval: eval.clone(), key },
            Self::File { path, section } => Source::File {
                path: path.clone(),
                key: match section {
                    Some(eval) => format!("evals.\"{eval}\".{key}"),
                    None => key.to_owned(),
                },
            },
            Self::Row { path, line } => Source::Row { path: path.clone(), line: *line, key },
        }
    }
}

/// Where one resolved setting came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Source {
    /// The eval's attribute.
    Attribute {
        /// The eval.
        eval: String,
        /// The attribute key.
        key: &'static str,
    },
    /// An environment variable.
    Env(&'static str),
    /// A key of judge.toml: `threshold`, or `evals."NAME".threshold` in an eval's section.
    File {
        /// The file.
        path: PathBuf,
        /// The key, with its section.
        key: String,
    },
    /// A field of a dataset's row.
    Row {
        /// The dataset file, resolved.
        path: PathBuf,
        /// The row's line.
        line: usize,
        /// The field.
        key: &'static str,
    },
    /// The default.
    Default,
}

impl Source {
    /// A short label for the reports: `attribute`, `JUDGE_THRESHOLD`, `judge.toml: threshold`,
    /// `default`.
    pub fn label(&self) -> String {
        match self {
            Self::Attribute { .. } => "attribute".to_owned(),
            Self::Env(var) => (*var).to_owned(),
            Self::File { path, key } => {
                format!(
                    "{}: {key}",
                    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into())
                )
            }
            Self::Row { path, line, .. } => format!(
                "row: {}:{line}",
                path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into())
            ),
            Self::Default => "default".to_owned(),
        }
    }

    /// `reason` as the error of a value from this source that does not fit the eval `eval`.
    pub fn error(&self, eval: &str, value: impl fmt::Display, reason: String) -> ConfigError {
        match self {
            Self::Attribute { eval, key } => ConfigError::InvalidAttribute { eval: eval.clone(), key, reason },
            Self::Env(var) => {
                ConfigError::InvalidEnv { var, value: value.to_string(), reason: format!("for {eval}: {reason}") }
            }
            Self::File { path, key } => ConfigError::InvalidFileKey {
                path: path.clone(),
                key: key.clone(),
                reason: format!("for {eval}: {reason}"),
            },
            Self::Row { path, line, key } => ConfigError::Dataset(crate::error::DatasetError::new(
                path,
                Some(*line),
                format!("the row's `{key}` {value} does not fit {eval}: {reason}"),
            )),
            Self::Default => ConfigError::InvalidAttribute { eval: eval.to_owned(), key: "default", reason },
        }
    }
}

/// Where a judge came from, as its errors say it: "the `judge` attribute of evals::x",
/// "JUDGE_MODEL", "`judge` in /ws/judge.toml".
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Attribute { eval, key } => write!(f, "the `{key}` attribute of {eval}"),
            Self::Env(var) => f.write_str(var),
            Self::File { path, key } => write!(f, "`{key}` in {}", path.display()),
            Self::Row { path, line, key } => write!(f, "the `{key}` of the row on line {line} of {}", path.display()),
            Self::Default => f.write_str("the default"),
        }
    }
}

/// A resolved value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub source: Source,
}

impl<T> Sourced<T> {
    /// A default value.
    pub fn default(value: T) -> Self {
        Self { value, source: Source::Default }
    }
}
