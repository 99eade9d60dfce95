//! One eval, run: call the function `samples` times, judge each output (cache first), reduce the
//! scores, compare with the threshold and the score baseline, assert the verdict's snapshot.
//! Samples are generated and judged concurrently; each output is judged as soon as it exists.
//! The eval's outcome is handed to the reports as a record.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures::FutureExt;
use futures::future::try_join_all;

use crate::adaptive::{self, AdaptiveRecord};
use crate::error::panic_message;
use crate::harness::context::{Judged, RunContext};
use crate::harness::eval::Eval;
use crate::harness::registry::{CompareWith, OutputFn};
use crate::judge::Judge;
use crate::judge::techniques::ensemble;
use crate::judge::techniques::pairwise::{self, Order};
use crate::judge::techniques::prompt::{self, JudgeRequest, Task};
use crate::judge::techniques::verdict::{Scale, Verdict};
use crate::outcome::{
    AllTies, Disagreement, EvalFailure, EvalIdentity, EvalOutcome, FailureKind, SampleResult, VerdictSource,
};
use crate::probes::{self, Probes, SampleProbes};
use crate::report::message;
use crate::report::printer;
use crate::report::record::{EvalRecord, Status};
use crate::settings::EvalSettings;
use crate::settings::steps::Steps;
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
    let mut judges = Vec::with_capacity(settings.panel.len());
    for spec in &settings.panel {
        judges.push(ctx.judge(spec).await?);
    }
    let names: Vec<String> = settings.panel.iter().map(ToString::to_string).collect();
    let task = Task::owned(identity.rubric.clone(), identity.input.clone(), identity.expected.clone())
        .with_levels(settings.levels.clone())
        .with_criteria(settings.criteria.clone());
    // G-Eval's steps: given, the same for every judge; "auto", each judge writes its own, once.
    let (tasks, steps) = match &settings.steps {
        None => (vec![task; judges.len()], Vec::new()),
        Some(Steps::Given(steps)) => (vec![task.with_steps(Some(steps.clone())); judges.len()], Vec::new()),
        Some(Steps::Auto) => {
            let generated = try_join_all(judges.iter().map(|judge| ctx.steps(judge, &settings, &task))).await?;
            let tasks = generated.iter().map(|g| task.clone().with_steps(Some(g.steps.clone()))).collect();
            (tasks, names.iter().cloned().zip(generated).collect())
        }
    };
    // Identical requests within the eval get occurrence numbers 0, 1, 2, … in the order they are
    // ready; since they are identical, that order cannot change which verdicts they map to.
    let occurrences: Mutex<HashMap<String, u32>> = Mutex::new(HashMap::new());
    // What the verdicts judged for this eval cost, by judge.toml's prices.
    let spent = Mutex::new(0.0);

    let values = &settings.values;
    let wanted = probes::wanted(&values.probes, values.max_position_bias, values.max_verbosity_bias);
    let panel = Panel {
        probes: &wanted,
        judges: &judges,
        names: &names,
        tasks: &tasks,
        settings: &settings,
        occurrences: &occurrences,
        spent: &spent,
    };
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
    let cost = priced.then(|| *spent.lock().unwrap_or_else(|e| e.into_inner()));
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
        steps,
        probes,
        adaptive,
    })
}

/// The judges of one eval, each with its task (its own generated steps), and what they share.
struct Panel<'a> {
    /// The bias probes the eval runs.
    probes: &'a [Probe],
    judges: &'a [std::sync::Arc<Judge>],
    names: &'a [String],
    tasks: &'a [Task],
    settings: &'a EvalSettings,
    occurrences: &'a Mutex<HashMap<String, u32>>,
    spent: &'a Mutex<f64>,
}

impl Panel<'_> {
    /// A sample's verdict: every judge's at once, combined when there are several.
    async fn verdict(
        &self,
        ctx: &RunContext,
        output: &str,
        compared_with: Option<&str>,
        sample: usize,
    ) -> Result<(Verdict, VerdictSource), EvalFailure> {
        let by_judge = self
            .judges
            .iter()
            .zip(self.tasks)
            .map(|(judge, task)| self.one_judge(ctx, judge, task.clone(), output, compared_with, sample));
        let mut verdicts = try_join_all(by_judge).await?;
        if verdicts.len() == 1 {
            return Ok(verdicts.pop().expect("one verdict"));
        }
        let settings = self.settings;
        let source = VerdictSource::merged(verdicts.iter().map(|(_, source)| *source));
        let verdicts = verdicts.into_iter().map(|(verdict, _)| verdict).collect();
        let criteria = settings.criteria.as_ref();
        let mut combined =
            ensemble::combine(self.names, verdicts, settings.values.combine, settings.threshold, criteria);
        combined.level = settings.levels.as_ref().map(|l| l.level_of(combined.score).label());
        Ok((combined, source))
    }

    /// The bias probes' own judge calls on a sample, beside its verdict: the output compared with
    /// itself in both orders (position, unless the eval compares already) and the output judged
    /// again with the padding (verbosity). The plain score and an eval's own comparisons are the
    /// caller's to fill in from the sample's verdict.
    async fn probe(
        &self,
        ctx: &RunContext,
        output: &str,
        compared_with: Option<&str>,
        sample: usize,
    ) -> Result<SampleProbes, EvalFailure> {
        let judges = self.judges.len() as u64;
        let position = async {
            if !self.probes.contains(&Probe::Position) || compared_with.is_some() {
                return Ok((Vec::new(), 0));
            }
            // The rubric alone: the comparison's own prompt has no levels or criteria.
            let by_judge = self.judges.iter().zip(self.tasks).map(|(judge, task)| {
                let task = task.clone().with_levels(None).with_criteria(None);
                self.one_judge(ctx, judge, task, output, Some(output), sample)
            });
            let verdicts = try_join_all(by_judge).await?;
            Ok::<_, EvalFailure>((verdicts.iter().flat_map(|(v, _)| v.comparisons()).collect(), 2 * judges))
        };
        let verbosity = async {
            if !self.probes.contains(&Probe::Verbosity) {
                return Ok((None, 0));
            }
            let (padded, _) = self.verdict(ctx, &probes::padded(output), compared_with, sample).await?;
            let calls = judges * if compared_with.is_some() { 2 } else { 1 };
            Ok::<_, EvalFailure>((Some((0.0, padded.normalized())), calls))
        };
        let ((position, position_calls), (verbosity, verbosity_calls)) =
            futures::future::try_join(position, verbosity).await?;
        Ok(SampleProbes { position, position_calls, verbosity, verbosity_calls })
    }

    /// One judge's verdict on a sample: graded, or compared with `compare_with` in both orders (at
    /// once; disagreeing orders make a tie).
    async fn one_judge(
        &self,
        ctx: &RunContext,
        judge: &Judge,
        task: Task,
        output: &str,
        compared_with: Option<&str>,
        sample: usize,
    ) -> Result<(Verdict, VerdictSource), EvalFailure> {
        let max_chars = ctx.run.values.max_output_chars;
        let judge_one = |request| async move {
            let judged = judge_request(ctx, judge, self.settings, self.occurrences, request, sample).await?;
            if let (VerdictSource::Judged, Some(price)) = (judged.source, ctx.price(judge.spec())) {
                let usage = judged.verdict.usage;
                *self.spent.lock().unwrap_or_else(|e| e.into_inner()) +=
                    price.cost(usage.prompt_tokens, usage.completion_tokens);
            }
            Ok::<_, EvalFailure>(judged)
        };
        match compared_with {
            None => {
                let criteria = task.criteria.clone();
                let mut judged = judge_one(prompt::render(task, output, Scale::default(), max_chars)).await?;
                // The weights are not in the request: a cached verdict is weighed anew.
                if let Some(criteria) = criteria {
                    judged.verdict.score = criteria.weighted_mean(judged.verdict.criteria.iter().map(|c| c.score));
                }
                Ok((judged.verdict, judged.source))
            }
            Some(other) => {
                let first = pairwise::render(task.clone(), output, other, Order::OutputFirst, max_chars);
                let second = pairwise::render(task, output, other, Order::ComparedFirst, max_chars);
                let (first, second) = futures::future::try_join(judge_one(first), judge_one(second)).await?;
                let source = VerdictSource::merged([first.source, second.source]);
                Ok((pairwise::combine(first.verdict, second.verdict), source))
            }
        }
    }
}

/// The verdict on `request`, through the cache. Identical requests within the eval get
/// occurrence numbers 0, 1, 2, … (in `occurrences`), so that each has its own cached verdict.
async fn judge_request(
    ctx: &RunContext,
    judge: &Judge,
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
    ctx.verdict(judge, settings, &key, &request, (sample, occurrence)).await
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
async fn generate(eval: &Eval, output: OutputFn) -> Result<Result<String, String>, EvalFailure> {
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
