//! judge.toml: read with serde into a layer for its top and one for each `[evals."NAME"]` section.
//! Each key is checked against judge-rules' declarations: where it may be set, and its value.

use std::collections::BTreeMap;
use std::path::Path;

use judge_rules::settings::{self, Setting};
use serde::Deserialize;

use crate::error::ConfigError;
use crate::settings::layer::Layer;
use crate::settings::read::Raw;
use crate::settings::source::Origin;

/// The name of the configuration file looked for at the workspace root.
pub const CONFIG_FILE: &str = "judge.toml";

/// judge.toml as written: the file's settings and its eval sections, each a table of keys.
#[derive(Deserialize)]
struct FileText {
    /// `[evals."module::name"]` sections.
    #[serde(default)]
    evals: BTreeMap<String, toml::Table>,
    /// Every other key: the file's own settings.
    #[serde(flatten)]
    top: toml::Table,
}

impl Layer {
    /// Reads `judge.toml`; a missing file is an empty layer. Relative paths are taken from the
    /// file's directory.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(ConfigError::FileUnreadable { path: path.to_owned(), reason: e.to_string() }),
        };
        Self::from_toml(&text, path)
    }

    /// Reads the text of the judge.toml at `path`.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let file: FileText = toml::from_str(text).map_err(|e: toml::de::Error| ConfigError::FileUnreadable {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let mut layer = Self::from_table(&file.top, path, None)?;
        for (eval, table) in &file.evals {
            layer.evals.insert(eval.clone(), Self::from_table(table, path, Some(eval))?);
        }
        Ok(layer)
    }

    /// Reads the keys of `table`: the top of judge.toml at `path`, or its section for the eval
    /// `section`, which takes only the settings of one eval.
    fn from_table(table: &toml::Table, path: &Path, section: Option<&str>) -> Result<Self, ConfigError> {
        let base = path.parent().unwrap_or(Path::new("."));
        let prefix = section.map_or(String::new(), |eval| format!("evals.\"{eval}\"."));
        let invalid = |key: &str, reason: String| ConfigError::InvalidFileKey {
            path: path.to_owned(),
            key: format!("{prefix}{key}"),
            reason,
        };
        let mut layer = Self::new(Origin::File { path: path.to_owned(), section: section.map(str::to_owned) });
        for (key, value) in table {
            let setting = place(settings::find(key), section.is_some()).map_err(|reason| invalid(key, reason))?;
            if setting.key != key {
                layer.written.insert(setting.key, key.clone());
            }
            layer.read(setting, Raw::Toml { value, base }).map_err(|reason| invalid(key, reason))?;
        }
        let set = (layer.levels.is_some(), layer.criteria.is_some(), layer.compare_with.is_some());
        if let Some(conflict) = judge_rules::techniques::conflict(set.0, set.1, set.2) {
            return Err(invalid(layer.written(conflict.key), conflict.reason()));
        }
        Ok(layer)
    }
}

/// The setting a key of judge.toml names, if that place (a section, or the top) takes it.
fn place(setting: Option<&'static Setting>, in_section: bool) -> Result<&'static Setting, String> {
    match setting {
        Some(s) if in_section && s.section => Ok(s),
        _ if in_section => Err(format!(
            "is not a setting of one eval; an [evals.\"NAME\"] section takes: {}",
            settings::keys(|s| s.section)
        )),
        Some(s) if s.file => Ok(s),
        Some(s) if s.section => Err("belongs to one eval: put it in an [evals.\"module::name\"] section".to_owned()),
        _ => Err(format!("is unknown; valid keys are: {}, evals", settings::keys(|s| s.file))),
    }
}
