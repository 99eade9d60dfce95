//! The record of a run: every eval and every sample as the reports show them. The JSON report is
//! this record as it is; JUnit, Markdown and HTML are rendered from it. Under `cargo nextest run`,
//! which runs one process per test, the processes of one run add their evals to one record.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::adaptive::AdaptiveRecord;
use crate::agreement::Agreement;
use crate::baseline::BaselineDelta;
use crate::judge::techniques::verdict::{Scale, ScoreMethod, Usage};
pub(crate) use crate::outcome::Status;
use crate::outcome::{
    DatasetRowRef, EvalIdentity, EvalOutcome, FailureKind, OUTPUT_EXCERPT_CHARS, SampleResult, VerdictSource,
};
use crate::probes::Probes;
pub(crate) use crate::report::datasets::DatasetRecord;
use crate::report::datasets::{RowResult, summarize};
use crate::snapshot::SnapshotState;
use crate::synthetic::SyntheticRecord;

/// Bumped when the record's layout changes; a record of another format is replaced, not merged.
pub(crate) const FORMAT: u32 = 1;

/// A run's evals, in name order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunRecord {
    /// [`FORMAT`].
    pub format: u32,
    /// The run: `NEXTEST_RUN_ID` under nextest, so its processes share one record; else unique to
    /// this process.
    pub run_id: String,
    /// The test binary's name, e.g. `evals`.
    pub binary: String,
    /// When the run started, in seconds since the Unix epoch.
    pub started_unix: u64,
    /// When the run started, in milliseconds since the Unix epoch (0 in records written before).
    #[serde(default)]
    pub started_unix_ms: u64,
    /// The run's wall time until its last report, in milliseconds: less than the sum of its evals'
    /// times, which run at once (0 in records written before).
    #[serde(default)]
    pub duration_ms: u64,
    /// How well the judges of ensembles agreed over the run's samples, when any eval had several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Agreement>,
    /// Every dataset eval's summary: its rows' counts and pass rate, and its gate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DatasetRecord>,
    /// What the run's calls cost, by judge.toml's `prices`: the sum of its priced evals' costs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    pub evals: Vec<EvalRecord>,
}

/// One eval's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EvalRecord {
    /// The test name, `module::path::name`.
    pub name: String,
    /// Where the eval is written.
    pub file: String,
    pub line: u32,
    /// The row of a dataset this eval judged, for an eval driven by a dataset (boxed: most evals
    /// have none, and a dataset has many rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<Box<DatasetRowRef>>,
    pub rubric: String,
    /// `provider:model`, when the settings resolved.
    pub judge: Option<String>,
    /// The pass mark, when the settings resolved.
    pub threshold: Option<f64>,
    /// Where the judge, threshold and samples came from (`attribute`, a variable, `judge.toml: key`,
    /// `default`), when the settings resolved.
    #[serde(default, skip_serializing_if = "Sources::is_empty")]
    pub sources: Sources,
    pub status: Status,
    /// The reduced score (0..=1), when the eval was scored.
    pub score: Option<f64>,
    /// The spread of the samples' scores, when the eval was scored.
    pub stats: Option<Stats>,
    /// What libtest shows for a failure or an error.
    pub message: Option<String>,
    /// Why a failed eval failed (absent when it passed or could not be scored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureKind>,
    /// The comparison with the score baseline, when one was read and holds this eval.
    pub baseline: Option<BaselineDelta>,
    /// Tokens of the judge calls this eval's verdicts cost (cached verdicts count what they cost
    /// when judged).
    pub usage: Usage,
    /// Wall time of the eval.
    pub duration_ms: u64,
    /// How the verdict's snapshot compared, when it was snapshotted.
    pub snapshot: Option<SnapshotState>,
    /// Each criterion reduced over the samples, when the eval has criteria.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<CriterionRecord>,
    /// Where an ensemble's judges were furthest apart, when the eval has several judges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disagreement: Option<DisagreementRecord>,
    /// What this run's calls for the eval cost, by judge.toml's `prices`, when its judges are priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// When every comparison (`compare_with`) is a tie: the judge could not tell the outputs apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_ties: Option<TiesRecord>,
    /// What the bias probes found (`probes`, or a gate on one), when the eval runs any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<Probes>,
    /// How many samples were drawn and the score's interval, when `samples = "adaptive"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<AdaptiveRecord>,
    /// The judge's accuracy on a dataset's synthetic pairs, for its `::synthetic` test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synthetic: Option<Box<SyntheticRecord>>,
    /// The evaluation steps each judge generated, when the eval has `steps = "auto"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepsRecord>,
    /// Every sample, in order; empty when the eval could not be scored.
    pub samples: Vec<SampleRecord>,
}

/// Where an eval's judge, threshold and samples came from, by setting, in key order: a map in the
/// JSON report. Held as a short list (a `BTreeMap` node costs half a kilobyte, per eval).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Sources(Vec<(String, String)>);

impl Sources {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, String)> for Sources {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        let mut pairs: Vec<(String, String)> = pairs.into_iter().collect();
        pairs.sort();
        Self(pairs)
    }
}

impl Serialize for Sources {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(key, label)| (key, label)))
    }
}

impl<'de> Deserialize<'de> for Sources {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, String>::deserialize(deserializer)?;
        Ok(map.into_iter().collect())
    }
}

/// Evaluation steps one judge generated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StepsRecord {
    /// The judge, `provider:model`.
    pub judge: String,
    /// The steps, in order.
    pub steps: Vec<String>,
}

/// An eval whose every comparison is a tie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TiesRecord {
    /// The comparisons: one per sample and judge.
    pub comparisons: usize,
    /// Those whose two orders disagreed, each preferring the output in its own position.
    pub split: usize,
    /// Whether it fails the eval (`on_tie = "fail"`).
    pub fails: bool,
}

/// The sample on which an ensemble's judges were furthest apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DisagreementRecord {
    /// The sample, from 1.
    pub sample: usize,
    /// Its highest judge's score minus its lowest (0..=1).
    pub spread: f64,
    /// The eval's `max_spread`, if set.
    pub max_spread: Option<f64>,
    /// Whether the spread is above `max_spread`.
    pub flagged: bool,
    /// Whether a flagged spread fails the eval (`on_disagreement = "fail"`).
    #[serde(default)]
    pub fails: bool,
}

/// One criterion of an eval, over its samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CriterionRecord {
    /// The criterion's name.
    pub name: String,
    /// Its reduced score (0..=1).
    pub score: f64,
    /// Its weight in the eval's score.
    pub weight: f64,
    /// Its own threshold, if it has one.
    pub threshold: Option<f64>,
    /// Whether it reaches its threshold (true without one).
    pub passed: bool,
}

/// The statistics of an eval's sample scores, all on 0..=1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub std_dev: f64,
    /// The fraction dropped at each end by the trimmed mean.
    pub trim: f64,
    /// How the scores were reduced: `trimmed_mean`, `median`, `at_least(3)`, ...
    pub reduce: String,
}

/// One sample: its output and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SampleRecord {
    /// The score on 0..=1.
    pub score: f64,
    /// The score as the judge gave it, on `scale`.
    pub raw_score: f64,
    pub scale: Scale,
    pub method: ScoreMethod,
    /// Whether the trimmed mean dropped this sample.
    pub trimmed: bool,
    pub rationale: String,
    /// The rubric level the judge named, when the eval has levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Each criterion's score (on `scale`) and reasons, when the eval has criteria.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<crate::judge::techniques::verdict::CriterionVerdict>,
    /// Both orders of the comparison, when the eval has a baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<crate::judge::techniques::verdict::Comparison>,
    /// The first [`OUTPUT_EXCERPT_CHARS`] characters of the baseline the output was compared with,
    /// when the eval has one (`baseline = ...`; the eval's `baseline` is the score baseline's delta).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared_with: Option<String>,
    /// The full length in characters of what the output was compared with, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared_chars: Option<usize>,
    /// Each judge's score (0..=1) and reasons, when an ensemble judged the sample.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub panel: Vec<crate::judge::techniques::verdict::PanelVerdict>,
    /// The output's first [`OUTPUT_EXCERPT_CHARS`] characters.
    pub output: String,
    /// The output's full length in characters.
    pub output_chars: usize,
    /// Where the verdict came from.
    pub source: VerdictSource,
    pub usage: Usage,
    /// How long getting the verdict took (near zero when cached).
    pub latency_ms: u64,
}

impl SampleRecord {
    fn of(sample: &SampleResult, trimmed: bool) -> Self {
        let output: String = sample.output.chars().take(OUTPUT_EXCERPT_CHARS).collect();
        Self {
            score: sample.verdict.normalized(),
            raw_score: sample.verdict.score,
            scale: sample.verdict.scale,
            method: sample.verdict.method,
            trimmed,
            rationale: sample.verdict.rationale.clone(),
            level: sample.verdict.level.clone(),
            criteria: sample.verdict.criteria.clone(),
            comparison: sample.verdict.comparison,
            compared_with: sample.compared_with.as_ref().map(|b| b.chars().take(OUTPUT_EXCERPT_CHARS).collect()),
            compared_chars: sample.compared_with.as_ref().map(|b| b.chars().count()),
            panel: sample.verdict.panel.clone(),
            output_chars: sample.output.chars().count(),
            output,
            source: sample.source,
            usage: sample.verdict.usage,
            latency_ms: millis(sample.latency),
        }
    }
}

impl EvalRecord {
    /// The record of a scored eval; `failure` is why it failed and its message, when it did.
    pub fn scored(
        outcome: &EvalOutcome,
        failure: Option<(FailureKind, String)>,
        baseline: Option<BaselineDelta>,
        duration: Duration,
    ) -> Self {
        let EvalOutcome {
            eval,
            settings,
            samples,
            summary,
            criteria,
            disagreement,
            all_ties,
            cost,
            steps,
            probes,
            adaptive,
        } = outcome;
        let mut usage = Usage::default();
        for sample in samples {
            usage += sample.verdict.usage;
        }
        for (_, generated) in steps {
            usage += generated.usage;
        }
        let status = if failure.is_some() { Status::Failed } else { Status::Passed };
        let (failure, message) = failure.unzip();
        Self {
            name: eval.name.clone(),
            file: eval.file.clone(),
            line: eval.line,
            dataset: eval.dataset.clone().map(Box::new),
            rubric: eval.rubric.clone(),
            judge: Some(settings.judge_label()),
            threshold: Some(settings.threshold),
            sources: settings.sources.labels().into_iter().map(|(key, label)| (key.to_owned(), label)).collect(),
            status,
            score: Some(summary.score),
            stats: Some(Stats {
                median: summary.median,
                min: summary.min,
                max: summary.max,
                std_dev: summary.std_dev,
                trim: settings.reduce.trim,
                reduce: settings.reduce.name(),
            }),
            message,
            failure,
            baseline,
            usage,
            duration_ms: millis(duration),
            snapshot: None,
            steps: steps
                .iter()
                .map(|(judge, generated)| StepsRecord { judge: judge.clone(), steps: generated.steps.clone() })
                .collect(),
            disagreement: disagreement.map(|d| DisagreementRecord {
                sample: d.sample + 1,
                spread: d.spread,
                max_spread: settings.max_spread,
                flagged: d.flagged,
                fails: settings.fail_on_disagreement,
            }),
            cost: *cost,
            probes: probes.clone(),
            adaptive: *adaptive,
            synthetic: None,
            all_ties: all_ties.map(|t| TiesRecord {
                comparisons: t.comparisons,
                split: t.split,
                fails: settings.values.on_tie == judge_rules::words::OnTie::Fail,
            }),
            criteria: criteria
                .iter()
                .map(|c| CriterionRecord {
                    name: c.name.clone(),
                    score: c.summary.score,
                    weight: c.weight,
                    threshold: c.threshold,
                    passed: c.passes(),
                })
                .collect(),
            samples: samples.iter().zip(&summary.trimmed).map(|(s, trimmed)| SampleRecord::of(s, *trimmed)).collect(),
        }
    }

    /// What a dataset's summary reads of this eval, if it judged a row.
    pub fn dataset_row(&self) -> Option<RowResult<'_>> {
        Some(RowResult {
            row: self.dataset.as_deref()?,
            status: self.status,
            score: self.score,
            scale: self.samples.first().map(|s| s.scale),
            probes: self.probes.as_ref(),
            comparisons: self
                .samples
                .iter()
                .filter_map(|s| Some((s.output_chars as f64 - s.compared_chars? as f64, s.score)))
                .collect(),
        })
    }

    /// The sample whose score is the median of the kept ones (the lower middle for an even
    /// count): the one whose rationale stands for the eval.
    pub fn median_sample(&self) -> Option<&SampleRecord> {
        crate::outcome::median_kept(self.samples.iter().map(|s| (s.score, s.trimmed))).map(|i| &self.samples[i])
    }

    /// The record of an eval that could not be scored.
    /// The judge and threshold are known when the eval's settings resolved.
    pub fn error(
        eval: &EvalIdentity,
        settings: Option<&crate::settings::EvalSettings>,
        message: String,
        duration: Duration,
    ) -> Self {
        Self {
            name: eval.name.clone(),
            file: eval.file.clone(),
            line: eval.line,
            dataset: eval.dataset.clone().map(Box::new),
            rubric: eval.rubric.clone(),
            judge: settings.map(crate::settings::EvalSettings::judge_label),
            threshold: settings.map(|s| s.threshold),
            sources: settings
                .map(|s| s.sources.labels().into_iter().map(|(key, label)| (key.to_owned(), label)).collect())
                .unwrap_or_default(),
            status: Status::Error,
            score: None,
            stats: None,
            message: Some(message),
            failure: None,
            baseline: None,
            usage: Usage::default(),
            duration_ms: millis(duration),
            snapshot: None,
            criteria: Vec::new(),
            disagreement: None,
            cost: None,
            all_ties: None,
            probes: None,
            adaptive: None,
            synthetic: None,
            steps: Vec::new(),
            samples: Vec::new(),
        }
    }
}

/// Each dataset of `evals` summed up over its rows. A gated dataset's gate is its test's outcome,
/// when that test's record is among them (it also holds the calibration gates, which the rows
/// alone cannot tell); else the pass-rate rule. A dataset's synthetic validation is its
/// `::synthetic` test's, and makes the dataset's entry when none of its rows ran.
pub(crate) fn datasets_of(evals: &[EvalRecord]) -> Vec<DatasetRecord> {
    let mut datasets = summarize(evals.iter().filter_map(EvalRecord::dataset_row));
    for dataset in datasets.iter_mut().filter(|d| d.gate.is_some()) {
        if let Some(test) = evals.iter().find(|e| e.dataset.is_none() && e.name == dataset.name) {
            dataset.gate = Some(test.status);
        }
    }
    for eval in evals.iter().filter(|e| e.dataset.is_none()) {
        let (Some(synthetic), Some(name)) = (&eval.synthetic, eval.name.strip_suffix("::synthetic")) else {
            continue;
        };
        match datasets.iter_mut().find(|d| d.name == name) {
            Some(dataset) => dataset.synthetic = Some((**synthetic).clone()),
            None => {
                let mut dataset = DatasetRecord::empty(name, &synthetic.file);
                dataset.synthetic = Some((**synthetic).clone());
                datasets.push(dataset);
            }
        }
    }
    datasets.sort_by(|a, b| a.name.cmp(&b.name));
    datasets
}

/// Krippendorff's alpha over every sample of `evals` that several judges scored.
pub(crate) fn agreement(evals: &[EvalRecord]) -> Option<Agreement> {
    let units: Vec<Vec<(String, f64)>> = evals
        .iter()
        .flat_map(|e| &e.samples)
        .map(|s| s.panel.iter().map(|p| (p.judge.clone(), p.score)).collect())
        .collect();
    crate::agreement::krippendorff_alpha(units.iter().map(Vec::as_slice))
}

impl RunRecord {
    /// An empty record of this process's run of `binary`, which started at `started`.
    pub fn new(binary: String, started: SystemTime) -> Self {
        let since_epoch = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        let (now, started) = (since_epoch(SystemTime::now()), since_epoch(started));
        let run_id = std::env::var("NEXTEST_RUN_ID")
            .ok()
            .filter(|id| !id.is_empty())
            .map(|id| format!("nextest-{id}"))
            .unwrap_or_else(|| format!("{}-{}", std::process::id(), now.as_nanos()));
        Self {
            format: FORMAT,
            run_id,
            binary,
            started_unix: started.as_secs(),
            started_unix_ms: millis(started),
            duration_ms: millis(now.saturating_sub(started)),
            agreement: None,
            datasets: Vec::new(),
            cost: None,
            evals: Vec::new(),
        }
    }

    /// Takes in `other`, a later process of the same run (under nextest): the run started with
    /// the earliest of them and lasts until now.
    pub fn extend_run(&mut self, other: &RunRecord) {
        let end = (self.started_unix_ms + self.duration_ms).max(other.started_unix_ms + other.duration_ms);
        if other.started_unix_ms != 0 && (self.started_unix_ms == 0 || other.started_unix_ms < self.started_unix_ms) {
            self.started_unix_ms = other.started_unix_ms;
            self.started_unix = other.started_unix;
        }
        self.duration_ms = end.saturating_sub(self.started_unix_ms);
    }

    /// Adds `evals`, replacing earlier records of the same names, and keeps them in name order.
    pub fn merge(&mut self, evals: impl IntoIterator<Item = EvalRecord>) {
        for eval in evals {
            match self.evals.binary_search_by(|e| e.name.as_str().cmp(&eval.name)) {
                Ok(i) => self.evals[i] = eval,
                Err(i) => self.evals.insert(i, eval),
            }
        }
        self.agreement = agreement(&self.evals);
        self.datasets = datasets_of(&self.evals);
        self.cost = self.total_cost();
    }

    /// The run's tests as libtest counts them (a gated dataset is one test, with a record of its
    /// own): passed, failed, not scored.
    pub fn test_counts(&self) -> (usize, usize, usize) {
        crate::report::datasets::test_counts(self.evals.iter().map(|e| (e.dataset.as_deref(), e.status)))
    }

    /// Counts of passed, failed and errored evals.
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |status| self.evals.iter().filter(|e| e.status == status).count();
        (count(Status::Passed), count(Status::Failed), count(Status::Error))
    }

    /// What the run's calls cost, by judge.toml's `prices`, when any eval's judges are priced.
    pub fn total_cost(&self) -> Option<f64> {
        let costs: Vec<f64> = self.evals.iter().filter_map(|e| e.cost).collect();
        (!costs.is_empty()).then(|| costs.iter().sum())
    }

    /// Tokens over every eval.
    pub fn usage(&self) -> Usage {
        let mut usage = Usage::default();
        for eval in &self.evals {
            usage += eval.usage;
        }
        usage
    }
}

/// The evals recorded by this process's trials, gathered as they finish.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    evals: Mutex<Vec<EvalRecord>>,
}

impl Recorder {
    /// Records a finished eval.
    pub fn add(&self, eval: EvalRecord) {
        self.evals.lock().unwrap_or_else(|e| e.into_inner()).push(eval);
    }

    /// Every record so far, leaving the recorder empty.
    pub fn take(&self) -> Vec<EvalRecord> {
        std::mem::take(&mut *self.evals.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_of_one_run_extend_it_from_the_earliest_start_to_the_latest_end() {
        let mut first = RunRecord::new("evals".to_owned(), SystemTime::now());
        (first.started_unix_ms, first.duration_ms) = (10_000, 1_000);
        let mut second = first.clone();
        (second.started_unix_ms, second.duration_ms) = (9_000, 500);
        first.extend_run(&second);
        assert_eq!((first.started_unix_ms, first.duration_ms), (9_000, 2_000));
        let mut later = first.clone();
        (later.started_unix_ms, later.duration_ms) = (12_000, 3_000);
        first.extend_run(&later);
        assert_eq!((first.started_unix_ms, first.duration_ms), (9_000, 6_000));
    }

    #[test]
    fn names_are_the_json_reports() {
        for status in [Status::Passed, Status::Failed, Status::Error] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        for source in [VerdictSource::Judged, VerdictSource::Cached, VerdictSource::Shared] {
            assert_eq!(serde_json::to_value(source).unwrap(), source.as_str());
        }
    }
}
