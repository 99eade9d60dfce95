//! One eval, run: call the function `samples` times, judge each output (cache first), reduce the
//! scores, compare with the threshold and the score baseline, assert the verdict's snapshot. Samples are generated and judged concurrently; each output
//! is judged as soon as it exists.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::try_join_all;

use crate::aggregate::Summary;
use crate::error::{CacheError, ConfigError, JudgeError, panic_message};
use crate::harness::context::{Judged, RunContext, Source};
use crate::harness::registry::{BaselineOutput, EvalCase, OutputFn};
use crate::judge::criteria::CriterionSummary;
use crate::judge::pairwise::{self, Order};
use crate::judge::prompt::{self, JudgeRequest, Task};
use crate::judge::verdict::{Scale, Verdict};
use crate::report::record::{EvalRecord, Status};
use crate::report::terminal;
use crate::settings::EvalSettings;
use crate::snapshot::{Snapshot, SnapshotMode, SnapshotState};

/// One output and its verdict.
#[derive(Debug, Clone)]
pub(crate) struct SampleResult {
    pub output: String,
    /// The output's length in characters when it was too long and the judge saw only its start.
    pub truncated_from: Option<usize>,
    /// What the output was compared with, when the eval has a baseline.
    pub baseline: Option<String>,
    pub verdict: Verdict,
    pub source: Source,
    /// How long getting the verdict took: cache lookup, judge call and retries.
    pub latency: Duration,
}

/// A finished eval, passed or not.
#[derive(Debug, Clone)]
pub(crate) struct EvalOutcome {
    pub case: &'static EvalCase,
    pub settings: EvalSettings,
    pub samples: Vec<SampleResult>,
    pub summary: Summary,
    /// Each criterion reduced over the samples, when the eval has criteria.
    pub criteria: Vec<CriterionSummary>,
}

impl EvalOutcome {
    /// The score reaches the threshold, and every criterion its own.
    pub fn passed(&self) -> bool {
        self.summary.passes(self.settings.threshold) && self.criteria.iter().all(CriterionSummary::passes)
    }
}

/// Why an eval could not be scored. Sample numbers count from 1, as the report shows them.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EvalFailure {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("sample {}: the eval function failed, so its output was not judged:\n{message}", sample + 1)]
    Output { sample: usize, message: String },
    #[error("sample {}: the baseline function failed, so the output was not compared:\n{message}", sample + 1)]
    Baseline { sample: usize, message: String },
    #[error("sample {}: {error}", sample + 1)]
    Judge { sample: usize, error: JudgeError },
    #[error("sample {}: {error}", sample + 1)]
    Cache { sample: usize, error: CacheError },
    #[error(
        "the eval did not finish within its deadline of {} s (the `deadline` setting, JUDGE_DEADLINE): \
         a judge or the eval function is too slow; samples still running were stopped",
        deadline.as_secs_f64()
    )]
    Deadline { deadline: std::time::Duration },
}

/// Runs `case` to an outcome. The first failing sample ends the eval; the others are dropped.
pub(crate) async fn run_eval(
    ctx: &RunContext,
    case: &'static EvalCase,
    settings: EvalSettings,
) -> Result<EvalOutcome, EvalFailure> {
    let judge = ctx.judge(&settings.judge)?;
    let task = Task::borrowed(case.rubric, case.input, case.expected)
        .with_levels(settings.levels.clone())
        .with_criteria(settings.criteria.clone());
    // Identical requests within the eval get occurrence numbers 0, 1, 2, … in the order they are
    // ready; since they are identical, that order cannot change which verdicts they map to.
    let occurrences: Mutex<HashMap<String, u32>> = Mutex::new(HashMap::new());

    let samples = (0..settings.samples as usize).map(|sample| {
        let (judge, occurrences, task, settings) = (&judge, &occurrences, task.clone(), &settings);
        async move {
            let (output, baseline) = futures::future::join(generate(case.output), baseline_output(case)).await;
            let output = output.map_err(|message| EvalFailure::Output { sample, message })?;
            let baseline = baseline.map_err(|message| EvalFailure::Baseline { sample, message })?;
            let judge_one = |request| judge_request(ctx, judge, settings, occurrences, request, sample);
            let max_chars = ctx.run.max_output_chars;
            let start = Instant::now();
            let (verdict, source, truncated_from) = match &baseline {
                None => {
                    let request = prompt::render(task, &output, Scale::default(), max_chars);
                    let truncated_from = request.truncated_from;
                    let judged = judge_one(request).await?;
                    (judged.verdict, judged.source, truncated_from)
                }
                // Asked in both orders, at once; disagreeing orders make a tie.
                Some(baseline) => {
                    let first = pairwise::render(task.clone(), &output, baseline, Order::OutputFirst, max_chars);
                    let truncated_from = first.truncated_from;
                    let second = pairwise::render(task, &output, baseline, Order::BaselineFirst, max_chars);
                    let (first, second) = futures::future::try_join(judge_one(first), judge_one(second)).await?;
                    let source = [first.source, second.source]
                        .into_iter()
                        .min_by_key(|s| match s {
                            Source::Judged => 0,
                            Source::Cached => 1,
                            Source::Coalesced => 2,
                        })
                        .expect("two sources");
                    (pairwise::combine(first.verdict, second.verdict), source, truncated_from)
                }
            };
            Ok::<_, EvalFailure>(SampleResult {
                output,
                truncated_from,
                baseline,
                verdict,
                source,
                latency: start.elapsed(),
            })
        }
    });
    let samples = match tokio::time::timeout(ctx.run.deadline, try_join_all(samples)).await {
        Ok(samples) => samples?,
        Err(_) => return Err(EvalFailure::Deadline { deadline: ctx.run.deadline }),
    };
    let scores: Vec<f64> = samples.iter().map(|s| s.verdict.normalized()).collect();
    let mut summary = settings.reduce.summarize(&scores);
    // With criteria, each is reduced on its own, and the eval's score is their weighted mean.
    let criteria = match &settings.criteria {
        Some(criteria) => {
            let summaries = criteria.summarize(samples.iter().map(|s| &s.verdict), settings.reduce);
            summary.score = criteria.weighted_mean(summaries.iter().map(|c| c.summary.score));
            summaries
        }
        None => Vec::new(),
    };
    Ok(EvalOutcome { case, settings, samples, summary, criteria })
}

/// The verdict on `request`, through the cache. Identical requests within the eval get
/// occurrence numbers 0, 1, 2, … (in `occurrences`), so that each has its own cached verdict.
async fn judge_request(
    ctx: &RunContext,
    judge: &crate::judge::Judge,
    settings: &EvalSettings,
    occurrences: &Mutex<HashMap<String, u32>>,
    request: JudgeRequest,
    sample: usize,
) -> Result<Judged, EvalFailure> {
    let first = ctx.cache_key(judge, settings, &request, 0);
    let occurrence = {
        let mut seen = occurrences.lock().unwrap_or_else(|e| e.into_inner());
        let count = seen.entry(first.as_str().to_owned()).or_insert(0);
        *count += 1;
        *count - 1
    };
    let key = if occurrence == 0 { first } else { ctx.cache_key(judge, settings, &request, occurrence) };
    ctx.verdict(judge, settings, &key, &request, sample).await
}

/// The baseline a sample's output is compared with, if the eval has one: its text, or its
/// function's output (called once per sample).
async fn baseline_output(case: &EvalCase) -> Result<Option<String>, String> {
    match case.baseline {
        None => Ok(None),
        Some(BaselineOutput::Text(text)) => Ok(Some(text.to_owned())),
        Some(BaselineOutput::Function(f)) => generate(f).await.map(Some),
    }
}

/// Runs one eval to its record and its test result: a failure below the threshold, past the
/// baseline's margin, or (in strict mode) with a changed snapshot carries the judge's reasons.
pub(crate) fn judge_eval(
    ctx: &RunContext,
    runtime: &tokio::runtime::Runtime,
    case: &'static EvalCase,
) -> (EvalRecord, Result<(), libtest_mimic::Failed>) {
    let start = Instant::now();
    let failed = |error: EvalFailure, settings: Option<&EvalSettings>| {
        let message = terminal::eval_failure(&error);
        (EvalRecord::error(case, settings, message.clone(), start.elapsed()), Err(message.into()))
    };
    let settings = match ctx.settings.eval(&case.full_name(), case.attribute_settings()) {
        Ok(settings) => settings,
        Err(error) => return failed(error.into(), None),
    };
    let outcome = match runtime.block_on(run_eval(ctx, case, settings.clone())) {
        Ok(outcome) => outcome,
        Err(error) => return failed(error, Some(&settings)),
    };
    let (max_drop, score) = (ctx.baselines.max_drop, outcome.summary.score);
    let baseline = ctx.baselines.compare.as_ref().and_then(|b| b.compare(&case.full_name(), score, max_drop));
    let mut failure = (!outcome.passed() || baseline.is_some_and(|b| b.regressed))
        .then(|| terminal::failed(&outcome, baseline, max_drop, ctx.run.rationales, ctx.run.max_output_chars));
    let status = if failure.is_some() { Status::Failed } else { Status::Passed };
    let mut record = EvalRecord::scored(&outcome, status, failure.clone(), baseline, start.elapsed());
    let snapshot = || Snapshot::of(&record, case.name, case.input, case.expected);
    match outcome.settings.snapshot {
        SnapshotMode::Off => {}
        // Asserted after the run, one at a time: insta prints its diffs, which would otherwise
        // interleave with libtest's lines.
        SnapshotMode::On => ctx.recorder.defer_snapshot(record.name.clone(), snapshot(), case.snapshot_hook),
        SnapshotMode::Strict => {
            let (state, problem) = match snapshot().assert(case.snapshot_hook) {
                Ok(SnapshotState::Changed) => (SnapshotState::Changed, Some(terminal::snapshot_changed(case.name))),
                Ok(state) => (state, None),
                Err(error) => (SnapshotState::Error, Some(error)),
            };
            record.snapshot = Some(state);
            if let Some(changed) = problem {
                failure = Some(failure.map_or(changed.clone(), |f| format!("{f}\n{changed}")));
                record.status = Status::Failed;
                record.message.clone_from(&failure);
            }
        }
    }
    let result = match failure {
        Some(message) => Err(message.into()),
        None => Ok(()),
    };
    (record, result)
}

/// Calls the eval function once. A plain function runs on the blocking pool, off the async workers;
/// a panic is reported as the sample's failure.
async fn generate(output: OutputFn) -> Result<String, String> {
    match output {
        OutputFn::Sync(f) => match tokio::task::spawn_blocking(f).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(panic_message(e.into_panic())),
            Err(e) => Err(format!("the eval function was cancelled: {e}")),
        },
        OutputFn::Async(f) => match AssertUnwindSafe(async move { f().await }).catch_unwind().await {
            Ok(result) => result,
            Err(payload) => Err(panic_message(payload)),
        },
    }
}
