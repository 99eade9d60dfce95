//! The settings of one eval: its attribute, then the environment, its judge.toml section, the file's
//! own settings, then defaults; each value with its source.

use std::path::Path;

use crate::aggregate::Reducer;
use crate::dataset::RowSettings;
use crate::error::ConfigError;
use crate::settings::attribute::AttributeSettings;
use crate::settings::criteria::Criteria;
use crate::settings::judges::JudgeName;
use crate::settings::layer::{Comparison, EvalValues, Layer};
use crate::settings::levels::Levels;
use crate::settings::params::{DEFAULT_TEMPERATURE, GenerationParams};
use crate::settings::source::Origin;
use crate::settings::source::{Source, Sourced};
use crate::settings::steps::Steps;
use crate::settings::{DEFAULT_COMPARISON_THRESHOLD, DEFAULT_SAMPLES, DEFAULT_THRESHOLD, DEFAULT_TRIM, Settings};
use judge_rules::Reduce;
use judge_rules::judge::JudgeSpec;

/// The settings of one eval, resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EvalSettings {
    /// The settings that resolve on their own, by key (`combine`, `timeout`, `snapshot`, …): their
    /// value, or their declared default. The fields below are resolved by rules that span settings.
    pub values: EvalValues,
    /// Every judge: one, or the ensemble (`judges`).
    pub panel: Vec<JudgeSpec>,
    /// The largest spread between an ensemble's scores of a sample that is not flagged.
    pub max_spread: Option<f64>,
    /// Whether a flagged disagreement fails the eval (`on_disagreement = "fail"`).
    pub fail_on_disagreement: bool,
    pub threshold: f64,
    /// The samples to draw: the fixed number, or at most `max_samples` when adaptive.
    pub samples: u32,
    /// Adaptive samples' bounds, when `samples = "adaptive"`.
    pub adaptive: Option<Adaptive>,
    pub generation: GenerationParams,
    /// How the samples' scores reduce to the eval's score: the rule and the eval's `trim`.
    pub reduce: Reducer,
    /// The rubric's levels, if any.
    pub levels: Option<Levels>,
    /// The criteria scored separately, if any.
    pub criteria: Option<Criteria>,
    /// The text from the eval's judge.toml section that outputs are compared with, when the
    /// attribute sets none (the attribute's own is read from the eval's case).
    pub compare_with: Option<String>,
    /// Evaluation steps, given or generated, if any.
    pub steps: Option<Steps>,
    /// Where the judge, threshold and samples came from.
    pub sources: Sources,
    /// The model that writes a dataset's synthetic pairs (`generator`), when not the judge.
    pub generator: Option<JudgeSpec>,
}

/// The bounds of adaptive samples (`samples = "adaptive"`): judged first, and at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Adaptive {
    /// `min_samples`.
    pub min: u32,
    /// `max_samples`.
    pub max: u32,
}

/// Where an eval's main settings came from, for its failure message and the reports.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sources {
    /// The judge or the ensemble.
    pub judge: Source,
    /// The threshold.
    pub threshold: Source,
    /// The number of samples.
    pub samples: Source,
}

impl Sources {
    /// Each setting's source by key, as the JSON report lists them.
    pub fn labels(&self) -> [(&'static str, String); 3] {
        [("judge", self.judge.label()), ("threshold", self.threshold.label()), ("samples", self.samples.label())]
    }

    /// One line for a failure message: "judge: JUDGE_MODEL, threshold: attribute, samples: default".
    pub fn describe(&self) -> String {
        self.labels().iter().map(|(key, label)| format!("{key}: {label}")).collect::<Vec<_>>().join(", ")
    }
}

impl EvalSettings {
    /// The judge, or the first of the ensemble.
    pub fn judge(&self) -> &JudgeSpec {
        &self.panel[0]
    }

    /// The judge as reports name it: `provider:model`, or an ensemble's joined with ` + `.
    pub fn judge_label(&self) -> String {
        self.panel.iter().map(ToString::to_string).collect::<Vec<_>>().join(" + ")
    }
}

/// A dataset's row, whose own settings come first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowOf<'a> {
    /// The dataset file, resolved.
    pub path: &'a Path,
    /// The row's line.
    pub line: usize,
    /// The dataset eval's name, `module::path::name`: its judge.toml section applies to the row.
    pub dataset: &'a str,
    /// The row's own settings.
    pub settings: &'a RowSettings,
}

impl Settings {
    /// Whether the dataset eval `eval` (attribute `attr`) validates its judge on synthetic pairs:
    /// `validate = "synthetic"`, or a `min_accuracy` gate, from the attribute, the environment or
    /// judge.toml. Read when the tests are listed, before (and whatever) the rest resolves: a
    /// setting that does not read counts as unset here and stops the run later.
    pub fn validates(&self, eval: &str, attr: AttributeSettings<'_>) -> bool {
        let attribute = attr.layer(eval).unwrap_or_default();
        let layers = [Some(&attribute), Some(&self.env), self.file.evals.get(eval), Some(&self.file)];
        let all = Layer::merge(&layers.into_iter().flatten().collect::<Vec<_>>());
        all.validate.is_some() || all.min_accuracy.is_some()
    }

    /// The settings of one eval: its attribute first, then the environment, its judge.toml section,
    /// the file's own settings, defaults. A row of a dataset (`row`, its own settings) comes before
    /// the attribute, and its section (`[evals."mod::fn::id"]`) before its dataset's
    /// (`[evals."mod::fn"]`, named by `dataset`).
    pub fn eval(
        &self,
        eval: &str,
        attr: AttributeSettings<'_>,
        row: Option<RowOf<'_>>,
    ) -> Result<EvalSettings, ConfigError> {
        let attribute = attr.layer(eval)?;
        let dataset = row.as_ref().map(|row| row.dataset);
        let row = row.map(|row| Layer {
            threshold: row.settings.threshold,
            samples: row.settings.samples.map(judge_rules::Samples::Fixed),
            compare_with: row.settings.compare_with.clone().map(Comparison::Text),
            ..Layer::new(Origin::Row { path: row.path.to_owned(), line: row.line })
        });
        let layers: Vec<&Layer> = [
            row.as_ref(),
            Some(&attribute),
            Some(&self.env),
            self.file.evals.get(eval),
            dataset.and_then(|dataset| self.file.evals.get(dataset)),
            Some(&self.file),
        ]
        .into_iter()
        .flatten()
        .collect();
        let all = Layer::merge(&layers);
        let values = all.eval_values();
        // Groups of settings decided by one layer: the first that names a judge or an ensemble
        // names it alone (and within it `judges` wins); the first that chooses levels, criteria or
        // a comparison sets the others of the layers below aside.
        let judge = Layer::merge(&layers.iter().copied().find(|l| l.names_judge()).into_iter().collect::<Vec<_>>());
        let technique =
            Layer::merge(&layers.iter().copied().find(|l| l.chooses_technique()).into_iter().collect::<Vec<_>>());

        let (specs, judge_source, ensemble) = match (judge.judges, judge.judge) {
            (Some(judges), _) => (judges.value, judges.source, true),
            (None, Some(judge)) => (vec![judge.value], judge.source, false),
            (None, None) => match self.fallback_judge {
                Some(spec) => (vec![JudgeName::Written(spec.to_owned())], Source::Default, false),
                None => {
                    return Err(ConfigError::NoJudge {
                        workspace_root: self.workspace_root.clone(),
                        install_command: self.install_command.clone(),
                    });
                }
            },
        };
        let source_name = match judge_source {
            Source::Default => "the default (no judge configured)".to_owned(),
            ref source => source.to_string(),
        };
        let invalid_judge = |spec: &str, reason: String| ConfigError::InvalidJudge {
            spec: spec.to_owned(),
            source_name: source_name.clone(),
            reason,
        };
        let names: Vec<String> = specs.iter().map(ToString::to_string).collect();
        let panel = specs
            .iter()
            .zip(&names)
            .map(|(spec, name)| spec.spec().map_err(|reason| invalid_judge(name, reason)))
            .collect::<Result<Vec<JudgeSpec>, _>>()?;
        if ensemble {
            // judge-rules' rule of ensembles, as the attribute applies it; the size error keeps the
            // longer wording that counts the judges found.
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            judge_rules::words::ensemble(&names).map_err(|(at, _)| match at {
                Some(i) => invalid_judge(names[i], "named twice in the ensemble".to_owned()),
                None => invalid_judge(
                    &names.join(", "),
                    judge_rules::words::ensemble_size(specs.len()).expect_err("too few judges"),
                ),
            })?;
        }

        let compares = technique.compare_with.is_some();
        // A comparison's score is a win rate: by default, no worse than the other output.
        let threshold = all.threshold.unwrap_or_else(|| {
            Sourced::default(if compares { DEFAULT_COMPARISON_THRESHOLD } else { DEFAULT_THRESHOLD })
        });
        let samples = all.samples.unwrap_or_else(|| Sourced::default(judge_rules::Samples::Fixed(DEFAULT_SAMPLES)));
        let trim = all.trim.map_or(DEFAULT_TRIM, |s| s.value);
        let adaptive = (samples.value == judge_rules::Samples::Adaptive)
            .then_some(Adaptive { min: values.min_samples, max: values.max_samples });
        let rule = match &all.reduce {
            Some(Sourced { value, source }) => match adaptive {
                None => judge_rules::reduce::check_samples(*value, samples.value.count(values.max_samples)),
                Some(a) => judge_rules::samples::check_adaptive(a.min, a.max, *value),
            }
            .map(|()| *value)
            .map_err(|reason| source.error(eval, value, reason))?,
            // A comparison's score is the win rate: the mean of wins (1), ties (0.5) and losses.
            None if compares => Reduce::Mean,
            None => Reduce::TrimmedMean,
        };
        if let Some(a) = adaptive {
            judge_rules::samples::check_adaptive(a.min, a.max, rule)
                .map_err(|reason| samples.source.error(eval, judge_rules::samples::ADAPTIVE, reason))?;
        }
        let reduce = Reducer::new(rule, trim);
        let max_spread = all.max_spread.as_ref().map(|s| s.value);
        let fail_on_disagreement = all.on_disagreement.as_ref().is_some_and(|s| s.value);
        // Ensemble settings on an eval with one judge would do nothing: an attribute that sets them
        // is told so rather than ignored.
        if !ensemble {
            let set = [
                ("combine", all.combine.as_ref().map(|s| &s.source)),
                ("max_spread", all.max_spread.as_ref().map(|s| &s.source)),
                ("on_disagreement", all.on_disagreement.as_ref().map(|s| &s.source)),
            ];
            if let Some((key, _)) = set.into_iter().find(|(_, source)| matches!(source, Some(Source::Attribute { .. })))
            {
                return Err(ConfigError::InvalidAttribute {
                    eval: eval.to_owned(),
                    key,
                    reason: format!(
                        "`{key}` applies to an ensemble, but the eval has one judge ({} from {source_name}): set \
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
        Ok(EvalSettings {
            values,
            panel,
            max_spread,
            fail_on_disagreement,
            threshold: threshold.value,
            samples: adaptive.map_or(samples.value.count(DEFAULT_SAMPLES), |a| a.max),
            adaptive,
            generation: GenerationParams {
                temperature: Some(all.temperature.map_or(DEFAULT_TEMPERATURE, |s| s.value)),
                max_tokens: all.max_tokens.map(|s| s.value),
                seed: all.seed.map(|s| s.value),
                weighted: all.scoring.is_none_or(|s| s.value),
            },
            reduce,
            levels: technique.levels.map(|s| s.value),
            criteria: technique.criteria.map(|s| s.value),
            compare_with: match technique.compare_with.map(|s| s.value) {
                Some(Comparison::Text(text)) => Some(text),
                Some(Comparison::Attribute) | None => None,
            },
            steps: all.steps.map(|s| s.value),
            sources: Sources { judge: judge_source, threshold: threshold.source, samples: samples.source },
            generator: match all.generator {
                Some(Sourced { value, source }) => Some(value.spec().map_err(|reason| ConfigError::InvalidJudge {
                    spec: value.to_string(),
                    source_name: format!("{source} (`generator`)"),
                    reason,
                })?),
                None => None,
            },
        })
    }
}
