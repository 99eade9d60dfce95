//! The settings of a whole run: the environment over judge.toml's top (an eval's section cannot set
//! them), over the declared defaults.

use std::path::PathBuf;
use std::time::Duration;

use crate::settings::CacheLocation;

use crate::settings::Settings;
use crate::settings::layer::{Layer, RunValues};

/// The settings of a whole run, resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunSettings {
    /// The run settings that resolve on their own, by key: their value, or their declared default
    /// (optional where they declare none).
    pub values: RunValues,
    /// Where the verdicts are cached: `cache_dir`, else the target directory's `judge-cache`.
    pub cache_dir: CacheLocation,
    /// The limit on one request to an object store holding the cache: `timeout` as the
    /// environment and judge.toml's top set it (an eval's own cannot bound the run's cache).
    pub cache_timeout: Duration,
    /// Where the locks live that let processes take turns updating a report or the baseline: the
    /// target directory's `judge-locks`.
    pub lock_dir: PathBuf,
}

/// Where the run's reports go; none is written unless asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ReportPaths {
    /// `report_dir`: every report, named after the test binary.
    pub dir: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
}

impl ReportPaths {
    /// The path of each report of `binary`, `(json, junit, html, markdown)`: its own setting,
    /// else `report_dir/BINARY.{json,junit.xml,html,md}`.
    pub fn resolve(&self, binary: &str) -> [Option<PathBuf>; 4] {
        let in_dir = |ext: &str| self.dir.as_ref().map(|dir| dir.join(format!("{binary}.{ext}")));
        [
            self.json.clone().or_else(|| in_dir("json")),
            self.junit.clone().or_else(|| in_dir("junit.xml")),
            self.html.clone().or_else(|| in_dir("html")),
            self.markdown.clone().or_else(|| in_dir("md")),
        ]
    }
}

impl RunSettings {
    /// Where the run's reports go.
    pub fn reports(&self) -> ReportPaths {
        let v = &self.values;
        ReportPaths {
            dir: v.report_dir.clone(),
            json: v.report_json.clone(),
            junit: v.report_junit.clone(),
            html: v.report_html.clone(),
            markdown: v.report_markdown.clone(),
        }
    }
}

impl Settings {
    /// The settings that hold for the whole run.
    pub fn run(&self) -> RunSettings {
        let merged = Layer::merge(&[&self.env, &self.file]);
        RunSettings {
            values: merged.run_values(),
            cache_timeout: merged.eval_values().timeout,
            cache_dir: merged.cache_dir.map_or_else(|| CacheLocation::Dir(self.default_cache_dir.clone()), |s| s.value),
            lock_dir: self.default_cache_dir.with_file_name("judge-locks"),
        }
    }
}
