//! Settings and where they come from: the `#[llm_eval]` attribute, then `JUDGE_*` environment
//! variables, then `judge.toml` at the workspace root, then defaults.
//!
//! Parsing is strict: an unknown `judge.toml` key or a value out of range is an error that names the
//! variable or key, never a silent default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::aggregate::Reducer;
use crate::cache::CacheMode;
use crate::error::ConfigError;
use crate::judge::JudgeSpec;
use crate::judge::criteria::{Criteria, CriterionDef};
use crate::judge::ensemble::Combine;
use crate::judge::levels::Levels;
use crate::judge::params::GenerationParams;
use crate::judge::steps::{Steps, StepsDef};
use crate::judge::verdict::Scale;
use crate::report::progress::ProgressMode;
use crate::snapshot::SnapshotMode;
use judge_rules::words;

/// The name of the configuration file looked for at the workspace root.
pub const CONFIG_FILE: &str = "judge.toml";

/// Default pass mark of a comparison's win rate: no worse than the baseline.
pub(crate) const DEFAULT_COMPARISON_THRESHOLD: f64 = 0.5;

/// Default pass mark of the reduced score.
pub const DEFAULT_THRESHOLD: f64 = 0.7;
/// Default number of outputs generated and judged per eval.
pub const DEFAULT_SAMPLES: u32 = 1;
/// Default fraction of scores dropped at each end before averaging.
pub const DEFAULT_TRIM: f64 = 0.15;
/// Default number of judge requests in flight at once, per process.
pub const DEFAULT_MAX_CONCURRENCY: usize = 16;
/// Default limit on one judge request (connecting, waiting, reading the reply), in seconds.
pub const DEFAULT_TIMEOUT_SECS: f64 = 120.0;
/// Default limit on one whole eval (every sample, every retry), in seconds.
pub const DEFAULT_DEADLINE_SECS: f64 = 900.0;
/// Default number of attempts of a judge request that fails transiently, the first included.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 6;
/// Default length, in characters, beyond which an output is truncated before it is judged.
pub const DEFAULT_MAX_OUTPUT_CHARS: usize = 50_000;

/// Which rationales a failure message shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rationales {
    /// The rationale of the lowest-scoring sample that was kept by the trimmed mean.
    Lowest,
    /// Every sample's rationale.
    All,
}

/// The keys of `judge.toml`, which are also the names of the settings.
const FILE_KEYS: &[&str] = &[
    "judge",
    "threshold",
    "samples",
    "trim",
    "temperature",
    "max_tokens",
    "seed",
    "timeout",
    "max_concurrency",
    "cache",
    "cache_dir",
    "rationales",
    "deadline",
    "max_attempts",
    "requests_per_minute",
    "tokens_per_minute",
    "max_judge_calls",
    "max_judge_tokens",
    "max_output_chars",
    "report_dir",
    "report_json",
    "report_junit",
    "report_html",
    "report_markdown",
    "score_baseline",
    "save_score_baseline",
    "max_score_drop",
    "progress",
    "snapshot",
    "reduce",
    "scoring",
    "levels",
    "criteria",
    "judges",
    "combine",
    "max_spread",
    "on_disagreement",
    "steps",
    "evals",
];

/// The keys of judge.toml that an `[evals."NAME"]` section may set: the settings of one eval.
const EVAL_KEYS: &[&str] = &[
    "judge",
    "judges",
    "threshold",
    "samples",
    "trim",
    "reduce",
    "scoring",
    "levels",
    "criteria",
    "baseline",
    "steps",
    "combine",
    "max_spread",
    "on_disagreement",
    "temperature",
    "max_tokens",
    "seed",
    "timeout",
    "snapshot",
];

/// The report settings that name files, with their variables: `report_dir` holds every report
/// of a test binary, named after it; each `report_*` path overrides its one file.
const PATH_KEYS: &[(&str, &str)] = &[
    ("report_dir", "JUDGE_REPORT_DIR"),
    ("report_json", "JUDGE_REPORT_JSON"),
    ("report_junit", "JUDGE_REPORT_JUNIT"),
    ("report_html", "JUDGE_REPORT_HTML"),
    ("report_markdown", "JUDGE_REPORT_MARKDOWN"),
    ("score_baseline", "JUDGE_SCORE_BASELINE"),
    ("save_score_baseline", "JUDGE_SAVE_SCORE_BASELINE"),
];

/// One source of settings (the environment or `judge.toml`): every field optional.
#[derive(Debug, Default, Clone)]
pub(crate) struct Layer {
    pub judge: Option<String>,
    pub threshold: Option<f64>,
    pub samples: Option<u32>,
    pub trim: Option<f64>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub seed: Option<u64>,
    pub timeout: Option<Duration>,
    pub max_concurrency: Option<usize>,
    pub cache: Option<CacheMode>,
    pub cache_dir: Option<PathBuf>,
    pub rationales: Option<Rationales>,
    pub deadline: Option<Duration>,
    pub max_attempts: Option<u32>,
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u64>,
    pub max_judge_calls: Option<u64>,
    pub max_judge_tokens: Option<u64>,
    pub max_output_chars: Option<usize>,
    /// The paths of [`PATH_KEYS`], by key, made absolute.
    pub paths: std::collections::BTreeMap<&'static str, PathBuf>,
    pub max_score_drop: Option<f64>,
    pub progress: Option<ProgressMode>,
    pub snapshot: Option<SnapshotMode>,
    /// A `reduce` value, checked once the eval's trim is known.
    pub reduce: Option<String>,
    /// `scoring`: true for `"weighted"`.
    pub scoring: Option<bool>,
    /// `levels` (judge.toml only): bands of the scale, validated when read.
    pub levels: Option<Levels>,
    /// `[criteria]` (judge.toml only): criteria scored separately, validated when read.
    pub criteria: Option<Criteria>,
    /// An ensemble of judges, `provider:model` each (checked when an eval resolves them).
    pub judges: Option<Vec<String>>,
    /// How an ensemble's scores combine.
    pub combine: Option<Combine>,
    /// The largest spread between an ensemble's scores that is not flagged.
    pub max_spread: Option<f64>,
    /// `on_disagreement`: true for `"fail"`.
    pub fail_on_disagreement: Option<bool>,
    /// G-Eval's evaluation steps (judge.toml only), validated when read.
    pub steps: Option<Steps>,
    /// The text outputs are compared with (an `[evals."NAME"]` section of judge.toml only).
    pub baseline: Option<String>,
    /// judge.toml's `[evals."module::name"]` sections: settings of one eval, over the file's own.
    pub evals: std::collections::BTreeMap<String, Layer>,
}

/// What an `#[llm_eval]` attribute set; `None` where the key was not given.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct AttributeSettings<'a> {
    pub judge: Option<&'a str>,
    pub threshold: Option<f64>,
    pub samples: Option<u32>,
    pub trim: Option<f64>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub seed: Option<u64>,
    /// Seconds.
    pub timeout: Option<f64>,
    pub snapshot: Option<SnapshotMode>,
    pub reduce: Option<&'a str>,
    /// `scoring`: true for `"weighted"`.
    pub scoring: Option<bool>,
    pub levels: Option<&'a [&'a str]>,
    pub criteria: Option<&'a [CriterionDef]>,
    /// Whether the eval compares its outputs with a `baseline`.
    pub compares: bool,
    pub judges: Option<&'a [&'a str]>,
    pub combine: Option<&'a str>,
    pub max_spread: Option<f64>,
    pub on_disagreement: Option<&'a str>,
    pub steps: Option<StepsDef>,
}

/// The settings of one eval, resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EvalSettings {
    /// The judge, or the first of the ensemble.
    pub judge: JudgeSpec,
    /// Every judge: one, or the ensemble (`judges`).
    pub panel: Vec<JudgeSpec>,
    /// How an ensemble's scores of a sample combine.
    pub combine: Combine,
    /// The largest spread between an ensemble's scores of a sample that is not flagged.
    pub max_spread: Option<f64>,
    /// Whether a flagged disagreement fails the eval (`on_disagreement = "fail"`).
    pub fail_on_disagreement: bool,
    pub threshold: f64,
    pub samples: u32,
    pub trim: f64,
    pub generation: GenerationParams,
    /// The limit on one judge request.
    pub timeout: Duration,
    /// Whether the verdict is snapshotted with insta, and whether a change fails.
    pub snapshot: SnapshotMode,
    /// How the samples' scores reduce to the eval's score.
    pub reduce: Reducer,
    /// The rubric's levels, if any.
    pub levels: Option<Levels>,
    /// The criteria scored separately, if any.
    pub criteria: Option<Criteria>,
    /// Whether outputs are compared with a baseline (the attribute's, or judge.toml's for this eval).
    pub compares: bool,
    /// The baseline text from the eval's judge.toml section, when the attribute sets none.
    pub baseline: Option<String>,
    /// Evaluation steps, given or generated, if any.
    pub steps: Option<Steps>,
}

impl EvalSettings {
    /// The judge as reports name it: `provider:model`, or an ensemble's joined with ` + `.
    pub fn judge_label(&self) -> String {
        self.panel.iter().map(ToString::to_string).collect::<Vec<_>>().join(" + ")
    }
}

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

/// All sources of settings, read once per run.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    env: Layer,
    file: Layer,
    workspace_root: PathBuf,
    default_cache_dir: PathBuf,
    /// The judge used when none is configured: the embedded one, when compiled in and installed.
    fallback_judge: Option<&'static str>,
}

impl Settings {
    /// Reads the process environment and `judge.toml` of the workspace that contains `manifest_dir`
    /// (or the file `JUDGE_CONFIG` names, relative to the workspace root).
    pub fn load(manifest_dir: &Path, target_dir: Option<&Path>) -> Result<Self, ConfigError> {
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
        let fallback_judge =
            (cfg!(feature = "local") && crate::local_model::default_model_installed()).then_some("local");
        Ok(Self { env, file, default_cache_dir: target_dir.join("judge-cache"), workspace_root, fallback_judge })
    }

    #[cfg(test)]
    pub fn from_layers(env: Layer, file: Layer, workspace_root: &Path) -> Self {
        Self {
            env,
            file,
            default_cache_dir: workspace_root.join("target/judge-cache"),
            workspace_root: workspace_root.to_path_buf(),
            fallback_judge: None,
        }
    }

    /// Whether evals without a `judge` attribute fall back on the embedded judge.
    pub fn falls_back_on_embedded_judge(&self) -> bool {
        let configured = |layer: &Layer| layer.judge.is_some() || layer.judges.is_some();
        !configured(&self.env) && !configured(&self.file) && self.fallback_judge.is_some()
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

    /// The settings that hold for the whole run.
    pub fn run(&self) -> RunSettings {
        let (env, file) = (&self.env, &self.file);
        RunSettings {
            max_concurrency: env.max_concurrency.or(file.max_concurrency).unwrap_or(DEFAULT_MAX_CONCURRENCY),
            cache: env.cache.or(file.cache).unwrap_or(CacheMode::On),
            cache_dir: env
                .cache_dir
                .clone()
                .or_else(|| file.cache_dir.clone())
                .unwrap_or_else(|| self.default_cache_dir.clone()),
            rationales: env.rationales.or(file.rationales).unwrap_or(Rationales::Lowest),
            deadline: env.deadline.or(file.deadline).unwrap_or(Duration::from_secs_f64(DEFAULT_DEADLINE_SECS)),
            max_attempts: env.max_attempts.or(file.max_attempts).unwrap_or(DEFAULT_MAX_ATTEMPTS),
            requests_per_minute: env.requests_per_minute.or(file.requests_per_minute),
            tokens_per_minute: env.tokens_per_minute.or(file.tokens_per_minute),
            max_judge_calls: env.max_judge_calls.or(file.max_judge_calls),
            max_judge_tokens: env.max_judge_tokens.or(file.max_judge_tokens),
            max_output_chars: env.max_output_chars.or(file.max_output_chars).unwrap_or(DEFAULT_MAX_OUTPUT_CHARS),
            reports: ReportPaths {
                dir: self.path("report_dir"),
                json: self.path("report_json"),
                junit: self.path("report_junit"),
                html: self.path("report_html"),
                markdown: self.path("report_markdown"),
            },
            score_baseline: self.path("score_baseline"),
            save_score_baseline: self.path("save_score_baseline"),
            max_score_drop: env.max_score_drop.or(file.max_score_drop),
            progress: env.progress.or(file.progress).unwrap_or(ProgressMode::Auto),
            lock_dir: self.default_cache_dir.with_file_name("judge-locks"),
        }
    }

    /// The path setting `key` (one of [`PATH_KEYS`]): from the environment, else the file.
    fn path(&self, key: &str) -> Option<PathBuf> {
        self.env.paths.get(key).or_else(|| self.file.paths.get(key)).cloned()
    }

    /// The settings of one eval: its attribute first, then the environment, `judge.toml`, defaults.
    pub fn eval(&self, eval: &str, attr: AttributeSettings<'_>) -> Result<EvalSettings, ConfigError> {
        let section = self.file.evals.get(eval).map(|section| section.over(&self.file));
        let (env, file) = (&self.env, section.as_ref().unwrap_or(&self.file));
        // A baseline from the eval's judge.toml section counts as the attribute's would (which wins).
        // The attribute's levels or criteria set a file baseline aside, as they do the file's others.
        let compares_file =
            !attr.compares && attr.levels.is_none() && attr.criteria.is_none() && file.baseline.is_some();
        let attr = AttributeSettings { compares: attr.compares || compares_file, ..attr };
        // Each source names one judge (`judge`) or an ensemble (`judges`); the first source that
        // names either decides, and within a source `judges` wins.
        let file_name = || self.workspace_root.join(CONFIG_FILE).display().to_string();
        // Where in judge.toml a judge came from: the eval's section, or the top.
        let own = self.file.evals.get(eval).is_some_and(|s| s.judge.is_some() || s.judges.is_some());
        let section_prefix = if own { format!("evals.\"{eval}\".") } else { String::new() };
        let one = |spec: &str| vec![spec.to_owned()];
        let (specs, source, ensemble) = if let Some(judges) = attr.judges {
            (judges.iter().map(|s| (*s).to_owned()).collect(), format!("the `judges` attribute of {eval}"), true)
        } else if let Some(spec) = attr.judge {
            (one(spec), format!("the `judge` attribute of {eval}"), false)
        } else if let Some(judges) = &env.judges {
            (judges.clone(), "JUDGE_MODELS".to_owned(), true)
        } else if let Some(spec) = &env.judge {
            (one(spec), "JUDGE_MODEL".to_owned(), false)
        } else if let Some(judges) = &file.judges {
            (judges.clone(), format!("`{}judges` in {}", section_prefix, file_name()), true)
        } else if let Some(spec) = &file.judge {
            (one(spec), format!("`{}judge` in {}", section_prefix, file_name()), false)
        } else if let Some(spec) = self.fallback_judge {
            (one(spec), "the default (no judge configured)".to_owned(), false)
        } else {
            return Err(ConfigError::NoJudge { workspace_root: self.workspace_root.clone() });
        };
        let invalid_judge = |spec: &str, reason: String| ConfigError::InvalidJudge {
            spec: spec.to_owned(),
            source_name: source.clone(),
            reason,
        };
        let mut panel: Vec<JudgeSpec> = Vec::with_capacity(specs.len());
        for spec in &specs {
            let parsed = JudgeSpec::parse(spec).map_err(|reason| invalid_judge(spec, reason))?;
            if panel.contains(&parsed) {
                return Err(invalid_judge(spec, "named twice in the ensemble".to_owned()));
            }
            panel.push(parsed);
        }
        if ensemble {
            words::ensemble_size(specs.len()).map_err(|reason| invalid_judge(&specs.join(", "), reason))?;
        }
        let judge = panel[0].clone();
        // Attribute values were range-checked at compile time; check again, as the runtime can be
        // driven by code the macro did not write.
        let attr_err = |key: &'static str| {
            move |reason: String| ConfigError::InvalidAttribute { eval: eval.to_owned(), key, reason }
        };
        let threshold = match attr.threshold {
            Some(v) => check_threshold(v).map_err(attr_err("threshold"))?,
            None => env.threshold.or(file.threshold).unwrap_or(if attr.compares {
                // A comparison's score is a win rate: by default, no worse than the baseline.
                DEFAULT_COMPARISON_THRESHOLD
            } else {
                DEFAULT_THRESHOLD
            }),
        };
        let samples = match attr.samples {
            Some(v) => check_samples(i64::from(v)).map_err(attr_err("samples"))?,
            None => env.samples.or(file.samples).unwrap_or(DEFAULT_SAMPLES),
        };
        let trim = match attr.trim {
            Some(v) => check_trim(v).map_err(attr_err("trim"))?,
            None => env.trim.or(file.trim).unwrap_or(DEFAULT_TRIM),
        };
        let temperature = match attr.temperature {
            Some(v) => check_temperature(v).map_err(attr_err("temperature"))?,
            None => env.temperature.or(file.temperature).unwrap_or(crate::judge::params::DEFAULT_TEMPERATURE),
        };
        let max_tokens = match attr.max_tokens {
            Some(v) => Some(check_max_tokens(i64::from(v)).map_err(attr_err("max_tokens"))?),
            None => env.max_tokens.or(file.max_tokens),
        };
        let timeout = match attr.timeout {
            Some(v) => check_seconds(v).map_err(attr_err("timeout"))?,
            None => env.timeout.or(file.timeout).unwrap_or(Duration::from_secs_f64(DEFAULT_TIMEOUT_SECS)),
        };
        let generation = GenerationParams {
            temperature: Some(temperature),
            max_tokens,
            seed: attr.seed.or(env.seed).or(file.seed),
            weighted: attr.scoring.or(env.scoring).or(file.scoring).unwrap_or(true),
        };
        let snapshot = attr.snapshot.or(env.snapshot).or(file.snapshot).unwrap_or(SnapshotMode::Off);
        let reduce = match (attr.reduce, &env.reduce, &file.reduce) {
            (Some(v), _, _) => Reducer::parse(v, trim).and_then(|r| r.check(samples)).map_err(attr_err("reduce"))?,
            (None, Some(v), _) => {
                Reducer::parse(v, trim).and_then(|r| r.check(samples)).map_err(|reason| ConfigError::InvalidEnv {
                    var: "JUDGE_REDUCE",
                    value: v.clone(),
                    reason: format!("for {eval}: {reason}"),
                })?
            }
            (None, None, Some(v)) => Reducer::parse(v, trim).and_then(|r| r.check(samples)).map_err(|reason| {
                ConfigError::InvalidFileKey {
                    path: self.workspace_root.join(CONFIG_FILE),
                    key: "reduce".to_owned(),
                    reason: format!("for {eval}: {reason}"),
                }
            })?,
            // A comparison's score is the win rate: the mean of wins (1), ties (0.5) and losses.
            (None, None, None) if attr.compares => Reducer::Mean,
            (None, None, None) => Reducer::TrimmedMean { trim },
        };
        // Levels, criteria and a baseline exclude one another. The attribute's choice wins over the
        // file's: judge.toml's `levels` do not apply to an eval whose attribute sets `criteria`.
        let levels = match attr.levels {
            Some(levels) => Some(Levels::parse(levels, Scale::default()).map_err(attr_err("levels"))?),
            None if attr.criteria.is_some() || attr.compares => None,
            None => file.levels.clone(),
        };
        let criteria = match attr.criteria {
            Some(defs) => Some(Criteria::from_defs(defs).map_err(attr_err("criteria"))?),
            None if attr.levels.is_some() || attr.compares => None,
            None => file.criteria.clone(),
        };
        let exclusive =
            [("levels", attr.levels.is_some()), ("criteria", attr.criteria.is_some()), ("baseline", attr.compares)];
        if let [(first, _), (second, _), ..] = exclusive.iter().filter(|(_, set)| *set).copied().collect::<Vec<_>>()[..]
        {
            return Err(ConfigError::InvalidAttribute {
                eval: eval.to_owned(),
                key: second,
                reason: format!(
                    "`{first}` and `{second}` cannot be combined: levels describe one score, criteria give several, \
                     and a comparison names the better of two outputs"
                ),
            });
        }
        let combine = match attr.combine {
            Some(v) => Combine::parse(v).map_err(attr_err("combine"))?,
            None => env.combine.or(file.combine).unwrap_or_default(),
        };
        let max_spread = match attr.max_spread {
            Some(v) => Some(check_max_spread(v).map_err(attr_err("max_spread"))?),
            None => env.max_spread.or(file.max_spread),
        };
        let fail_on_disagreement = match attr.on_disagreement {
            Some(v) => words::on_disagreement(v).map_err(attr_err("on_disagreement"))?,
            None => env.fail_on_disagreement.or(file.fail_on_disagreement).unwrap_or(false),
        };
        // Ensemble settings on an eval with one judge would do nothing: say so rather than ignore them.
        if !ensemble {
            let set = [("combine", attr.combine.is_some()), ("max_spread", attr.max_spread.is_some())];
            let on = [("on_disagreement", attr.on_disagreement.is_some())];
            if let Some((key, _)) = set.into_iter().chain(on).find(|(_, set)| *set) {
                return Err(ConfigError::InvalidAttribute {
                    eval: eval.to_owned(),
                    key,
                    reason: format!(
                        "`{key}` applies to an ensemble, but the eval has one judge ({} from {source}): set \
                         `judges = [...]`, JUDGE_MODELS or `judges` in judge.toml",
                        panel[0]
                    ),
                });
            }
        }
        if ensemble && fail_on_disagreement && max_spread.is_none() {
            return Err(ConfigError::InvalidAttribute {
                eval: eval.to_owned(),
                key: "on_disagreement",
                reason: "`on_disagreement = \"fail\"` needs `max_spread`, the spread above which judges disagree \
                         (attribute, JUDGE_MAX_SPREAD or judge.toml)"
                    .to_owned(),
            });
        }
        let steps = match attr.steps {
            Some(def) => Some(Steps::from_def(def).map_err(attr_err("steps"))?),
            None => env.steps.clone().or_else(|| file.steps.clone()),
        };
        Ok(EvalSettings {
            steps,
            judge,
            panel,
            combine,
            max_spread,
            fail_on_disagreement,
            threshold,
            samples,
            trim,
            generation,
            timeout,
            snapshot,
            reduce,
            levels,
            criteria,
            compares: attr.compares,
            baseline: if compares_file { file.baseline.clone() } else { None },
        })
    }
}

impl Layer {
    /// Reads the `JUDGE_*` variables through `var`. A relative `JUDGE_CACHE_DIR` is taken from the
    /// workspace root, so that `cargo test` and nextest (which run in the package directory) agree.
    pub fn from_env(var: impl Fn(&str) -> Option<String>, workspace_root: &Path) -> Result<Self, ConfigError> {
        fn get<T>(
            var: &impl Fn(&str) -> Option<String>,
            name: &'static str,
            parse: impl Fn(&str) -> Result<T, String>,
        ) -> Result<Option<T>, ConfigError> {
            match var(name) {
                None => Ok(None),
                Some(value) if value.trim().is_empty() => Ok(None),
                Some(value) => {
                    parse(value.trim()).map(Some).map_err(|reason| ConfigError::InvalidEnv { var: name, value, reason })
                }
            }
        }
        Ok(Self {
            judge: get(&var, "JUDGE_MODEL", |s| Ok(s.to_owned()))?,
            judges: get(&var, "JUDGE_MODELS", |s| {
                let judges: Vec<String> = s.split(',').map(|j| j.trim().to_owned()).filter(|j| !j.is_empty()).collect();
                words::ensemble_size(judges.len()).map(|()| judges)
            })?,
            combine: get(&var, "JUDGE_COMBINE", Combine::parse)?,
            max_spread: get(&var, "JUDGE_MAX_SPREAD", |s| parse_f64(s).and_then(check_max_spread))?,
            fail_on_disagreement: get(&var, "JUDGE_ON_DISAGREEMENT", words::on_disagreement)?,
            threshold: get(&var, "JUDGE_THRESHOLD", |s| parse_f64(s).and_then(check_threshold))?,
            samples: get(&var, "JUDGE_SAMPLES", |s| parse_i64(s).and_then(check_samples))?,
            trim: get(&var, "JUDGE_TRIM", |s| parse_f64(s).and_then(check_trim))?,
            temperature: get(&var, "JUDGE_TEMPERATURE", |s| parse_f64(s).and_then(check_temperature))?,
            max_tokens: get(&var, "JUDGE_MAX_TOKENS", |s| parse_i64(s).and_then(check_max_tokens))?,
            seed: get(&var, "JUDGE_SEED", |s| parse_i64(s).and_then(check_seed))?,
            timeout: get(&var, "JUDGE_TIMEOUT", |s| parse_f64(s).and_then(check_seconds))?,
            max_concurrency: get(&var, "JUDGE_MAX_CONCURRENCY", |s| parse_i64(s).and_then(check_max_concurrency))?,
            cache: get(&var, "JUDGE_CACHE", CacheMode::parse)?,
            cache_dir: get(&var, "JUDGE_CACHE_DIR", |s| Ok(workspace_root.join(s)))?,
            rationales: get(&var, "JUDGE_RATIONALES", parse_rationales)?,
            deadline: get(&var, "JUDGE_DEADLINE", |s| parse_f64(s).and_then(check_seconds))?,
            max_attempts: get(&var, "JUDGE_MAX_ATTEMPTS", |s| parse_i64(s).and_then(check_max_attempts))?,
            requests_per_minute: get(&var, "JUDGE_REQUESTS_PER_MINUTE", |s| {
                parse_i64(s).and_then(|v| check_positive(v, u32::MAX.into()))
            })?
            .map(|v| v as u32),
            tokens_per_minute: get(&var, "JUDGE_TOKENS_PER_MINUTE", |s| {
                parse_i64(s).and_then(|v| check_positive(v, i64::MAX))
            })?,
            max_judge_calls: get(&var, "JUDGE_MAX_JUDGE_CALLS", |s| {
                parse_i64(s).and_then(|v| check_positive(v, i64::MAX))
            })?,
            max_judge_tokens: get(&var, "JUDGE_MAX_JUDGE_TOKENS", |s| {
                parse_i64(s).and_then(|v| check_positive(v, i64::MAX))
            })?,
            max_output_chars: get(&var, "JUDGE_MAX_OUTPUT_CHARS", |s| parse_i64(s).and_then(check_max_output_chars))?,
            paths: PATH_KEYS
                .iter()
                .filter_map(|&(key, name)| {
                    let value = var(name)?;
                    let value = value.trim();
                    (!value.is_empty()).then(|| (key, workspace_root.join(value)))
                })
                .collect(),
            max_score_drop: get(&var, "JUDGE_MAX_SCORE_DROP", |s| parse_f64(s).and_then(check_max_score_drop))?,
            progress: get(&var, "JUDGE_PROGRESS", ProgressMode::parse)?,
            snapshot: get(&var, "JUDGE_SNAPSHOT", SnapshotMode::parse)?,
            scoring: get(&var, "JUDGE_SCORING", words::scoring)?,
            // Levels are arrays: judge.toml or the attribute, not a variable.
            levels: None,
            criteria: None,
            // Given steps are arrays (judge.toml or the attribute); the variable can only ask for them.
            steps: get(&var, "JUDGE_STEPS", |s| match s {
                "auto" => Ok(Steps::Auto),
                _ => Err("the only value is \"auto\" (steps generated by the judge); give steps as an array in \
                          judge.toml or the attribute"
                    .to_owned()),
            })?,
            // Checked against each eval's trim and samples when it resolves.
            reduce: get(&var, "JUDGE_REDUCE", |s| Reducer::parse(s, DEFAULT_TRIM).map(|_| s.to_owned()))?,
            // A baseline and per-eval settings belong to judge.toml's sections.
            baseline: None,
            evals: std::collections::BTreeMap::new(),
        })
    }

    /// Reads `judge.toml`; a missing file is an empty layer. Relative paths are taken from the
    /// file's directory.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(ConfigError::FileUnreadable { path: path.to_owned(), reason: e.to_string() });
            }
        };
        Self::from_toml(&text, path)
    }

    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError::FileUnreadable {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Self::from_table(&table, path, None)
    }

    /// Reads the keys of `table`: the top of judge.toml at `path`, or its section for the eval
    /// `section`, which takes only the settings of an eval (and `baseline`).
    fn from_table(table: &toml::Table, path: &Path, section: Option<&str>) -> Result<Self, ConfigError> {
        let base = path.parent().unwrap_or(Path::new("."));
        let mut layer = Self::default();
        for (key, value) in table {
            let named = match section {
                Some(eval) => format!("evals.\"{eval}\".{key}"),
                None => key.clone(),
            };
            let invalid =
                |reason: String| ConfigError::InvalidFileKey { path: path.to_owned(), key: named.clone(), reason };
            match (section, key.as_str()) {
                (Some(_), key) if !EVAL_KEYS.contains(&key) => {
                    return Err(invalid(format!(
                        "is not a setting of one eval; an [evals.\"NAME\"] section takes: {}",
                        EVAL_KEYS.join(", ")
                    )));
                }
                (None, "baseline") => {
                    return Err(invalid(
                        "belongs to one eval: put it in an [evals.\"module::name\"] section".to_owned(),
                    ));
                }
                (Some(_), "baseline") => {
                    let text = toml_str(value).map_err(invalid)?;
                    if text.trim().is_empty() {
                        return Err(invalid("is empty".to_owned()));
                    }
                    layer.baseline = Some(text.to_owned());
                }
                (None, "evals") => {
                    let evals = value.as_table().ok_or_else(|| {
                        invalid("must be tables: [evals.\"module::name\"] with that eval's settings".to_owned())
                    })?;
                    for (eval, settings) in evals {
                        let settings = settings.as_table().ok_or_else(|| {
                            invalid(format!("\"{eval}\" must be a table: [evals.\"{eval}\"] with its settings"))
                        })?;
                        layer.evals.insert(eval.clone(), Self::from_table(settings, path, Some(eval))?);
                    }
                }
                (_, key) => layer.read_key(key, value, base, &invalid)?,
            }
        }
        let prefix = section.map_or(String::new(), |eval| format!("evals.\"{eval}\"."));
        if layer.levels.is_some() && layer.criteria.is_some() {
            return Err(ConfigError::InvalidFileKey {
                path: path.to_owned(),
                key: format!("{prefix}criteria"),
                reason: "cannot be combined with `levels`: levels describe one score, criteria give several; \
                         keep one (an eval's attribute can still set the other)"
                    .to_owned(),
            });
        }
        if layer.baseline.is_some() && (layer.levels.is_some() || layer.criteria.is_some()) {
            return Err(ConfigError::InvalidFileKey {
                path: path.to_owned(),
                key: format!("{prefix}baseline"),
                reason: "cannot be combined with `levels` or `criteria`: a comparison names the better of two \
                         outputs, with no scale of levels or criteria scores"
                    .to_owned(),
            });
        }
        Ok(layer)
    }

    /// This eval section over the file's own settings (`root`): what the section sets wins. A
    /// section that names a judge or an ensemble names it alone, and one that chooses `levels`,
    /// `criteria` or a `baseline` sets the file's others aside, as an attribute does.
    fn over(&self, root: &Layer) -> Layer {
        let names_judge = self.judge.is_some() || self.judges.is_some();
        let technique = self.levels.is_some() || self.criteria.is_some() || self.baseline.is_some();
        Layer {
            judge: if names_judge { self.judge.clone() } else { root.judge.clone() },
            judges: if names_judge { self.judges.clone() } else { root.judges.clone() },
            threshold: self.threshold.or(root.threshold),
            samples: self.samples.or(root.samples),
            trim: self.trim.or(root.trim),
            temperature: self.temperature.or(root.temperature),
            max_tokens: self.max_tokens.or(root.max_tokens),
            seed: self.seed.or(root.seed),
            timeout: self.timeout.or(root.timeout),
            snapshot: self.snapshot.or(root.snapshot),
            reduce: self.reduce.clone().or_else(|| root.reduce.clone()),
            scoring: self.scoring.or(root.scoring),
            levels: if technique { self.levels.clone() } else { root.levels.clone() },
            criteria: if technique { self.criteria.clone() } else { root.criteria.clone() },
            baseline: self.baseline.clone(),
            steps: self.steps.clone().or_else(|| root.steps.clone()),
            combine: self.combine.or(root.combine),
            max_spread: self.max_spread.or(root.max_spread),
            fail_on_disagreement: self.fail_on_disagreement.or(root.fail_on_disagreement),
            // Sections do not nest; run settings are the file's (a section cannot set them, and an
            // eval's resolution reads none).
            evals: std::collections::BTreeMap::new(),
            ..root.clone()
        }
    }

    /// Reads one key of judge.toml into this layer.
    fn read_key(
        &mut self,
        key: &str,
        value: &toml::Value,
        base: &Path,
        invalid: &dyn Fn(String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        match key {
            "judge" => self.judge = Some(toml_str(value).map_err(invalid)?.to_owned()),
            "judges" => {
                let judges =
                    value.as_array().ok_or_else(|| invalid("must be an array of \"provider:model\"".to_owned()))?;
                let judges = judges
                    .iter()
                    .map(|v| {
                        v.as_str().map(str::to_owned).ok_or_else(|| invalid("must be an array of strings".to_owned()))
                    })
                    .collect::<Result<Vec<String>, _>>()?;
                words::ensemble_size(judges.len()).map_err(invalid)?;
                self.judges = Some(judges);
            }
            "steps" => {
                let steps = match value {
                    toml::Value::String(s) if s == "auto" => Ok(Steps::Auto),
                    toml::Value::Array(steps) => steps
                        .iter()
                        .map(|s| s.as_str().ok_or_else(|| "must be \"auto\" or an array of strings".to_owned()))
                        .collect::<Result<Vec<&str>, _>>()
                        .and_then(|steps| Steps::given(&steps)),
                    _ => Err("must be \"auto\" or an array of strings".to_owned()),
                };
                self.steps = Some(steps.map_err(invalid)?);
            }
            "combine" => self.combine = Some(toml_str(value).and_then(Combine::parse).map_err(invalid)?),
            "max_spread" => self.max_spread = Some(toml_f64(value).and_then(check_max_spread).map_err(invalid)?),
            "on_disagreement" => {
                self.fail_on_disagreement = Some(toml_str(value).and_then(words::on_disagreement).map_err(invalid)?);
            }
            "threshold" => self.threshold = Some(toml_f64(value).and_then(check_threshold).map_err(invalid)?),
            "samples" => self.samples = Some(toml_i64(value).and_then(check_samples).map_err(invalid)?),
            "trim" => self.trim = Some(toml_f64(value).and_then(check_trim).map_err(invalid)?),
            "temperature" => {
                self.temperature = Some(toml_f64(value).and_then(check_temperature).map_err(invalid)?);
            }
            "max_tokens" => self.max_tokens = Some(toml_i64(value).and_then(check_max_tokens).map_err(invalid)?),
            "seed" => self.seed = Some(toml_i64(value).and_then(check_seed).map_err(invalid)?),
            "timeout" => self.timeout = Some(toml_f64(value).and_then(check_seconds).map_err(invalid)?),
            "deadline" => self.deadline = Some(toml_f64(value).and_then(check_seconds).map_err(invalid)?),
            "max_attempts" => {
                self.max_attempts = Some(toml_i64(value).and_then(check_max_attempts).map_err(invalid)?);
            }
            "requests_per_minute" => {
                self.requests_per_minute =
                    Some(toml_i64(value).and_then(|v| check_positive(v, u32::MAX.into())).map_err(invalid)? as u32);
            }
            "tokens_per_minute" => {
                self.tokens_per_minute =
                    Some(toml_i64(value).and_then(|v| check_positive(v, i64::MAX)).map_err(invalid)?);
            }
            "max_judge_calls" => {
                self.max_judge_calls =
                    Some(toml_i64(value).and_then(|v| check_positive(v, i64::MAX)).map_err(invalid)?);
            }
            "max_judge_tokens" => {
                self.max_judge_tokens =
                    Some(toml_i64(value).and_then(|v| check_positive(v, i64::MAX)).map_err(invalid)?);
            }
            "max_output_chars" => {
                self.max_output_chars = Some(toml_i64(value).and_then(check_max_output_chars).map_err(invalid)?);
            }
            "max_concurrency" => {
                self.max_concurrency = Some(toml_i64(value).and_then(check_max_concurrency).map_err(invalid)?);
            }
            "cache" => self.cache = Some(toml_str(value).and_then(CacheMode::parse).map_err(invalid)?),
            "cache_dir" => self.cache_dir = Some(base.join(toml_str(value).map_err(invalid)?)),
            "rationales" => {
                self.rationales = Some(toml_str(value).and_then(parse_rationales).map_err(invalid)?);
            }
            "levels" => {
                let levels = value.as_array().ok_or_else(|| invalid("must be an array of strings".to_owned()))?;
                let texts = levels
                    .iter()
                    .map(|v| v.as_str().ok_or_else(|| invalid("must be an array of strings".to_owned())))
                    .collect::<Result<Vec<&str>, _>>()?;
                self.levels = Some(Levels::parse(&texts, Scale::default()).map_err(invalid)?);
            }
            "criteria" => {
                let table = value
                    .as_table()
                    .ok_or_else(|| invalid("must be a table: [criteria] with name = \"rubric\" lines".to_owned()))?;
                self.criteria = Some(Criteria::from_toml(table).map_err(invalid)?);
            }
            "scoring" => self.scoring = Some(toml_str(value).and_then(words::scoring).map_err(invalid)?),
            "reduce" => {
                let value = toml_str(value).map_err(invalid)?;
                Reducer::parse(value, DEFAULT_TRIM).map_err(invalid)?;
                self.reduce = Some(value.to_owned());
            }
            "snapshot" => {
                self.snapshot = Some(match value {
                    toml::Value::Boolean(true) => SnapshotMode::On,
                    toml::Value::Boolean(false) => SnapshotMode::Off,
                    toml::Value::String(s) if s == "strict" => SnapshotMode::Strict,
                    _ => return Err(invalid("must be true, false or \"strict\"".to_owned())),
                });
            }
            "progress" => self.progress = Some(toml_str(value).and_then(ProgressMode::parse).map_err(invalid)?),
            "max_score_drop" => {
                self.max_score_drop = Some(toml_f64(value).and_then(check_max_score_drop).map_err(invalid)?);
            }
            key if PATH_KEYS.iter().any(|(k, _)| *k == key) => {
                let (key, _) = PATH_KEYS.iter().find(|(k, _)| *k == key).expect("just found");
                let path = toml_str(value).map_err(invalid)?;
                if path.trim().is_empty() {
                    return Err(invalid("is empty; name a file or remove the key".to_owned()));
                }
                self.paths.insert(key, base.join(path));
            }
            _ => {
                return Err(invalid(format!("is unknown; valid keys are: {}", FILE_KEYS.join(", "))));
            }
        }
        Ok(())
    }
}

/// The root of the Cargo workspace that contains `manifest_dir`: the nearest ancestor (or itself)
/// whose `Cargo.toml` has a `[workspace]` table, else `manifest_dir`.
pub(crate) fn workspace_root(manifest_dir: &Path) -> PathBuf {
    manifest_dir
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .ok()
                .and_then(|text| text.parse::<toml::Table>().ok())
                .is_some_and(|manifest| manifest.contains_key("workspace"))
        })
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

pub(crate) fn check_threshold(v: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&v) { Ok(v) } else { Err(format!("{v} is out of range: a threshold is in 0.0..=1.0")) }
}

pub(crate) fn check_trim(v: f64) -> Result<f64, String> {
    if (0.0..0.5).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is out of range: trim is the fraction dropped at each end, in 0.0..0.5"))
    }
}

pub(crate) fn check_samples(v: i64) -> Result<u32, String> {
    match u32::try_from(v) {
        Ok(n @ 1..=10_000) => Ok(n),
        _ => Err(format!("{v} is out of range: samples is a whole number in 1..=10000")),
    }
}

pub(crate) fn check_temperature(v: f64) -> Result<f64, String> {
    if (0.0..=2.0).contains(&v) { Ok(v) } else { Err(format!("{v} is out of range: a temperature is in 0.0..=2.0")) }
}

pub(crate) fn check_max_tokens(v: i64) -> Result<u32, String> {
    match u32::try_from(v) {
        Ok(n @ 1..=1_000_000) => Ok(n),
        _ => Err(format!("{v} is out of range: max_tokens is a whole number in 1..=1000000")),
    }
}

fn check_seed(v: i64) -> Result<u64, String> {
    u64::try_from(v).map_err(|_| format!("{v} is out of range: a seed is a whole number ≥ 0"))
}

/// A duration in seconds: more than 0, at most a day.
pub(crate) fn check_seconds(v: f64) -> Result<Duration, String> {
    if v > 0.0 && v <= 86_400.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(format!("{v} is out of range: a duration is a number of seconds in (0, 86400]"))
    }
}

fn check_max_attempts(v: i64) -> Result<u32, String> {
    match u32::try_from(v) {
        Ok(n @ 1..=100) => Ok(n),
        _ => Err(format!("{v} is out of range: max_attempts is a whole number in 1..=100 (1 means no retry)")),
    }
}

fn check_positive(v: i64, max: i64) -> Result<u64, String> {
    if (1..=max).contains(&v) { Ok(v as u64) } else { Err(format!("{v} is out of range: a whole number ≥ 1")) }
}

fn check_max_output_chars(v: i64) -> Result<usize, String> {
    match usize::try_from(v) {
        Ok(n @ 100..=100_000_000) => Ok(n),
        _ => Err(format!("{v} is out of range: max_output_chars is a whole number in 100..=100000000")),
    }
}

fn check_max_score_drop(v: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is out of range: max_score_drop is a drop of the 0..1 score, in 0.0..=1.0"))
    }
}

fn check_max_concurrency(v: i64) -> Result<usize, String> {
    match usize::try_from(v) {
        Ok(n @ 1..=4096) => Ok(n),
        _ => Err(format!("{v} is out of range: max_concurrency is a whole number in 1..=4096")),
    }
}

/// `max_spread`, in 0.0..=1.0.
fn check_max_spread(v: f64) -> Result<f64, String> {
    judge_rules::words::max_spread(v).map(|()| v)
}

fn parse_rationales(s: &str) -> Result<Rationales, String> {
    match s {
        "lowest" => Ok(Rationales::Lowest),
        "all" => Ok(Rationales::All),
        _ => Err(format!("{s:?} is not one of: lowest, all")),
    }
}

fn parse_f64(s: &str) -> Result<f64, String> {
    s.parse().map_err(|_| format!("{s:?} is not a number"))
}

fn parse_i64(s: &str) -> Result<i64, String> {
    s.parse().map_err(|_| format!("{s:?} is not a whole number"))
}

fn toml_str(v: &toml::Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| format!("must be a string, found {}", v.type_str()))
}

fn toml_f64(v: &toml::Value) -> Result<f64, String> {
    match v {
        toml::Value::Float(f) => Ok(*f),
        toml::Value::Integer(i) => Ok(*i as f64),
        _ => Err(format!("must be a number, found {}", v.type_str())),
    }
}

fn toml_i64(v: &toml::Value) -> Result<i64, String> {
    v.as_integer().ok_or_else(|| format!("must be a whole number, found {}", v.type_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Result<Layer, ConfigError> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Layer::from_env(move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()), Path::new("/ws"))
    }

    fn file(text: &str) -> Result<Layer, ConfigError> {
        Layer::from_toml(text, Path::new("/ws/judge.toml"))
    }

    fn resolve(env_layer: Layer, file_layer: Layer, attr: AttributeSettings<'_>) -> Result<EvalSettings, ConfigError> {
        Settings::from_layers(env_layer, file_layer, Path::new("/ws")).eval("evals::x", attr)
    }

    #[test]
    fn attribute_beats_env_beats_file_beats_default() {
        let e = env(&[("JUDGE_MODEL", "openai:env"), ("JUDGE_THRESHOLD", "0.5"), ("JUDGE_SAMPLES", "3")]).unwrap();
        let f = file("judge = \"openai:file\"\nthreshold = 0.6\nsamples = 5\ntrim = 0.2").unwrap();
        let attr = AttributeSettings { judge: Some("openai:attr"), threshold: Some(0.9), ..Default::default() };

        let s = resolve(e.clone(), f.clone(), attr).unwrap();
        assert_eq!(s.judge.model, "attr");
        assert_eq!(s.threshold, 0.9);
        assert_eq!(s.samples, 3, "env wins over the file when the attribute is silent");
        assert_eq!(s.trim, 0.2, "the file wins over the default when env and attribute are silent");

        let s = resolve(Layer::default(), f, AttributeSettings::default()).unwrap();
        assert_eq!((s.judge.model.as_str(), s.threshold, s.samples), ("file", 0.6, 5));

        let s = resolve(e, Layer::default(), AttributeSettings::default()).unwrap();
        assert_eq!((s.judge.model.as_str(), s.trim), ("env", DEFAULT_TRIM));
    }

    #[test]
    fn run_settings_resolve_env_then_file_then_default() {
        let e = env(&[("JUDGE_CACHE", "replay"), ("JUDGE_CACHE_DIR", "verdicts")]).unwrap();
        let f = file("max_concurrency = 4\ncache = \"off\"\nrationales = \"all\"").unwrap();
        let run = Settings::from_layers(e, f, Path::new("/ws")).run();
        assert_eq!(run.cache, CacheMode::Replay);
        assert_eq!(run.cache_dir, Path::new("/ws/verdicts"));
        assert_eq!(run.max_concurrency, 4);
        assert_eq!(run.rationales, Rationales::All);
        let run = Settings::from_layers(Layer::default(), Layer::default(), Path::new("/ws")).run();
        assert_eq!(run.max_concurrency, DEFAULT_MAX_CONCURRENCY);
        assert_eq!(run.cache, CacheMode::On);
        assert_eq!(run.cache_dir, Path::new("/ws/target/judge-cache"));
    }

    #[test]
    fn generation_and_limit_settings_resolve_in_the_same_order() {
        let e = env(&[("JUDGE_TEMPERATURE", "0.4"), ("JUDGE_TIMEOUT", "7.5"), ("JUDGE_MAX_ATTEMPTS", "9")]).unwrap();
        let f = file(
            "judge = \"openai:m\"\ntemperature = 1.0\nmax_tokens = 300\nseed = 42\ndeadline = 60\n\
             requests_per_minute = 120\ntokens_per_minute = 90000\nmax_judge_calls = 500\n\
             max_judge_tokens = 1000000\nmax_output_chars = 2000",
        )
        .unwrap();
        let attr = AttributeSettings { max_tokens: Some(50), ..Default::default() };
        let settings = Settings::from_layers(e, f, Path::new("/ws"));
        let s = settings.eval("evals::x", attr).unwrap();
        assert_eq!(
            s.generation,
            GenerationParams { temperature: Some(0.4), max_tokens: Some(50), seed: Some(42), weighted: true }
        );
        assert_eq!(s.timeout, Duration::from_millis(7500));
        let run = settings.run();
        assert_eq!((run.deadline, run.max_attempts), (Duration::from_secs(60), 9));
        assert_eq!((run.requests_per_minute, run.tokens_per_minute), (Some(120), Some(90_000)));
        assert_eq!(
            (run.max_judge_calls, run.max_judge_tokens, run.max_output_chars),
            (Some(500), Some(1_000_000), 2000)
        );

        let defaults = Settings::from_layers(Layer::default(), file("judge = \"openai:m\"").unwrap(), Path::new("/ws"));
        let s = defaults.eval("evals::x", AttributeSettings::default()).unwrap();
        assert_eq!(s.generation, GenerationParams::default());
        assert_eq!(s.timeout, Duration::from_secs_f64(DEFAULT_TIMEOUT_SECS));
        let run = defaults.run();
        assert_eq!((run.max_attempts, run.max_output_chars), (DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_OUTPUT_CHARS));
        assert_eq!((run.requests_per_minute, run.max_judge_calls), (None, None));
    }

    #[test]
    fn report_baseline_snapshot_and_progress_settings_resolve() {
        let e = env(&[
            ("JUDGE_REPORT_DIR", "target/judge-report"),
            ("JUDGE_REPORT_HTML", "/abs/report.html"),
            ("JUDGE_SNAPSHOT", "strict"),
            ("JUDGE_MAX_SCORE_DROP", "0.1"),
        ])
        .unwrap();
        let f = file(
            "judge = \"openai:m\"\nreport_junit = \"ci/junit.xml\"\nscore_baseline = \"evals/baseline.json\"\n\
             save_score_baseline = \"evals/new.json\"\nprogress = \"plain\"\nsnapshot = true\nmax_score_drop = 0.3",
        )
        .unwrap();
        let settings = Settings::from_layers(e, f.clone(), Path::new("/ws"));
        let run = settings.run();
        assert_eq!(
            run.reports.resolve("evals"),
            [
                Some(PathBuf::from("/ws/target/judge-report/evals.json")),
                Some(PathBuf::from("/ws/ci/junit.xml")),
                Some(PathBuf::from("/abs/report.html")),
                Some(PathBuf::from("/ws/target/judge-report/evals.md")),
            ],
            "report_dir names each file after the binary; a file's own setting wins"
        );
        assert_eq!(run.score_baseline, Some(PathBuf::from("/ws/evals/baseline.json")));
        assert_eq!(run.save_score_baseline, Some(PathBuf::from("/ws/evals/new.json")));
        assert_eq!((run.max_score_drop, run.progress), (Some(0.1), ProgressMode::Plain));
        let eval = |attr| settings.eval("evals::x", attr).unwrap().snapshot;
        assert_eq!(eval(AttributeSettings::default()), SnapshotMode::Strict, "the environment beats the file");
        assert_eq!(
            eval(AttributeSettings { snapshot: Some(SnapshotMode::Off), ..Default::default() }),
            SnapshotMode::Off
        );
        let from_file = Settings::from_layers(Layer::default(), f, Path::new("/ws"));
        assert_eq!(from_file.eval("evals::x", AttributeSettings::default()).unwrap().snapshot, SnapshotMode::On);
        let none = Settings::from_layers(Layer::default(), Layer::default(), Path::new("/ws")).run();
        assert_eq!(none.reports.resolve("evals"), [None, None, None, None], "no report unless asked for");
        assert_eq!((none.progress, none.max_score_drop), (ProgressMode::Auto, None));

        let msg = file("snapshot = \"always\"").unwrap_err().to_string();
        assert!(msg.contains("`snapshot`") && msg.contains("true, false or \"strict\""), "{msg}");
        let msg = file("report_html = \"\"").unwrap_err().to_string();
        assert!(msg.contains("`report_html` is empty"), "{msg}");
    }

    #[test]
    fn techniques_resolve_without_surprises() {
        // A single judge named in a path or an eval that mentions "judges" is still one judge.
        let settings = Settings::from_layers(Layer::default(), Layer::default(), Path::new("/home/me/llm-judges"));
        let attr = AttributeSettings { judge: Some("openai:m"), ..Default::default() };
        assert_eq!(settings.eval("evals::judges_agree", attr).unwrap().panel.len(), 1);
        // The attribute's criteria win over judge.toml's levels (and the reverse), without error.
        let f = file("judge = \"openai:m\"\nlevels = [\"0-4: wrong\", \"5-10: right\"]").unwrap();
        let settings = Settings::from_layers(Layer::default(), f, Path::new("/ws"));
        let defs = [
            CriterionDef { name: "a", rubric: "r", weight: None, threshold: None },
            CriterionDef { name: "b", rubric: "s", weight: None, threshold: None },
        ];
        let s = settings.eval("evals::x", AttributeSettings { criteria: Some(&defs), ..Default::default() }).unwrap();
        assert!(s.criteria.is_some() && s.levels.is_none());
        let s = settings.eval("evals::x", AttributeSettings { compares: true, ..Default::default() }).unwrap();
        assert!(s.levels.is_none() && s.reduce == Reducer::Mean && s.threshold == DEFAULT_COMPARISON_THRESHOLD);
        assert!(settings.eval("evals::x", AttributeSettings::default()).unwrap().levels.is_some());
        // Both in judge.toml is an error when the file is read.
        let both = file("levels = [\"0-4: wrong\", \"5-10: right\"]\n[criteria]\na = \"r\"\nb = \"s\"\n");
        assert!(both.unwrap_err().to_string().contains("cannot be combined with `levels`"));
        // Ensemble settings on one judge, and failing on disagreement without a spread, are errors.
        let attr = AttributeSettings { judge: Some("openai:m"), combine: Some("median"), ..Default::default() };
        let msg = settings.eval("evals::x", attr).unwrap_err().to_string();
        assert!(msg.contains("`combine` applies to an ensemble") && msg.contains("openai:m"), "{msg}");
        let judges = ["openai:a", "openai:b"];
        let attr = AttributeSettings { judges: Some(&judges), on_disagreement: Some("fail"), ..Default::default() };
        assert!(settings.eval("evals::x", attr).unwrap_err().to_string().contains("needs `max_spread`"));
    }

    #[test]
    fn an_eval_section_of_judge_toml_sets_that_eval_only() {
        let f = file(
            "judge = \"openai:m\"\nthreshold = 0.8\njudges = [\"openai:a\", \"openai:b\"]\n\
             levels = [\"0-4: wrong\", \"5-10: right\"]\n\
             [evals.\"evals::x\"]\nthreshold = 0.6\njudge = \"anthropic:c\"\n\
             [evals.\"evals::y\"]\nbaseline = \"The old answer.\"\n",
        )
        .unwrap();
        let settings = Settings::from_layers(Layer::default(), f, Path::new("/ws"));
        let x = settings.eval("evals::x", AttributeSettings::default()).unwrap();
        // The section's one judge wins over the file's ensemble; its threshold over the file's.
        assert_eq!((x.panel.len(), x.judge.to_string().as_str(), x.threshold), (1, "anthropic:c", 0.6));
        assert!(x.levels.is_some(), "what the section does not set comes from the file");
        let y = settings.eval("evals::y", AttributeSettings::default()).unwrap();
        assert_eq!((y.compares, y.baseline.as_deref()), (true, Some("The old answer.")));
        assert!(y.levels.is_none(), "a baseline sets the file's levels aside");
        assert_eq!(y.threshold, 0.8, "the file's threshold still applies");
        let z = settings.eval("evals::z", AttributeSettings::default()).unwrap();
        assert_eq!((z.panel.len(), z.threshold, z.compares), (2, 0.8, false));
        // Sections are checked against this binary's evals, not other binaries'.
        let names = ["evals::x".to_owned(), "evals::z".to_owned()];
        assert_eq!(settings.unknown_eval_sections(&names), ["evals::y"]);
        assert!(settings.unknown_eval_sections(&["other::w".to_owned()]).is_empty(), "another binary's");
        // A section's baseline gives way to the attribute's criteria, as the file's levels do.
        let defs = [
            CriterionDef { name: "a", rubric: "r", weight: None, threshold: None },
            CriterionDef { name: "b", rubric: "s", weight: None, threshold: None },
        ];
        let y = settings.eval("evals::y", AttributeSettings { criteria: Some(&defs), ..Default::default() }).unwrap();
        assert!(!y.compares && y.baseline.is_none() && y.criteria.is_some());
        let both = file("[evals.\"evals::x\"]\nbaseline = \"b\"\nlevels = [\"0-4: wrong\", \"5-10: right\"]\n");
        assert!(both.unwrap_err().to_string().contains("evals.\"evals::x\".baseline"));
        // A section takes only an eval's settings; a baseline needs a section.
        let run_key = file("[evals.\"evals::x\"]\ncache = \"off\"\n").unwrap_err().to_string();
        assert!(
            run_key.contains("evals.\"evals::x\".cache") && run_key.contains("not a setting of one eval"),
            "{run_key}"
        );
        assert!(file("baseline = \"x\"").unwrap_err().to_string().contains("[evals.\"module::name\"] section"));
    }

    #[test]
    fn reduce_resolves_in_order_and_is_checked_against_samples() {
        let f = file("judge = \"openai:m\"\nreduce = \"median\"\nsamples = 5\ntrim = 0.2").unwrap();
        let settings = Settings::from_layers(Layer::default(), f.clone(), Path::new("/ws"));
        let reduce = |attr| settings.eval("evals::x", attr).map(|s| s.reduce);
        assert_eq!(reduce(AttributeSettings::default()).unwrap(), Reducer::Median);
        let attr = AttributeSettings { reduce: Some("at_least(4)"), ..Default::default() };
        assert_eq!(reduce(attr).unwrap(), Reducer::AtLeast(4));
        let attr = AttributeSettings { reduce: Some("at_least(6)"), ..Default::default() };
        let msg = reduce(attr).unwrap_err().to_string();
        assert!(msg.contains("reduce") && msg.contains("needs at least 6 samples, and the eval has 5"), "{msg}");
        let e = env(&[("JUDGE_REDUCE", "at_least(9)")]).unwrap();
        let msg = Settings::from_layers(e, f, Path::new("/ws")).eval("evals::x", Default::default()).unwrap_err();
        assert!(msg.to_string().contains("JUDGE_REDUCE") && msg.to_string().contains("evals::x"), "{msg}");
        let defaults = Settings::from_layers(Layer::default(), file("judge = \"openai:m\"").unwrap(), Path::new("/ws"));
        let s = defaults.eval("evals::x", AttributeSettings::default()).unwrap();
        assert_eq!(s.reduce, Reducer::TrimmedMean { trim: DEFAULT_TRIM });
        assert!(file("reduce = \"max\"").unwrap_err().to_string().contains("`reduce`"));
    }

    #[test]
    fn no_judge_anywhere_is_one_clear_error() {
        let err = resolve(Layer::default(), Layer::default(), AttributeSettings::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("JUDGE_MODEL") && msg.contains("judge.toml"), "{msg}");
        assert!(msg.contains("an API key alone does not pick a model"), "{msg}");
    }

    #[test]
    fn bad_env_values_name_their_variable() {
        for (var, value) in [
            ("JUDGE_THRESHOLD", "1.5"),
            ("JUDGE_THRESHOLD", "high"),
            ("JUDGE_SAMPLES", "0"),
            ("JUDGE_TRIM", "0.5"),
            ("JUDGE_MAX_CONCURRENCY", "-1"),
            ("JUDGE_CACHE", "sometimes"),
            ("JUDGE_RATIONALES", "none"),
            ("JUDGE_TEMPERATURE", "3"),
            ("JUDGE_MAX_TOKENS", "0"),
            ("JUDGE_SEED", "-4"),
            ("JUDGE_TIMEOUT", "0"),
            ("JUDGE_DEADLINE", "soon"),
            ("JUDGE_MAX_ATTEMPTS", "0"),
            ("JUDGE_REQUESTS_PER_MINUTE", "0"),
            ("JUDGE_TOKENS_PER_MINUTE", "-5"),
            ("JUDGE_MAX_JUDGE_CALLS", "0"),
            ("JUDGE_MAX_JUDGE_TOKENS", "many"),
            ("JUDGE_MAX_OUTPUT_CHARS", "10"),
            ("JUDGE_MAX_SCORE_DROP", "1.5"),
            ("JUDGE_PROGRESS", "sometimes"),
            ("JUDGE_SNAPSHOT", "always"),
            ("JUDGE_REDUCE", "max"),
            ("JUDGE_SCORING", "probable"),
            ("JUDGE_REDUCE", "at_least(0)"),
        ] {
            let msg = env(&[(var, value)]).unwrap_err().to_string();
            assert!(msg.contains(var) && msg.contains(value), "{msg}");
        }
    }

    #[test]
    fn bad_file_keys_are_named() {
        let msg = file("treshold = 0.5").unwrap_err().to_string();
        assert!(msg.contains("`treshold` is unknown") && msg.contains("threshold, samples"), "{msg}");
        let msg = file("samples = \"seven\"").unwrap_err().to_string();
        assert!(msg.contains("`samples` must be a whole number"), "{msg}");
        let msg = file("threshold = 2").unwrap_err().to_string();
        assert!(msg.contains("`threshold`") && msg.contains("0.0..=1.0"), "{msg}");
        let msg = file("judge = ").unwrap_err().to_string();
        assert!(msg.contains("cannot read /ws/judge.toml"), "{msg}");
    }

    #[test]
    fn a_bad_judge_spec_names_its_source() {
        let e = env(&[("JUDGE_MODEL", "gpt-4")]).unwrap();
        let msg = resolve(e, Layer::default(), AttributeSettings::default()).unwrap_err().to_string();
        assert!(msg.contains("\"gpt-4\" (from JUDGE_MODEL)"), "{msg}");
    }

    #[test]
    fn workspace_root_is_the_nearest_workspace_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let member = dir.path().join("crates/app");
        std::fs::create_dir_all(&member).unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = [\"crates/app\"]\n").unwrap();
        std::fs::write(member.join("Cargo.toml"), "[package]\nname = \"app\"\n").unwrap();
        assert_eq!(workspace_root(&member), dir.path());
        let lone = tempfile::tempdir().unwrap();
        assert_eq!(workspace_root(lone.path()), lone.path());
    }
}
