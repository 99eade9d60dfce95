//! What an `#[llm_eval]` attribute set, read into a layer. The macro checked every value at compile
//! time with judge-rules and hands it over typed (`reduce`, `combine`, `on_disagreement`, judges
//! as `JudgeSpec`, levels as bands), not re-parsed here. The numbers (`at_least(k)`'s k among them),
//! the levels' cover of the scale, an ensemble's rule and the techniques' texts are checked again,
//! as the runtime can be driven by code the macro did not write.

use std::time::Duration;

use judge_rules::Reduce;
use judge_rules::judge::JudgeSpec;
use judge_rules::levels::Band;
use judge_rules::words::{self, OnDisagreement};

use crate::error::ConfigError;
use crate::settings::criteria::{Criteria, CriterionDef};
use crate::settings::judges::JudgeName;
use crate::settings::layer::{Comparison, Layer};
use crate::settings::levels::Levels;
use crate::settings::modes::SnapshotMode;
use crate::settings::read::{AttributeValue, Raw};
use crate::settings::scale::Scale;
use crate::settings::source::Origin;
use crate::settings::steps::{Steps, StepsDef};

/// What an `#[llm_eval]` attribute set; `None` where the key was not given.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct AttributeSettings<'a> {
    pub judge: Option<&'a JudgeSpec>,
    pub threshold: Option<f64>,
    pub samples: Option<judge_rules::Samples>,
    pub trim: Option<f64>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub seed: Option<u64>,
    /// Seconds.
    pub timeout: Option<f64>,
    pub snapshot: Option<SnapshotMode>,
    pub reduce: Option<Reduce>,
    /// `scoring`: true for `"weighted"`.
    pub scoring: Option<bool>,
    pub levels: Option<&'a [Band]>,
    pub criteria: Option<&'a [CriterionDef]>,
    /// Whether the eval compares its outputs with its own `compare_with`.
    pub compares: bool,
    pub judges: Option<&'a [JudgeSpec]>,
    pub combine: Option<words::Combine>,
    pub max_spread: Option<f64>,
    pub on_disagreement: Option<OnDisagreement>,
    pub steps: Option<StepsDef>,
    /// The settings read by their kind alone, by key.
    pub by_kind: &'a [(&'a str, AttributeValue)],
}

impl AttributeSettings<'_> {
    /// The attribute of the eval `eval` as a layer, its values checked.
    pub fn layer(&self, eval: &str) -> Result<Layer, ConfigError> {
        let invalid = |key: &'static str| {
            move |reason: String| ConfigError::InvalidAttribute { eval: eval.to_owned(), key, reason }
        };
        let range = |key: &'static str, v: f64| {
            judge_rules::settings::get(key).range().check_value(v).map(|()| v).map_err(invalid(key))
        };
        if let Some(conflict) =
            judge_rules::techniques::conflict(self.levels.is_some(), self.criteria.is_some(), self.compares)
        {
            return Err(invalid(conflict.key)(conflict.reason()));
        }
        let mut layer = Layer {
            judge: self.judge.map(|spec| JudgeName::Spec(spec.clone())),
            judges: self.judges.map(|judges| judges.iter().cloned().map(JudgeName::Spec).collect()),
            threshold: self.threshold.map(|v| range("threshold", v)).transpose()?,
            samples: self
                .samples
                .map(|samples| match samples {
                    judge_rules::Samples::Fixed(n) => range("samples", n.into()).map(|_| samples),
                    judge_rules::Samples::Adaptive => Ok(samples),
                })
                .transpose()?,
            trim: self.trim.map(|v| range("trim", v)).transpose()?,
            temperature: self.temperature.map(|v| range("temperature", v)).transpose()?,
            max_tokens: self.max_tokens.map(|v| range("max_tokens", v.into()).map(|_| v)).transpose()?,
            seed: self.seed,
            timeout: self.timeout.map(|v| range("timeout", v).map(Duration::from_secs_f64)).transpose()?,
            snapshot: self.snapshot,
            reduce: self
                .reduce
                .map(|v| judge_rules::reduce::check(v).map(|()| v).map_err(invalid("reduce")))
                .transpose()?,
            scoring: self.scoring,
            levels: self
                .levels
                .map(|v| Levels::new(v.to_vec(), Scale::default()).map_err(invalid("levels")))
                .transpose()?,
            criteria: self.criteria.map(|v| Criteria::from_defs(v).map_err(invalid("criteria"))).transpose()?,
            compare_with: self.compares.then_some(Comparison::Attribute),
            steps: self.steps.map(|v| Steps::from_def(v).map_err(invalid("steps"))).transpose()?,
            combine: self.combine,
            max_spread: self.max_spread.map(|v| range("max_spread", v)).transpose()?,
            on_disagreement: self.on_disagreement.map(OnDisagreement::fails),
            ..Layer::new(Origin::Attribute(eval.to_owned()))
        };
        // Read as the environment's and judge.toml's values are, by the setting's own reader.
        for &(key, value) in self.by_kind {
            let setting = judge_rules::settings::find(key).filter(|s| s.attribute && Layer::KEYS.contains(&s.key));
            let Some(setting) = setting else {
                let reason = format!("`{key}` is not a setting the attribute takes by its kind");
                return Err(ConfigError::InvalidAttribute { eval: eval.to_owned(), key: "by_kind", reason });
            };
            layer.read(setting, Raw::Attribute(value)).map_err(invalid(setting.key))?;
        }
        Ok(layer)
    }
}
