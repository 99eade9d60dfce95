//! A layer of settings: what one source (the attribute, the environment, judge.toml or one of its
//! `[evals."NAME"]` sections) sets, every setting optional and typed.
//!
//! The list below is the runtime's half of each setting's declaration: its type and how its value
//! is read. judge-rules' `SETTINGS` holds the rest (variable, where it may be set, default, doc);
//! the environment and judge.toml are read by walking that table through [`Layer::read`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use judge_rules::ranges;
use judge_rules::words;

use crate::settings::criteria::Criteria;
use crate::settings::judges::JudgeName;
use crate::settings::levels::Levels;
use crate::settings::modes::CacheMode;
use crate::settings::modes::ProgressMode;
use crate::settings::modes::SnapshotMode;
use crate::settings::rationales::Rationales;
use crate::settings::read::{Raw, dir, file, non_empty, number, seconds, text, whole, word};
use crate::settings::scale::Scale;
use crate::settings::source::{Origin, Source, Sourced};
use crate::settings::steps::Steps;
use judge_rules::words::Combine;

/// Declares the typed settings of a layer: `key: Type = reader;`, the key as judge-rules declares it.
macro_rules! layer {
    ($( $(#[doc = $doc:literal])* $key:ident : $ty:ty = $read:expr; )*) => {
        /// One source of settings: every setting optional.
        #[derive(Debug, Default, Clone)]
        pub(crate) struct Layer {
            /// Where this layer was read from.
            pub origin: Origin,
            /// The old names used for settings in this layer (`baseline` for `compare_with`), by key.
            pub written: BTreeMap<&'static str, String>,
            /// judge.toml's `[evals."module::name"]` sections: settings of one eval.
            pub evals: BTreeMap<String, Layer>,
            $( $(#[doc = $doc])* pub $key: Option<$ty>, )*
        }

        /// Every setting, resolved from layers: the value of the first layer that sets it, with
        /// its source; `None` where no layer does (the caller knows the default).
        #[derive(Debug, Clone)]
        pub(crate) struct Merged {
            $( pub $key: Option<Sourced<$ty>>, )*
        }

        impl Layer {
            /// The one merge of settings: each setting from the first of `layers` that sets it,
            /// highest first (attribute > environment > section > file).
            pub fn merge(layers: &[&Layer]) -> Merged {
                Merged {
                    $( $key: layers.iter().find_map(|layer| layer.sourced(stringify!($key), layer.$key.as_ref())), )*
                }
            }

            /// The settings a layer holds, by key.
            pub const KEYS: &'static [&'static str] = &[$(stringify!($key)),*];

            /// Reads `raw` into the setting `key` (one of [`Self::KEYS`]).
            pub fn read(&mut self, key: &str, raw: Raw<'_>) -> Result<(), String> {
                match key {
                    $( stringify!($key) => self.$key = Some(($read)(raw)?), )*
                    _ => unreachable!("`{key}` is not a setting of a layer"),
                }
                Ok(())
            }
        }
    };
}

layer! {
    /// One judge, `provider:model`.
    judge: JudgeName = |raw| text(raw).map(JudgeName::Written);
    /// An ensemble of judges, `provider:model` each.
    judges: Vec<JudgeName> = judges;
    threshold: f64 = number(ranges::THRESHOLD);
    samples: u32 = whole(ranges::SAMPLES);
    trim: f64 = number(ranges::TRIM);
    /// Turned into a reducer once the eval's trim is known.
    reduce: judge_rules::Reduce = word(judge_rules::reduce::parse);
    /// True for `"weighted"`.
    scoring: bool = word(words::scoring);
    levels: Levels = levels;
    criteria: Criteria = criteria;
    /// What the outputs are compared with (a text in judge.toml's sections).
    compare_with: Comparison = |raw| non_empty(raw).map(Comparison::Text);
    steps: Steps = steps;
    combine: Combine = word(Combine::parse);
    max_spread: f64 = number(ranges::MAX_SPREAD);
    /// True for `"fail"`.
    on_disagreement: bool = word(words::on_disagreement);
    temperature: f64 = number(ranges::TEMPERATURE);
    max_tokens: u32 = whole(ranges::MAX_TOKENS);
    seed: u64 = whole(ranges::SEED);
    timeout: Duration = seconds(ranges::TIMEOUT);
    snapshot: SnapshotMode = snapshot;
    max_concurrency: usize = whole(ranges::MAX_CONCURRENCY);
    cache: CacheMode = word(CacheMode::parse);
    cache_dir: PathBuf = dir;
    rationales: Rationales = word(Rationales::parse);
    deadline: Duration = seconds(ranges::DEADLINE);
    max_attempts: u32 = whole(ranges::MAX_ATTEMPTS);
    requests_per_minute: u32 = whole(ranges::REQUESTS_PER_MINUTE);
    tokens_per_minute: u64 = whole(ranges::TOKENS_PER_MINUTE);
    max_judge_calls: u64 = whole(ranges::MAX_JUDGE_CALLS);
    max_judge_tokens: u64 = whole(ranges::MAX_JUDGE_TOKENS);
    max_output_chars: usize = whole(ranges::MAX_OUTPUT_CHARS);
    report_dir: PathBuf = file;
    report_json: PathBuf = file;
    report_junit: PathBuf = file;
    report_html: PathBuf = file;
    report_markdown: PathBuf = file;
    score_baseline: PathBuf = file;
    save_score_baseline: PathBuf = file;
    max_score_drop: f64 = number(ranges::MAX_SCORE_DROP);
    progress: ProgressMode = word(ProgressMode::parse);
}

/// What an eval's outputs are compared with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Comparison {
    /// A text: an `[evals."NAME"]` section's `compare_with`.
    Text(String),
    /// The attribute's own text or function, which the harness reads from the eval's case.
    Attribute,
}

impl Layer {
    /// An empty layer read from `origin`.
    pub fn new(origin: Origin) -> Self {
        Self { origin, ..Self::default() }
    }

    /// The setting `key` as this layer wrote it: its old name if that was used.
    pub fn written(&self, key: &'static str) -> &str {
        self.written.get(key).map_or(key, String::as_str)
    }

    /// `value`, set in this layer under `key`, with its source.
    pub fn sourced<T: Clone>(&self, key: &'static str, value: Option<&T>) -> Option<Sourced<T>> {
        value.map(|value| Sourced { value: value.clone(), source: self.source(key) })
    }

    /// The source of the setting `key` in this layer.
    pub fn source(&self, key: &'static str) -> Source {
        self.origin.source(key)
    }

    /// Whether this layer names a judge or an ensemble.
    pub fn names_judge(&self) -> bool {
        self.judge.is_some() || self.judges.is_some()
    }

    /// Whether this layer chooses a technique that excludes the others: levels, criteria or a
    /// comparison.
    pub fn chooses_technique(&self) -> bool {
        self.levels.is_some() || self.criteria.is_some() || self.compare_with.is_some()
    }
}

/// `judges`: two at least.
fn judges(raw: Raw<'_>) -> Result<Vec<JudgeName>, String> {
    let judges = raw.strings().map_err(|_| "must be an array of \"provider:model\"".to_owned())?;
    words::ensemble_size(judges.len()).map(|()| judges.into_iter().map(JudgeName::Written).collect())
}

/// `levels`: an array of bands (judge.toml only; the attribute's are read apart).
fn levels(raw: Raw<'_>) -> Result<Levels, String> {
    Levels::parse(&raw.strings()?, Scale::default())
}

/// `[criteria]`: a table of `name = "rubric"` or detailed criteria (judge.toml only).
fn criteria(raw: Raw<'_>) -> Result<Criteria, String> {
    match raw {
        Raw::Toml { value: toml::Value::Table(table), .. } => Criteria::from_toml(table),
        _ => Err("must be a table: [criteria] with name = \"rubric\" lines".to_owned()),
    }
}

/// `steps`: `"auto"`, or (judge.toml) an array of given steps; a variable can only ask for them.
fn steps(raw: Raw<'_>) -> Result<Steps, String> {
    match raw {
        Raw::Env { text: judge_rules::steps::AUTO, .. } => Ok(Steps::Auto),
        Raw::Env { .. } => Err("the only value is \"auto\" (steps generated by the judge); give steps as an array \
                                in judge.toml or the attribute"
            .to_owned()),
        Raw::Toml { value: toml::Value::String(s), .. } if s == judge_rules::steps::AUTO => Ok(Steps::Auto),
        Raw::Toml { value: toml::Value::Array(_), .. } => Steps::given(&raw.strings()?),
        Raw::Toml { .. } => Err("must be \"auto\" or an array of strings".to_owned()),
    }
}

/// `snapshot`: true, false or "strict" (a variable's `true`/`false` are words).
fn snapshot(raw: Raw<'_>) -> Result<SnapshotMode, String> {
    match raw {
        Raw::Env { text, .. } => SnapshotMode::parse(text),
        Raw::Toml { value: toml::Value::Boolean(true), .. } => Ok(SnapshotMode::On),
        Raw::Toml { value: toml::Value::Boolean(false), .. } => Ok(SnapshotMode::Off),
        Raw::Toml { value: toml::Value::String(s), .. } if s == "strict" => Ok(SnapshotMode::Strict),
        Raw::Toml { .. } => Err("must be true, false or \"strict\"".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every setting that the environment or judge.toml may set is a field of the layer, and
    /// every field is a declared setting.
    #[test]
    fn the_layer_holds_every_declared_setting() {
        for s in judge_rules::settings::SETTINGS {
            let read_here = s.file || s.section || (s.env.is_some() && s.key != "config");
            assert_eq!(Layer::KEYS.contains(&s.key), read_here, "{}", s.key);
        }
        for key in Layer::KEYS {
            assert!(judge_rules::settings::find(key).is_some(), "{key} is not declared in judge-rules");
        }
    }
}
