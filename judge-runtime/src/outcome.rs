//! What an eval produced: its samples and their verdicts, the reduced score, where the judges
//! disagreed, why it failed or could not be scored, and the run's totals. The harness produces
//! outcomes; the reports, the score baseline and the snapshots read them. This module sits below
//! all of them, so none of them needs the harness.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::aggregate::Summary;
use crate::error::{CacheError, ConfigError, JudgeError};
use crate::judge::techniques::criteria::CriterionSummary;
use crate::judge::techniques::steps::GeneratedSteps;
use crate::judge::techniques::verdict::{Comparison, Preference, Verdict};
use crate::judge::transport::call_stats::CallTotals;
use crate::settings::EvalSettings;
use judge_rules::words::OnTie;

/// How much of each output the reports and the snapshots keep.
pub(crate) const OUTPUT_EXCERPT_CHARS: usize = 2000;

/// What the reports tell of an eval, whatever it produced: its name and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EvalIdentity {
    /// The test name, `module::path::name`.
    pub name: String,
    /// The function's name, or the attribute's `name`: the last segment of `name`.
    pub short_name: String,
    /// The source file of the eval.
    pub file: String,
    /// The line of the function in `file`.
    pub line: u32,
    /// The rubric the output is graded against.
    pub rubric: String,
    /// The input the output answers, if the eval gives one.
    pub input: Option<String>,
    /// The reference answer, if the eval gives one.
    pub expected: Option<String>,
    /// The dataset row the eval judges, for an eval driven by a dataset.
    pub dataset: Option<DatasetRowRef>,
}

/// The row of a dataset an eval judged, as the reports name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DatasetRowRef {
    /// The dataset eval: `module::path::name`, the prefix of its rows' test names.
    pub name: String,
    /// The dataset file, as the attribute names it.
    pub file: String,
    /// The row's id: the last segment of its test name.
    pub id: String,
    /// The row's line in the file.
    pub line: usize,
    /// The dataset's pass-rate gate, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_pass_rate: Option<f64>,
    /// A person's label of the row, which the judge's verdict is compared with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human: Option<crate::calibration::HumanLabel>,
}

/// How one row of a gated dataset ended, as the gate's failure tells it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowOutcome {
    /// The row's line in the file.
    pub line: usize,
    /// The row's id.
    pub id: String,
    /// Whether it passed.
    pub passed: bool,
    /// Why it did not pass: its score and what it failed, with its lowest sample's rationale, or
    /// why it could not be scored.
    pub why: String,
    /// Its score in the judge's scale points, when it was scored.
    pub points: Option<f64>,
    /// A person's label of it.
    pub human: Option<crate::calibration::HumanLabel>,
}

/// How an eval ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// Scored at or above its threshold (and not regressed past the baseline's margin).
    Passed,
    /// Scored below its threshold, or regressed past the baseline's margin.
    Failed,
    /// Could not be scored: a configuration, eval function, judge or cache error.
    Error,
}

impl Status {
    /// The status as the JSON report writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Error => "error",
        }
    }
}

/// Where a verdict came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum VerdictSource {
    /// A judge call of this sample's own.
    Judged,
    /// The verdict cache.
    Cached,
    /// An identical call another eval made at the same time: its verdict is shared.
    Shared,
}

impl VerdictSource {
    /// The source as the JSON report writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Judged => "judged",
            Self::Cached => "cached",
            Self::Shared => "shared",
        }
    }

    /// Where a verdict built from several came from: judged if any was, else cached if any was.
    pub fn merged(sources: impl IntoIterator<Item = VerdictSource>) -> VerdictSource {
        let rank = |s: &VerdictSource| match s {
            Self::Judged => 0,
            Self::Cached => 1,
            Self::Shared => 2,
        };
        sources.into_iter().min_by_key(rank).unwrap_or(Self::Cached)
    }
}

/// One output and its verdict.
#[derive(Debug, Clone)]
pub(crate) struct SampleResult {
    pub output: String,
    /// The output's length in characters when it was too long and the judge saw only its start.
    pub truncated_from: Option<usize>,
    /// What the output was compared with, when the eval has a comparison text (`compare_with`).
    pub compared_with: Option<String>,
    pub verdict: Verdict,
    pub source: VerdictSource,
    /// What the bias probes found on this sample.
    pub probes: crate::probes::SampleProbes,
    /// How long getting the verdict took: cache lookup, judge call and retries.
    pub latency: Duration,
}

/// A scored eval, passed or not.
#[derive(Debug, Clone)]
pub(crate) struct EvalOutcome {
    pub eval: EvalIdentity,
    pub settings: EvalSettings,
    pub samples: Vec<SampleResult>,
    pub summary: Summary,
    /// Each criterion reduced over the samples, when the eval has criteria.
    pub criteria: Vec<CriterionSummary>,
    /// Where an ensemble's judges were furthest apart, when the eval has several judges.
    pub disagreement: Option<Disagreement>,
    /// When the eval compares outputs (`compare_with`) and every comparison is a tie.
    pub all_ties: Option<AllTies>,
    /// What the calls this run made for the eval cost, by judge.toml's `prices`, when every judge
    /// of the eval is priced (verdicts from the cache cost nothing).
    pub cost: Option<f64>,
    /// The evaluation steps each judge generated, when the eval has `steps = "auto"`.
    pub steps: Vec<(String, GeneratedSteps)>,
    /// What the bias probes found over the samples, when the eval runs any.
    pub probes: Option<crate::probes::Probes>,
    /// How many samples adaptive sampling drew, and the score's interval, when it is adaptive.
    pub adaptive: Option<crate::adaptive::AdaptiveRecord>,
}

/// The sample on which an ensemble's judges were furthest apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Disagreement {
    /// The sample, from 0.
    pub sample: usize,
    /// Its highest judge's score minus its lowest, on 0..=1.
    pub spread: f64,
    /// Whether the spread is above `max_spread`.
    pub flagged: bool,
}

/// An eval whose every comparison (`compare_with`) is a tie: the judge could not tell the two
/// outputs apart, so its score, a win rate of 0.5, says nothing about which is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AllTies {
    /// The comparisons: one per sample and judge.
    pub comparisons: usize,
    /// Those whose two orders disagreed: each preferred the output shown in its own position.
    pub split: usize,
}

impl AllTies {
    /// The comparisons of `verdicts` (each judge's, for an ensemble), when every one is a tie.
    pub fn of<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>) -> Option<Self> {
        let comparisons: Vec<Comparison> = verdicts.into_iter().flat_map(Verdict::comparisons).collect();
        let all_tie = !comparisons.is_empty() && comparisons.iter().all(|c| c.result() == Preference::Tie);
        all_tie.then(|| Self {
            comparisons: comparisons.len(),
            split: comparisons.iter().filter(|c| !c.consistent()).count(),
        })
    }
}

/// Why a scored eval failed, first reason first. JUnit names its `<failure type>` after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FailureKind {
    /// The score is below the threshold.
    BelowThreshold,
    /// A criterion is below its own threshold.
    CriterionBelowThreshold,
    /// The judges disagree more than `max_spread` allows, with `on_disagreement = "fail"`.
    JudgesDisagree,
    /// Every comparison is a tie, with `on_tie = "fail"`.
    AllTies,
    /// The score fell below the score baseline's by more than `max_score_drop`.
    Regression,
    /// The verdict's snapshot changed, with `snapshot = "strict"`.
    SnapshotChanged,
    /// A dataset's share of passing rows is below its `min_pass_rate`.
    BelowMinPassRate,
    /// The judge's agreement with a dataset's human labels misses a calibration gate.
    Calibration,
    /// A bias probe found more bias than its gate allows (`max_position_bias`, `max_verbosity_bias`).
    BiasProbe,
    /// The judge ordered fewer of a dataset's synthetic pairs right than `min_accuracy` asks.
    SyntheticAccuracy,
}

impl FailureKind {
    /// The kind as the JSON and JUnit reports write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BelowThreshold => "below_threshold",
            Self::CriterionBelowThreshold => "criterion_below_threshold",
            Self::JudgesDisagree => "judges_disagree",
            Self::AllTies => "all_ties",
            Self::Regression => "regression",
            Self::SnapshotChanged => "snapshot_changed",
            Self::BelowMinPassRate => "below_min_pass_rate",
            Self::Calibration => "calibration",
            Self::BiasProbe => "bias_probe",
            Self::SyntheticAccuracy => "synthetic_accuracy",
        }
    }
}

impl EvalOutcome {
    /// Whether a flagged disagreement of the judges fails the eval (`on_disagreement = "fail"`).
    fn disagreement_fails(&self) -> bool {
        self.settings.fail_on_disagreement && self.disagreement.is_some_and(|d| d.flagged)
    }

    /// The score reaches the threshold, every criterion its own, and the judges agree well enough
    /// where a disagreement fails (`on_disagreement = "fail"`).
    pub fn passed(&self) -> bool {
        self.failure_kind(false).is_none()
    }

    /// Why the eval fails, if it does; `regressed` tells whether its score fell past the score
    /// baseline's margin.
    pub fn failure_kind(&self, regressed: bool) -> Option<FailureKind> {
        if !self.summary.passes(self.settings.threshold) {
            Some(FailureKind::BelowThreshold)
        } else if !self.criteria.iter().all(CriterionSummary::passes) {
            Some(FailureKind::CriterionBelowThreshold)
        } else if self.disagreement_fails() {
            Some(FailureKind::JudgesDisagree)
        } else if self.all_ties.is_some() && self.settings.values.on_tie == OnTie::Fail {
            Some(FailureKind::AllTies)
        } else if self.probes.as_ref().is_some_and(|p| !p.missed().is_empty()) {
            Some(FailureKind::BiasProbe)
        } else if regressed {
            Some(FailureKind::Regression)
        } else {
            None
        }
    }

    /// The sample whose rationale stands for the eval: see [`median_kept`].
    pub fn median_sample(&self) -> Option<&SampleResult> {
        let scores = self.samples.iter().map(|s| s.verdict.normalized());
        median_kept(scores.zip(self.summary.trimmed.iter().copied())).map(|i| &self.samples[i])
    }
}

/// The index of the sample whose score is the median of the kept ones (the lower middle for an
/// even count), from each sample's score and whether it was trimmed.
pub(crate) fn median_kept(samples: impl IntoIterator<Item = (f64, bool)>) -> Option<usize> {
    let mut kept: Vec<(usize, f64)> =
        samples.into_iter().enumerate().filter(|(_, (_, trimmed))| !trimmed).map(|(i, (s, _))| (i, s)).collect();
    kept.sort_by(|a, b| a.1.total_cmp(&b.1));
    kept.get(kept.len().saturating_sub(1) / 2).map(|(i, _)| *i)
}

/// Why an eval could not be scored. Sample numbers count from 1, as the report shows them.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EvalFailure {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("sample {}: the eval function failed, so its output was not judged:\n{message}", sample + 1)]
    Output { sample: usize, message: String },
    #[error("generating the evaluation steps (steps = \"auto\") with {judge} failed: {message}")]
    Steps { judge: String, message: String },
    #[error("generating a contrastive pair (validate = \"synthetic\") with {generator} failed: {message}")]
    Contrast { generator: String, message: String },
    #[error("sample {}: the baseline function failed, so the output was not compared:\n{message}", sample + 1)]
    CompareWith { sample: usize, message: String },
    #[error("sample {}: {error}", sample + 1)]
    Judge { sample: usize, error: JudgeError },
    #[error("sample {}: {error}", sample + 1)]
    Cache { sample: usize, error: CacheError },
    /// The row cannot be read as the function's parameter, or its rubric cannot be filled.
    #[error("{0}")]
    Dataset(#[from] crate::error::DatasetError),
    #[error(
        "the eval did not finish within its deadline of {} s (the `deadline` setting, JUDGE_DEADLINE): \
         a judge or the eval function is too slow; samples still running were stopped",
        deadline.as_secs_f64()
    )]
    Deadline { deadline: Duration },
}

/// The run's tallies, printed at its end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunTotals {
    /// Verdicts read from the cache.
    pub cache_hits: u64,
    /// Verdicts shared from an identical call in flight.
    pub shared: u64,
    /// Verdicts fetched from a judge.
    pub judged: u64,
    /// What the judge calls cost.
    pub calls: CallTotals,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_of_several_comes_from_the_most_costly_source() {
        use VerdictSource::{Cached, Judged, Shared};
        assert_eq!(VerdictSource::merged([Shared, Cached]), Cached);
        assert_eq!(VerdictSource::merged([Cached, Judged, Shared]), Judged);
        assert_eq!(VerdictSource::merged([]), Cached);
    }

    #[test]
    fn the_median_is_of_the_kept_samples() {
        assert_eq!(median_kept([(0.9, true), (0.5, false), (0.2, false), (0.7, false), (0.1, true)]), Some(1));
        assert_eq!(median_kept([(0.4, false), (0.6, false)]), Some(0), "the lower middle");
        assert_eq!(median_kept([]), None);
    }

    #[test]
    fn all_ties_are_the_comparisons_of_a_judge_that_cannot_tell_outputs_apart() {
        let compared = |output_first, baseline_first| {
            serde_json::from_value::<Verdict>(serde_json::json!({
                "score": 1.0, "scale": {"min": 0, "max": 2}, "method": "compared", "rationale": "r",
                "comparison": {"output_first": output_first, "baseline_first": baseline_first},
                "usage": {"prompt_tokens": 0, "completion_tokens": 0}
            }))
            .unwrap()
        };
        let split = compared("output", "baseline");
        let both_tie = compared("tie", "tie");
        let win = compared("output", "output");
        assert_eq!(AllTies::of([&split, &both_tie, &split]), Some(AllTies { comparisons: 3, split: 2 }));
        assert_eq!(AllTies::of([&split, &win]), None, "one comparison was decided");
        assert_eq!(AllTies::of([]), None, "no comparison at all");
    }

    #[test]
    fn failure_kinds_are_named_as_the_reports_name_them() {
        let kinds = [
            FailureKind::BelowThreshold,
            FailureKind::CriterionBelowThreshold,
            FailureKind::JudgesDisagree,
            FailureKind::AllTies,
            FailureKind::Regression,
            FailureKind::SnapshotChanged,
        ];
        for kind in kinds {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
