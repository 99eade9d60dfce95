//! Reading one setting's value — an environment variable's text, a judge.toml value, or an attribute's
//! value read by its kind — into its type: the readers that judge-rules' declarations name, with the
//! declared ranges and words.

use std::path::{Path, PathBuf};
use std::time::Duration;

use judge_rules::settings::Setting;

/// A value of the attribute read by its setting's kind (a number in its range, one of its words, a
/// text), as the macro hands it over.
#[derive(Debug, Clone, Copy, PartialEq)]
#[doc(hidden)]
pub enum AttributeValue {
    /// A number.
    Number(f64),
    /// A whole number.
    Whole(u64),
    /// A text: one of the setting's words, or any text.
    Text(&'static str),
    /// Texts: an array of the setting's words.
    Texts(&'static [&'static str]),
}

/// A value as found, before it is read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Raw<'a> {
    /// An environment variable's value, trimmed; a relative path is taken from `base`, the
    /// workspace root.
    Env {
        /// The text.
        text: &'a str,
        /// The workspace root.
        base: &'a Path,
    },
    /// A judge.toml value; a relative path is taken from `base`, the file's directory.
    Toml {
        /// The value.
        value: &'a toml::Value,
        /// The file's directory.
        base: &'a Path,
    },
    /// A value of the attribute, read by its kind.
    Attribute(AttributeValue),
}

impl<'a> Raw<'a> {
    /// The value as a string.
    pub fn str(self) -> Result<&'a str, String> {
        match self {
            Self::Env { text, .. } | Self::Attribute(AttributeValue::Text(text)) => Ok(text),
            Self::Attribute(_) => Err("must be a string".to_owned()),
            Self::Toml { value, .. } => {
                value.as_str().ok_or_else(|| format!("must be a string, found {}", value.type_str()))
            }
        }
    }

    /// The value as a list of strings: comma-separated in a variable, an array in judge.toml.
    pub fn strings(self) -> Result<Vec<String>, String> {
        match self {
            Self::Env { text, .. } => {
                Ok(text.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            }
            Self::Toml { value, .. } => value
                .as_array()
                .ok_or_else(|| "must be an array of strings".to_owned())?
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| "must be an array of strings".to_owned()))
                .collect(),
            Self::Attribute(AttributeValue::Texts(texts)) => Ok(texts.iter().map(|&t| t.to_owned()).collect()),
            Self::Attribute(_) => Err("must be an array of strings".to_owned()),
        }
    }

    fn f64(self) -> Result<f64, String> {
        match self {
            Self::Env { text, .. } => text.parse().map_err(|_| format!("{text:?} is not a number")),
            Self::Toml { value: toml::Value::Float(f), .. } => Ok(*f),
            Self::Toml { value: toml::Value::Integer(i), .. } => Ok(*i as f64),
            Self::Toml { value, .. } => Err(format!("must be a number, found {}", value.type_str())),
            Self::Attribute(AttributeValue::Number(v)) => Ok(v),
            Self::Attribute(AttributeValue::Whole(v)) => Ok(v as f64),
            Self::Attribute(AttributeValue::Text(_) | AttributeValue::Texts(_)) => Err("must be a number".to_owned()),
        }
    }

    fn i64(self) -> Result<i64, String> {
        match self {
            Self::Env { text, .. } => text.parse().map_err(|_| format!("{text:?} is not a whole number")),
            Self::Toml { value, .. } => {
                value.as_integer().ok_or_else(|| format!("must be a whole number, found {}", value.type_str()))
            }
            Self::Attribute(AttributeValue::Whole(v)) => i64::try_from(v).map_err(|_| format!("{v} is too large")),
            Self::Attribute(_) => Err("must be a whole number".to_owned()),
        }
    }

    fn base(self) -> &'a Path {
        match self {
            Self::Env { base, .. } | Self::Toml { base, .. } => base,
            Self::Attribute(_) => Path::new(""),
        }
    }
}

/// A number in the setting's range.
pub(crate) fn number(setting: &Setting, raw: Raw<'_>) -> Result<f64, String> {
    let v = raw.f64()?;
    setting.range().check_value(v).map(|()| v)
}

/// A whole number in the setting's range, as `T`.
pub(crate) fn whole<T: TryFrom<i64>>(setting: &Setting, raw: Raw<'_>) -> Result<T, String> {
    let range = setting.range();
    let v = raw.i64()?;
    range.check_value(v as f64)?;
    T::try_from(v).map_err(|_| format!("{v} is out of range: {}", range.must()))
}

/// A number of seconds in the setting's range.
pub(crate) fn seconds(setting: &Setting, raw: Raw<'_>) -> Result<Duration, String> {
    number(setting, raw).map(Duration::from_secs_f64)
}

/// One of a few words, read by `parse`.
pub(crate) fn word<T>(parse: impl Fn(&str) -> Result<T, String>) -> impl Fn(&Setting, Raw<'_>) -> Result<T, String> {
    move |_, raw| parse(raw.str()?)
}

/// Any string.
pub(crate) fn text(raw: Raw<'_>) -> Result<String, String> {
    raw.str().map(str::to_owned)
}

/// A string that is not blank.
pub(crate) fn non_empty(raw: Raw<'_>) -> Result<String, String> {
    let text = raw.str()?;
    if text.trim().is_empty() { Err("is empty".to_owned()) } else { Ok(text.to_owned()) }
}

/// Where the verdict cache is: `s3://BUCKET/PREFIX`, else a directory from the reader's base.
pub(crate) fn cache_location(_: &Setting, raw: Raw<'_>) -> Result<crate::settings::CacheLocation, String> {
    crate::settings::CacheLocation::parse(raw.str()?, raw.base())
}

/// A file, from the reader's base; an empty name is an error rather than the base itself.
pub(crate) fn file(_: &Setting, raw: Raw<'_>) -> Result<PathBuf, String> {
    let path = raw.str()?;
    if path.trim().is_empty() {
        return Err("is empty; name a file or remove the key".to_owned());
    }
    Ok(raw.base().join(path))
}
