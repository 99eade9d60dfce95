//! An eval's judges at work: [`Seated`] holds what they need for one eval (each judge, its task
//! with its own generated steps, the occurrence numbers of identical requests, what was spent),
//! and [`Panel`] asks them for a sample's verdict — graded, or compared in both orders — and for
//! the bias probes' calls, through the cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::try_join_all;
use judge_rules::words::Probe;

use crate::harness::context::{Judged, RunContext};
use crate::judge::Judge;
use crate::judge::techniques::ensemble;
use crate::judge::techniques::pairwise::{self, Order};
use crate::judge::techniques::prompt::{self, JudgeRequest, Task};
use crate::judge::techniques::steps::GeneratedSteps;
use crate::judge::techniques::verdict::{Scale, Verdict};
use crate::outcome::{EvalFailure, EvalIdentity, VerdictSource};
use crate::probes::{self, SampleProbes};
use crate::settings::EvalSettings;
use crate::settings::steps::Steps;

/// What an eval's judges need, owned for the eval's run.
pub(crate) struct Seated {
    judges: Vec<Arc<Judge>>,
    names: Vec<String>,
    tasks: Vec<Task>,
    /// The evaluation steps each judge generated, when the eval has `steps = "auto"`.
    pub steps: Vec<(String, GeneratedSteps)>,
    /// Identical requests within the eval get occurrence numbers 0, 1, 2, … in the order they are
    /// ready; since they are identical, that order cannot change which verdicts they map to.
    occurrences: Mutex<HashMap<String, u32>>,
    /// What the verdicts judged for this eval cost, by judge.toml's prices.
    spent: Mutex<f64>,
}

impl Seated {
    /// The judges of the eval `identity` with `settings`, each with its task; G-Eval's steps given
    /// (the same for every judge) or, for `"auto"`, written by each judge, once.
    pub async fn new(ctx: &RunContext, identity: &EvalIdentity, settings: &EvalSettings) -> Result<Self, EvalFailure> {
        let mut judges = Vec::with_capacity(settings.panel.len());
        for spec in &settings.panel {
            judges.push(ctx.judge(spec).await?);
        }
        let names: Vec<String> = settings.panel.iter().map(ToString::to_string).collect();
        let task = Task::owned(identity.rubric.clone(), identity.input.clone(), identity.expected.clone())
            .with_levels(settings.levels.clone())
            .with_criteria(settings.criteria.clone());
        let (tasks, steps) = match &settings.steps {
            None => (vec![task; judges.len()], Vec::new()),
            Some(Steps::Given(steps)) => (vec![task.with_steps(Some(steps.clone())); judges.len()], Vec::new()),
            Some(Steps::Auto) => {
                let generated = try_join_all(judges.iter().map(|judge| ctx.steps(judge, settings, &task))).await?;
                let tasks = generated.iter().map(|g| task.clone().with_steps(Some(g.steps.clone()))).collect();
                (tasks, names.iter().cloned().zip(generated).collect())
            }
        };
        Ok(Self { judges, names, tasks, steps, occurrences: Mutex::new(HashMap::new()), spent: Mutex::new(0.0) })
    }

    /// The panel that asks these judges, with `settings`, running `probes`.
    pub fn panel<'a>(&'a self, settings: &'a EvalSettings, probes: &'a [Probe]) -> Panel<'a> {
        Panel {
            probes,
            judges: &self.judges,
            names: &self.names,
            tasks: &self.tasks,
            settings,
            occurrences: &self.occurrences,
            spent: &self.spent,
        }
    }

    /// What the verdicts judged so far cost, by judge.toml's prices.
    pub fn spent(&self) -> f64 {
        *self.spent.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The judges of one eval, each with its task (its own generated steps), and what they share.
pub(crate) struct Panel<'a> {
    /// The bias probes the eval runs.
    pub probes: &'a [Probe],
    judges: &'a [Arc<Judge>],
    names: &'a [String],
    tasks: &'a [Task],
    pub settings: &'a EvalSettings,
    occurrences: &'a Mutex<HashMap<String, u32>>,
    spent: &'a Mutex<f64>,
}

impl Panel<'_> {
    /// A sample's verdict: every judge's at once, combined when there are several.
    pub async fn verdict(
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
    pub async fn probe(
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
