//! Settings and where they come from: the `#[llm_eval]` attribute, then `JUDGE_*` environment
//! variables, then the eval's `[evals."NAME"]` section of `judge.toml`, then the file's own
//! settings at the workspace root, then defaults.
//!
//! Each setting is declared once, in judge-rules' `declarations.rs` (key, type, reader, variable,
//! where it may be set, default, doc line, range); `layer.rs` builds the typed [`Layer`] from those
//! declarations. Each source is read into a layer (`env.rs`, `file.rs` with serde, `attribute.rs`);
//! one merge (`Layer::merge`) takes every setting from the first layer that sets it, with its
//! [`Source`]. Settings that resolve on their own get their declared default there
//! (`EvalValues`, `RunValues`); `eval.rs` and `run.rs` add the rules that span settings.
//!
//! Parsing is strict: an unknown `judge.toml` key or a value out of range is an error that names the
//! variable or key, never a silent default.

mod attribute;
mod cache_location;
pub(crate) mod criteria;
mod env;
mod eval;
mod file;
mod judges;
mod layer;
pub(crate) mod levels;
pub(crate) mod modes;
pub(crate) mod params;
pub(crate) mod prices;
mod rationales;
mod read;
mod run;
pub(crate) mod scale;
mod source;
pub(crate) mod steps;
mod workspace;

use std::path::{Path, PathBuf};

use crate::error::ConfigError;

pub(crate) use attribute::AttributeSettings;
pub(crate) use cache_location::CacheLocation;
pub(crate) use eval::{EvalSettings, RowOf};
pub use read::AttributeValue;

use file::CONFIG_FILE;
use layer::Layer;
pub use modes::{CacheMode, SnapshotMode};
pub use rationales::Rationales;
pub(crate) use run::{ReportPaths, RunSettings};
use workspace::workspace_root;

/// Default pass mark of a comparison's win rate: no worse than the output compared with.
pub(crate) const DEFAULT_COMPARISON_THRESHOLD: f64 = 0.5;

/// Default pass mark of the reduced score.
pub const DEFAULT_THRESHOLD: f64 = 0.7;
/// Default number of outputs generated and judged per eval.
pub const DEFAULT_SAMPLES: u32 = 1;
/// Default fraction of scores dropped at each end before averaging.
pub const DEFAULT_TRIM: f64 = 0.15;
/// Default limit on one judge request (connecting, waiting, reading the reply), in seconds.
pub const DEFAULT_TIMEOUT_SECS: f64 = 120.0;
/// Default length, in characters, beyond which an output is truncated before it is judged.
pub const DEFAULT_MAX_OUTPUT_CHARS: usize = 50_000;

/// The run settings as declared, before any source sets them: their declared defaults.
pub(crate) fn run_defaults() -> layer::RunValues {
    Layer::merge(&[]).run_values()
}

/// The embedded judge as the settings see it: the default judge when it is compiled in and its
/// model installed; else the command that installs the model, which the error for a run with no
/// judge names. The harness finds both out (the model's files are the embedded judge's business).
#[derive(Debug, Clone)]
pub(crate) struct EmbeddedJudge {
    /// Whether the embedded judge is compiled in and its default model installed.
    pub available: bool,
    /// The command that installs its default model.
    pub install_command: String,
}

/// All sources of settings, read once per run.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    env: Layer,
    file: Layer,
    workspace_root: PathBuf,
    default_cache_dir: PathBuf,
    /// The judge used when none is configured: the embedded one, when compiled in and installed.
    fallback_judge: Option<&'static str>,
    /// The command that installs the embedded judge's model, for the error when no judge is set.
    install_command: String,
}

impl Settings {
    /// Reads the process environment and `judge.toml` of the workspace that contains `manifest_dir`
    /// (or the file `JUDGE_CONFIG` names, relative to the workspace root).
    pub fn load(manifest_dir: &Path, target_dir: Option<&Path>, embedded: EmbeddedJudge) -> Result<Self, ConfigError> {
        let workspace_root = workspace_root(manifest_dir);
        let target_dir = target_dir.map_or_else(|| workspace_root.join("target"), Path::to_path_buf);
        let env = Layer::from_env(|name| std::env::var(name).ok(), &workspace_root)?;
        let file = match std::env::var("JUDGE_CONFIG").ok().filter(|v| !v.trim().is_empty()) {
            // A file named explicitly must exist.
            Some(path) => {
                let path = workspace_root.join(path.trim());
                if !path.is_file() {
                    return Err(ConfigError::InvalidEnv {
                        var: "JUDGE_CONFIG",
                        value: path.display().to_string(),
                        reason: "no such file; name an existing judge.toml or unset it".to_owned(),
                    });
                }
                Layer::from_file(&path)?
            }
            None => Layer::from_file(&workspace_root.join(CONFIG_FILE))?,
        };
        Ok(Self {
            env,
            file,
            default_cache_dir: target_dir.join("judge-cache"),
            workspace_root,
            fallback_judge: embedded.available.then_some("local"),
            install_command: embedded.install_command,
        })
    }

    #[cfg(test)]
    pub fn from_layers(env: Layer, file: Layer, workspace_root: &Path) -> Self {
        Self {
            env,
            file,
            default_cache_dir: workspace_root.join("target/judge-cache"),
            workspace_root: workspace_root.to_path_buf(),
            fallback_judge: None,
            install_command: "cargo judge model install".to_owned(),
        }
    }

    /// Whether evals without a `judge` attribute fall back on the embedded judge.
    pub fn falls_back_on_embedded_judge(&self) -> bool {
        !self.env.names_judge() && !self.file.names_judge() && self.fallback_judge.is_some()
    }

    /// The names of judge.toml's `[evals."NAME"]` sections that look meant for this test binary but
    /// name none of its `evals`: a typo or a renamed eval. A section whose name starts with this
    /// binary's crate (`evals::…` for the `evals` target), or that lacks a module path, or whose last
    /// segment is one of this binary's evals. Sections for other binaries of the workspace (one
    /// judge.toml serves them all) are theirs.
    pub fn unknown_eval_sections<'a>(&'a self, evals: &[String]) -> Vec<&'a str> {
        let root = |name: &str| name.split("::").next().unwrap_or_default().to_owned();
        let last = |name: &str| name.rsplit("::").next().unwrap_or_default().to_owned();
        let ours: Vec<String> = evals.iter().map(|e| root(e)).collect();
        let short: Vec<String> = evals.iter().map(|e| last(e)).collect();
        self.file
            .evals
            .keys()
            .map(String::as_str)
            .filter(|name| !evals.iter().any(|e| e == name))
            .filter(|name| !name.contains("::") || ours.contains(&root(name)) || short.contains(&last(name)))
            .collect()
    }
}

#[cfg(test)]
mod tests;
