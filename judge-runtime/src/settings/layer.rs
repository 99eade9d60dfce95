//! A layer of settings: what one source (the attribute, the environment, judge.toml or one of its
//! `[evals."NAME"]` sections) sets, every setting optional and typed.
//!
//! The layer is built from judge-rules' declarations (its `declarations.rs`), where each setting
//! names its type and its reader, which are this file's and `read.rs`'s; the environment and
//! judge.toml are read by walking those declarations through [`Layer::read`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use judge_rules::settings::Setting;
use judge_rules::words;

use crate::settings::cache_location::CacheLocation;
use crate::settings::criteria::Criteria;
use crate::settings::judges::JudgeName;
use crate::settings::levels::Levels;
use crate::settings::modes::CacheMode;
use crate::settings::modes::ProgressMode;
use crate::settings::modes::SnapshotMode;
use crate::settings::prices::Prices;
use crate::settings::rationales::Rationales;
use crate::settings::read::{AttributeValue, Raw, cache_location, file, non_empty, number, seconds, text, whole, word};
use crate::settings::scale::Scale;
use crate::settings::source::{Origin, Source, Sourced};
use crate::settings::steps::Steps;
use judge_rules::words::{Combine, OnTie};

/// A resolved setting's type: its own where it declares a default it resolves to, else optional.
macro_rules! resolved_type {
    ($ty:ty, default) => { $ty };
    ($ty:ty, optional) => { Option<$ty> };
}

/// A resolved setting's value: the merged one, else (`default`) the declared default read by the
/// setting's reader.
macro_rules! resolved_value {
    ($merged:expr, $key:ident, $read:expr, default) => {
        $merged.map_or_else(|| declared_default(stringify!($key), $read), |s| s.value)
    };
    ($merged:expr, $key:ident, $read:expr, optional) => {
        $merged.map(|s| s.value)
    };
}

/// A typed setting's key.
macro_rules! key_of {
    ($key:ident: $ty:ty) => {
        stringify!($key)
    };
}

/// Builds the typed layer from judge-rules' declarations (`declarations.rs`): a field for every
/// setting with a `Type = reader`, its reader, the one merge, and the resolved values of the
/// settings that declare how they resolve (`default` or `optional`).
macro_rules! layer {
    (
        eval { $( $key:ident $(: $ty:ty = $read:expr $(, $resolve:ident)?)? => $decl:expr; )* }
        run { $( $run_key:ident $(: $run_ty:ty = $run_read:expr $(, $run_resolve:ident)?)? => $run_decl:expr; )* }
    ) => {
        /// One source of settings: every setting optional.
        #[derive(Debug, Default, Clone)]
        pub(crate) struct Layer {
            /// Where this layer was read from.
            pub origin: Origin,
            /// The old names used for settings in this layer (`baseline` for `compare_with`), by key.
            pub written: BTreeMap<&'static str, String>,
            /// judge.toml's `[evals."module::name"]` sections: settings of one eval.
            pub evals: BTreeMap<String, Layer>,
            $( $( pub $key: Option<$ty>, )? )*
            $( $( pub $run_key: Option<$run_ty>, )? )*
        }

        /// Every setting, resolved from layers: the value of the first layer that sets it, with
        /// its source; `None` where no layer does (the caller knows the default).
        #[derive(Debug, Clone)]
        pub(crate) struct Merged {
            $( $( pub $key: Option<Sourced<$ty>>, )? )*
            $( $( pub $run_key: Option<Sourced<$run_ty>>, )? )*
        }

        /// The eval settings that resolve on their own, by key: the merged value, or the declared
        /// default (`default`), or `None` (`optional`). The others are resolved by `eval.rs`, whose
        /// rules span settings.
        #[derive(Debug, Clone, PartialEq)]
        pub(crate) struct EvalValues {
            $( $( $( pub $key: resolved_type!($ty, $resolve), )? )? )*
        }

        /// The run settings that resolve on their own, by key, as [`EvalValues`] for an eval.
        #[derive(Debug, Clone, PartialEq)]
        pub(crate) struct RunValues {
            $( $( $( pub $run_key: resolved_type!($run_ty, $run_resolve), )? )? )*
        }

        impl Layer {
            /// The one merge of settings: each setting from the first of `layers` that sets it,
            /// highest first (attribute > environment > section > file).
            pub fn merge(layers: &[&Layer]) -> Merged {
                Merged {
                    $( $( $key: layers.iter().find_map(|l| l.sourced::<$ty>(stringify!($key), l.$key.as_ref())), )? )*
                    $( $( $run_key: layers.iter().find_map(|l| l.sourced::<$run_ty>(stringify!($run_key), l.$run_key.as_ref())), )? )*
                }
            }

            /// The settings a layer holds, by key.
            pub const KEYS: &'static [&'static str] =
                &[$( $(key_of!($key: $ty),)? )* $( $(key_of!($run_key: $run_ty),)? )*];

            /// Reads `raw` into `setting` (one of [`Self::KEYS`]).
            pub fn read(&mut self, setting: &'static Setting, raw: Raw<'_>) -> Result<(), String> {
                match setting.key {
                    $( $( stringify!($key) => self.$key = Some(($read)(setting, raw)?), )? )*
                    $( $( stringify!($run_key) => self.$run_key = Some(($run_read)(setting, raw)?), )? )*
                    key => unreachable!("`{key}` is not a setting of a layer"),
                }
                Ok(())
            }
        }

        impl Merged {
            /// The eval settings that resolve on their own.
            pub fn eval_values(&self) -> EvalValues {
                EvalValues {
                    $( $( $( $key: resolved_value!(self.$key.clone(), $key, $read, $resolve), )? )? )*
                }
            }

            /// The run settings that resolve on their own.
            pub fn run_values(&self) -> RunValues {
                RunValues {
                    $( $( $( $run_key: resolved_value!(self.$run_key.clone(), $run_key, $run_read, $run_resolve), )? )? )*
                }
            }
        }
    };
}

judge_rules::declare_settings!(layer);

/// The declared default of the setting `key`, read by `read` as a variable's value would be: the
/// default is written once, in words, in the declaration.
fn declared_default<T>(key: &'static str, read: impl Fn(&'static Setting, Raw<'_>) -> Result<T, String>) -> T {
    let setting = judge_rules::settings::get(key);
    read(setting, Raw::Env { text: setting.default, base: Path::new("") })
        .unwrap_or_else(|e| panic!("the declared default of `{key}`, {:?}, does not read: {e}", setting.default))
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
fn judges(_: &Setting, raw: Raw<'_>) -> Result<Vec<JudgeName>, String> {
    let judges = raw.strings().map_err(|_| "must be an array of \"provider:model\"".to_owned())?;
    words::ensemble_size(judges.len()).map(|()| judges.into_iter().map(JudgeName::Written).collect())
}

/// `samples`: a whole number in its range, or `"adaptive"`.
fn samples(setting: &Setting, raw: Raw<'_>) -> Result<judge_rules::Samples, String> {
    use judge_rules::samples::ADAPTIVE;
    match raw {
        Raw::Env { text, .. } | Raw::Attribute(AttributeValue::Text(text)) if text.trim() == ADAPTIVE => {
            Ok(judge_rules::Samples::Adaptive)
        }
        Raw::Toml { value: toml::Value::String(s), .. } if s == ADAPTIVE => Ok(judge_rules::Samples::Adaptive),
        Raw::Toml { value: toml::Value::String(s), .. } => {
            Err(format!("must be a whole number or \"adaptive\", found {s:?}"))
        }
        Raw::Env { text, .. } if text.trim().parse::<i64>().is_err() => {
            Err(format!("{text:?} is not a whole number nor \"adaptive\""))
        }
        _ => whole(setting, raw).map(judge_rules::Samples::Fixed),
    }
}

/// `probes`: the bias probes, each named once; `none` (the default's words), or an empty list, for
/// none.
fn probes(_: &Setting, raw: Raw<'_>) -> Result<Vec<words::Probe>, String> {
    let names = raw.strings()?;
    if let [only] = names.as_slice()
        && only == "none"
    {
        return Ok(Vec::new());
    }
    words::probes(&names).map_err(|(_, reason)| reason)
}

/// `levels`: an array of bands (judge.toml only; the attribute's are read apart).
fn levels(_: &Setting, raw: Raw<'_>) -> Result<Levels, String> {
    Levels::parse(&raw.strings()?, Scale::default())
}

/// `[criteria]`: a table of `name = "rubric"` or detailed criteria (judge.toml only).
fn criteria(_: &Setting, raw: Raw<'_>) -> Result<Criteria, String> {
    match raw {
        Raw::Toml { value: toml::Value::Table(table), .. } => Criteria::from_toml(table),
        _ => Err("must be a table: [criteria] with name = \"rubric\" lines".to_owned()),
    }
}

/// `steps`: `"auto"`, or (judge.toml) an array of given steps; a variable can only ask for them.
fn steps(_: &Setting, raw: Raw<'_>) -> Result<Steps, String> {
    match raw {
        Raw::Env { text: judge_rules::steps::AUTO, .. } => Ok(Steps::Auto),
        Raw::Env { .. } => Err("the only value is \"auto\" (steps generated by the judge); give steps as an array \
                                in judge.toml or the attribute"
            .to_owned()),
        Raw::Toml { value: toml::Value::String(s), .. } if s == judge_rules::steps::AUTO => Ok(Steps::Auto),
        Raw::Toml { value: toml::Value::Array(_), .. } => Steps::given(&raw.strings()?),
        Raw::Toml { .. } | Raw::Attribute(_) => Err("must be \"auto\" or an array of strings".to_owned()),
    }
}

/// `[prices]`: a table of judges' prices (judge.toml only).
fn prices(_: &Setting, raw: Raw<'_>) -> Result<Prices, String> {
    match raw {
        Raw::Toml { value: toml::Value::Table(table), .. } => Prices::from_toml(table),
        _ => Err("must be a table: [prices.\"provider:model\"] with prompt = PRICE, completion = PRICE".to_owned()),
    }
}

/// `snapshot`: true, false or "strict" (a variable's `true`/`false` are words).
fn snapshot(_: &Setting, raw: Raw<'_>) -> Result<SnapshotMode, String> {
    match raw {
        Raw::Env { text, .. } | Raw::Attribute(AttributeValue::Text(text)) => SnapshotMode::parse(text),
        Raw::Toml { value: toml::Value::Boolean(true), .. } => Ok(SnapshotMode::On),
        Raw::Toml { value: toml::Value::Boolean(false), .. } => Ok(SnapshotMode::Off),
        Raw::Toml { value: toml::Value::String(s), .. } if s == "strict" => Ok(SnapshotMode::Strict),
        Raw::Toml { .. } | Raw::Attribute(_) => Err("must be true, false or \"strict\"".to_owned()),
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

    /// A setting that resolves to its declared default reads that default as a variable's value:
    /// the words are the value.
    #[test]
    fn declared_defaults_are_values() {
        let (eval, run) = (Layer::merge(&[]).eval_values(), Layer::merge(&[]).run_values());
        assert_eq!(
            (eval.timeout, eval.snapshot, eval.combine),
            (Duration::from_secs(120), SnapshotMode::Off, Combine::Mean)
        );
        assert_eq!((run.max_concurrency, run.deadline, run.cache), (16, Duration::from_secs(900), CacheMode::On));
        assert_eq!((run.max_judge_calls, run.report_json), (None, None));
    }
}
