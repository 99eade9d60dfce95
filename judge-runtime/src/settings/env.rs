//! The `JUDGE_*` environment variables, read into a layer by walking judge-rules' declarations.

use std::path::Path;

use judge_rules::settings::SETTINGS;

use crate::error::ConfigError;
use crate::settings::layer::Layer;
use crate::settings::read::Raw;
use crate::settings::source::Origin;

impl Layer {
    /// Reads the `JUDGE_*` variables through `var`; an empty one counts as unset. A relative path
    /// is taken from the workspace root, so that `cargo test` and nextest (which run in the package
    /// directory) agree.
    pub fn from_env(var: impl Fn(&str) -> Option<String>, workspace_root: &Path) -> Result<Self, ConfigError> {
        let mut layer = Self::new(Origin::Env);
        for setting in SETTINGS.iter().filter(|s| Self::KEYS.contains(&s.key)) {
            let Some(name) = setting.env else { continue };
            let Some(value) = var(name).filter(|v| !v.trim().is_empty()) else { continue };
            layer
                .read(setting, Raw::Env { text: value.trim(), base: workspace_root })
                .map_err(|reason| ConfigError::InvalidEnv { var: name, value: value.clone(), reason })?;
        }
        Ok(layer)
    }
}
