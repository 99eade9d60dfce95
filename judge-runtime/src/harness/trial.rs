//! One eval, run: call the function `samples` times, judge each output (cache first), reduce the
//! scores, compare with the threshold and the score baseline, assert the verdict's snapshot.
//! Samples are generated and judged concurrently; each output is judged as soon as it exists.
//! The eval's outcome is handed to the reports as a record.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures::FutureExt;

use crate::adaptive::{self, AdaptiveRecord};
use crate::error::panic_message;
use crate::harness::context::RunContext;
use crate::harness::eval::Eval;
use crate::harness::panel::Seated;
use crate::harness::registry::{CompareWith, OutputFn};
use crate::judge::techniques::ensemble;
use crate::judge::techniques::prompt;
use crate::outcome::{AllTies, Disagreement, EvalFailure, EvalIdentity, EvalOutcome, FailureKind, SampleResult};
use crate::probes::{self, Probes};
use crate::report::message;
use crate::report::printer;
use crate::report::record::{EvalRecord, Status};
use crate::settings::EvalSettings;
use crate::snapshot::{Snapshot, SnapshotMode, SnapshotState};
use judge_rules::words::Probe;

/// Runs `eval` to an outcome. A failing sample fails the eval: the samples not yet judged are then
/// not judged, but the judge calls already sent finish and their verdicts are cached (they are
/// paid for; a rerun, or a run with a larger budget, finds them). The failure reported is that of
/// the lowest failing sample.
pub(crate) async fn run_eval(
    ctx: &RunContext,
    eval: &Eval,
    identity: EvalIdentity,
    settings: EvalSettings,
) -> Result<EvalOutcome, EvalFailure> {
    let seated = Seated::new(ctx, &identity, &settings).await?;
    let values = &settings.values;
    let wanted = probes::wanted(&values.probes, values.max_position_bias, values.max_verbosity_bias);
    let panel = seated.panel(&settings, &wanted);
    let failed = AtomicBool::new(false);
    // One sample, generated and judged.
    let draw = |sample: usize| {
        let (panel, failed) = (&panel, &failed);
        async move {
            let result = async {
                let (output, compared_with) =
                    futures::future::join(generate(eval, eval.case.output), compare_with(eval, panel.settings)).await;
                let output = output?.map_err(|message| EvalFailure::Output { sample, message })?;
                let compared_with = compared_with?.map_err(|message| EvalFailure::CompareWith { sample, message })?;
                if failed.load(Ordering::Relaxed) {
                    // Another sample failed the eval: judging this one would be paid for nothing.
                    return Ok(None);
                }
                let max_chars = ctx.run.values.max_output_chars;
                let truncated_from = prompt::shown_part(&output, max_chars).1;
                let start = Instant::now();
                let compared = compared_with.as_deref();
                let (verdict, probes) = futures::future::join(
                    panel.verdict(ctx, &output, compared, sample),
                    panel.probe(ctx, &output, compared, sample),
                )
                .await;
                let ((verdict, source), mut probes) = (verdict?, probes?);
                let latency = start.elapsed();
                if panel.probes.contains(&Probe::Position) && compared.is_some() {
                    // The comparison already judged both orders: the probe reads it.
                    probes.position = verdict.comparisons();
                }
                if let Some((plain, _)) = probes.verbosity.as_mut() {
                    *plain = verdict.normalized();
                }
                Ok::<_, EvalFailure>(Some(SampleResult {
                    output,
                    truncated_from,
                    compared_with,
                    verdict,
                    source,
                    probes,
                    latency,
                }))
            }
            .await;
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            result
        }
    };
    let judged = async {
        let Some(bounds) = settings.adaptive else {
            return Ok::<_, EvalFailure>((every_sample((0..settings.samples as usize).map(draw)).await?, None));
        };
        // Adaptive: `min_samples` at once, then one at a time until the interval decides.
        let mut judged = every_sample((0..bounds.min as usize).map(draw)).await?;
        loop {
            let scores: Vec<f64> = judged.iter().map(|s| s.verdict.normalized()).collect();
            let interval = adaptive::interval(&scores, &settings.reduce);
            let decided = adaptive::decided(interval, settings.threshold).is_some();
            if decided || judged.len() >= bounds.max as usize {
                let record = AdaptiveRecord::new(judged.len(), bounds.min, bounds.max, interval, decided);
                return Ok((judged, Some(record)));
            }
            judged.extend(every_sample([draw(judged.len())]).await?);
        }
    };
    let (samples, adaptive) = match tokio::time::timeout(ctx.run.values.deadline, judged).await {
        Ok(judged) => judged?,
        Err(_) => return Err(EvalFailure::Deadline { deadline: ctx.run.values.deadline }),
    };
    let scores: Vec<f64> = samples.iter().map(|s| s.verdict.normalized()).collect();
    let mut summary = settings.reduce.summarize(&scores);
    // With criteria, each is reduced on its own (for its threshold). A central reducer's score is
    // the weighted mean of the criteria's; a reducer that asks about single samples (min,
    // at_least, pass_all) keeps deciding on the samples' weighted scores.
    let criteria = match &settings.criteria {
        Some(criteria) => {
            let summaries = criteria.summarize(samples.iter().map(|s| &s.verdict), settings.reduce);
            if !settings.reduce.judges_each_sample() {
                summary.score = criteria.weighted_mean(summaries.iter().map(|c| c.summary.score));
            }
            summaries
        }
        None => Vec::new(),
    };
    let disagreement = (settings.panel.len() > 1)
        .then(|| {
            let spreads = samples.iter().map(|s| ensemble::spread(&s.verdict.panel)).enumerate();
            spreads.max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        })
        .flatten()
        .map(|(sample, spread)| Disagreement {
            sample,
            spread,
            flagged: settings.max_spread.is_some_and(|max| spread > max + 1e-9),
        });
    let all_ties = AllTies::of(samples.iter().map(|s| &s.verdict));
    // Known when every judge of the eval is priced.
    let priced = settings.panel.iter().all(|spec| ctx.price(spec).is_some());
    let cost = priced.then(|| seated.spent());
    let probes = Probes::of(
        samples.iter().map(|s| &s.probes),
        &wanted,
        settings.values.max_position_bias,
        settings.values.max_verbosity_bias,
    );
    Ok(EvalOutcome {
        eval: identity,
        settings,
        samples,
        summary,
        criteria,
        disagreement,
        all_ties,
        cost,
        steps: seated.steps,
        probes,
        adaptive,
    })
}

/// The text a sample's output is compared with (`compare_with`), if the eval has one: a row's
/// own, the attribute's text or function's output (called once per sample), else the text of the
/// eval's judge.toml section. The inner `Err` is the function's failure.
async fn compare_with(eval: &Eval, settings: &EvalSettings) -> Result<Result<Option<String>, String>, EvalFailure> {
    if let Some(text) = eval.row_compare_with() {
        return Ok(Ok(Some(text.to_owned())));
    }
    match eval.case.compare_with {
        None => Ok(Ok(settings.compare_with.clone())),
        Some(CompareWith::Text(text)) => Ok(Ok(Some(text.to_owned()))),
        Some(CompareWith::Function(f)) => Ok(generate(eval, f).await?.map(Some)),
    }
}

/// Runs one eval to its record and its test result: a failure below the threshold, past the
/// baseline's margin, or (in strict mode) with a changed snapshot carries the judge's reasons.
pub(crate) async fn judge_eval(ctx: &RunContext, eval: &Eval) -> (EvalRecord, Result<(), libtest_mimic::Failed>) {
    let start = Instant::now();
    let failed = |identity: &EvalIdentity, error: EvalFailure, settings: Option<&EvalSettings>| {
        let message = message::eval_failure(&error);
        (EvalRecord::error(identity, settings, message.clone(), start.elapsed()), Err(message.into()))
    };
    let (identity, unfilled) = eval.identity();
    if let Some(error) = unfilled {
        return failed(&identity, error.into(), None);
    }
    let settings = match eval.settings(&ctx.settings) {
        Ok(settings) => settings,
        Err(error) => return failed(&identity, error.into(), None),
    };
    if let Some(error) = eval.label_off_scale(&settings) {
        return failed(&identity, error.into(), Some(&settings));
    }
    let outcome = match run_eval(ctx, eval, identity.clone(), settings.clone()).await {
        Ok(outcome) => outcome,
        Err(error) => return failed(&identity, error, Some(&settings)),
    };
    let (max_drop, score) = (ctx.baselines.max_drop, outcome.summary.score);
    let baseline = ctx.baselines.compare.as_ref().and_then(|b| b.compare(&outcome.eval.name, score, max_drop));
    let failure = outcome.failure_kind(baseline.is_some_and(|b| b.regressed)).map(|kind| {
        (
            kind,
            message::failed(&outcome, baseline, max_drop, ctx.run.values.rationales, ctx.run.values.max_output_chars),
        )
    });
    if failure.is_none() {
        // A dataset's rows have theirs pooled in the dataset's line, after the run.
        let probes = outcome.probes.as_ref().filter(|_| outcome.eval.dataset.is_none()).map(Probes::summary_line);
        for text in
            [message::disagreement_flagged(&outcome), message::ties_noted(&outcome), probes].into_iter().flatten()
        {
            printer::notice(&format!("{}: {text}", outcome.eval.name));
        }
    }
    let passed = failure.is_none();
    let mut record = EvalRecord::scored(&outcome, failure, baseline, start.elapsed());
    match outcome.settings.values.snapshot {
        SnapshotMode::Off => {}
        // Asserted after the run, one at a time: insta prints its diffs, which would otherwise
        // interleave with libtest's lines.
        SnapshotMode::On => {
            ctx.snapshots.defer(record.name.clone(), Snapshot::of(&outcome, passed), eval.case.snapshot_hook);
        }
        SnapshotMode::Strict => {
            let (state, problem) = match Snapshot::of(&outcome, passed).assert(eval.case.snapshot_hook) {
                Ok(SnapshotState::Changed) => {
                    (SnapshotState::Changed, Some(message::snapshot_changed(&outcome.eval.short_name)))
                }
                Ok(state) => (state, None),
                Err(error) => (SnapshotState::Error, Some(error)),
            };
            record.snapshot = Some(state);
            if let Some(changed) = problem {
                record.message = Some(record.message.take().map_or(changed.clone(), |f| format!("{f}\n{changed}")));
                record.failure = record.failure.or(Some(FailureKind::SnapshotChanged));
                record.status = Status::Failed;
            }
        }
    }
    let result = match (record.status, &record.message) {
        (Status::Failed, Some(message)) => Err(message.clone().into()),
        _ => Ok(()),
    };
    (record, result)
}

/// Runs every sample to its end: their results in order, or the failure of the lowest failing
/// sample. A sample left unjudged because another failed (`None`) is no failure of its own.
async fn every_sample(
    samples: impl IntoIterator<Item = impl Future<Output = Result<Option<SampleResult>, EvalFailure>>>,
) -> Result<Vec<SampleResult>, EvalFailure> {
    let mut judged = Vec::new();
    for result in futures::future::join_all(samples).await {
        if let Some(sample) = result? {
            judged.push(sample);
        }
    }
    Ok(judged)
}

/// Calls the eval function once, with the eval's row if it has one. A plain function runs on the
/// blocking pool, off the async workers; a panic is reported as the sample's failure (the inner
/// `Err`). The outer `Err`: the row cannot be read as the function's parameter.
pub(crate) async fn generate(eval: &Eval, output: OutputFn) -> Result<Result<String, String>, EvalFailure> {
    let blocking = |result: Result<Result<String, String>, tokio::task::JoinError>| match result {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(panic_message(e.into_panic())),
        Err(e) => Err(format!("the eval function was cancelled: {e}")),
    };
    let polled = |future: crate::harness::registry::OutputFuture| async move {
        match AssertUnwindSafe(future).catch_unwind().await {
            Ok(result) => result,
            Err(payload) => Err(panic_message(payload)),
        }
    };
    let row = || eval.row.as_ref().expect("a function that takes a row is registered with a dataset");
    Ok(match output {
        OutputFn::Sync(f) => blocking(tokio::task::spawn_blocking(f).await),
        OutputFn::Async(f) => match AssertUnwindSafe(async move { f().await }).catch_unwind().await {
            Ok(result) => result,
            Err(payload) => Err(panic_message(payload)),
        },
        OutputFn::SyncRow(f) => {
            let row = row();
            let shared = std::sync::Arc::clone(&row.row);
            match tokio::task::spawn_blocking(move || f(&shared)).await {
                Ok(Err(unreadable)) => return Err(row.error(unreadable).into()),
                Ok(Ok(result)) => result,
                Err(e) => blocking(Err(e)),
            }
        }
        OutputFn::AsyncRow(f) => {
            let row = row();
            match std::panic::catch_unwind(AssertUnwindSafe(|| f(&row.row))) {
                Ok(Ok(future)) => polled(future).await,
                Ok(Err(unreadable)) => return Err(row.error(unreadable).into()),
                Err(payload) => Err(panic_message(payload)),
            }
        }
    })
}
