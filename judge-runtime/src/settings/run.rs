//! The settings of a whole run: the environment over judge.toml's top (an eval's section cannot set
//! them), over the defaults.

use std::path::PathBuf;
use std::time::Duration;

use crate::settings::layer::Layer;
use crate::settings::modes::CacheMode;
use crate::settings::modes::ProgressMode;
use crate::settings::rationales::Rationales;
use crate::settings::{
    DEFAULT_DEADLINE_SECS, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_OUTPUT_CHARS, Settings,
};

/// The settings of a whole run, resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunSettings {
    pub max_concurrency: usize,
    pub cache: CacheMode,
    pub cache_dir: PathBuf,
    pub rationales: Rationales,
    /// The limit on one eval, all samples and retries included.
    pub deadline: Duration,
    pub max_attempts: u32,
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u64>,
    pub max_judge_calls: Option<u64>,
    pub max_judge_tokens: Option<u64>,
    pub max_output_chars: usize,
    pub reports: ReportPaths,
    /// The scores to compare with (`score_baseline`).
    pub score_baseline: Option<PathBuf>,
    /// Where to save this run's scores as a baseline (`save_score_baseline`).
    pub save_score_baseline: Option<PathBuf>,
    /// How far a score may fall below its baseline before the eval fails; `None`: never fails,
    /// the delta is only reported.
    pub max_score_drop: Option<f64>,
    /// How progress is shown on long runs.
    pub progress: ProgressMode,
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

impl Settings {
    /// The settings that hold for the whole run.
    pub fn run(&self) -> RunSettings {
        let m = Layer::merge(&[&self.env, &self.file]);
        RunSettings {
            max_concurrency: m.max_concurrency.map_or(DEFAULT_MAX_CONCURRENCY, |s| s.value),
            cache: m.cache.map_or(CacheMode::On, |s| s.value),
            cache_dir: m.cache_dir.map_or_else(|| self.default_cache_dir.clone(), |s| s.value),
            rationales: m.rationales.map_or(Rationales::Lowest, |s| s.value),
            deadline: m.deadline.map_or(Duration::from_secs_f64(DEFAULT_DEADLINE_SECS), |s| s.value),
            max_attempts: m.max_attempts.map_or(DEFAULT_MAX_ATTEMPTS, |s| s.value),
            requests_per_minute: m.requests_per_minute.map(|s| s.value),
            tokens_per_minute: m.tokens_per_minute.map(|s| s.value),
            max_judge_calls: m.max_judge_calls.map(|s| s.value),
            max_judge_tokens: m.max_judge_tokens.map(|s| s.value),
            max_output_chars: m.max_output_chars.map_or(DEFAULT_MAX_OUTPUT_CHARS, |s| s.value),
            reports: ReportPaths {
                dir: m.report_dir.map(|s| s.value),
                json: m.report_json.map(|s| s.value),
                junit: m.report_junit.map(|s| s.value),
                html: m.report_html.map(|s| s.value),
                markdown: m.report_markdown.map(|s| s.value),
            },
            score_baseline: m.score_baseline.map(|s| s.value),
            save_score_baseline: m.save_score_baseline.map(|s| s.value),
            max_score_drop: m.max_score_drop.map(|s| s.value),
            progress: m.progress.map_or(ProgressMode::Auto, |s| s.value),
            lock_dir: self.default_cache_dir.with_file_name("judge-locks"),
        }
    }
}
