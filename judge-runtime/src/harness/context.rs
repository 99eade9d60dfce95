//! What the evals of one run share: settings, the verdict cache, the HTTP client with its limits,
//! one judge per `provider:model`, the calls in flight (whose verdicts identical calls share), the
//! score baseline, the run's tallies, the record of its evals and the snapshots to assert at its end.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::baseline::Baselines;
use crate::cache::{CacheKey, VerdictCache};
use crate::error::{CacheError, ConfigError, JudgeError};
use crate::harness::shared_calls::{Call, SharedCalls};
use crate::judge::techniques::contrast::{self, Contrast, Generated};
use crate::judge::techniques::prompt::{JudgeRequest, Message, Task};
use crate::judge::techniques::reply::Completion;
use crate::judge::techniques::steps::{self, GeneratedSteps};
use crate::judge::techniques::verdict::{Usage, Verdict};
use crate::judge::transport::http::{HttpClient, HttpConfig, RetryPolicy};
use crate::judge::transport::ledger::Ledger;
use crate::judge::{Judge, JudgeSpec};
use crate::outcome::{EvalFailure, RunTotals, VerdictSource};
use crate::report::record::Recorder;
use crate::settings::params::GenerationParams;
use crate::settings::prices::Price;
use crate::settings::{EvalSettings, RunSettings, Settings};
use crate::snapshot::DeferredSnapshots;

/// Shared by every trial of a run.
#[derive(Debug)]
pub(crate) struct RunContext {
    pub settings: Settings,
    pub run: RunSettings,
    cache: VerdictCache,
    http: HttpClient,
    /// Held while a judge is made, which may read the cache: one judge per spec.
    judges: tokio::sync::Mutex<HashMap<JudgeSpec, Arc<Judge>>>,
    in_flight: SharedCalls<CacheKey, Verdict>,
    /// The evaluation steps being generated: evals with one rubric ask once.
    steps_in_flight: SharedCalls<CacheKey, GeneratedSteps>,
    /// The contrastive pairs being generated: two evals over one dataset ask once.
    contrasts_in_flight: SharedCalls<CacheKey, Generated>,
    /// Under nextest, the ledger the run's processes share: budget, pacing, claims on verdicts.
    ledger: Option<Arc<Ledger>>,
    cache_hits: AtomicU64,
    shared: AtomicU64,
    judged: AtomicU64,
    /// The scores to compare with, and where to save this run's.
    pub baselines: Baselines,
    /// Every eval's result, for the reports.
    pub recorder: Recorder,
    /// The snapshots asserted once every trial has finished.
    pub snapshots: DeferredSnapshots,
}

/// How often a process waiting for another's verdict looks again.
const CLAIM_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// This process's claim on a verdict in the run's ledger, given up when dropped: once the verdict
/// is stored, or when judging it failed or was cancelled.
struct Claim<'a> {
    ledger: &'a Ledger,
    key: &'a str,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        // Not released, the claim ends with this process: the ledger drops the claims of the dead.
        drop(self.ledger.release(self.key));
    }
}

/// The outcome of claiming a verdict.
enum Claimed<'a> {
    /// This process judges it (no claim is needed without a ledger).
    Ours(Option<Claim<'a>>),
    /// Another process judged and stored it meanwhile.
    Stored(Verdict),
}

/// A verdict and where it came from.
pub(crate) struct Judged {
    pub verdict: Verdict,
    pub source: VerdictSource,
}

impl RunContext {
    /// The context of a run with `settings`, whose run settings (`settings.run()`) are `run`; an
    /// error if the verdict cache cannot be set up (an object store from the environment).
    pub fn new(settings: Settings, run: RunSettings, baselines: Baselines) -> Result<Self, CacheError> {
        let ledger = Ledger::of_nextest_run(&run.lock_dir).map(Arc::new);
        let http = HttpClient::new(HttpConfig {
            max_concurrency: run.values.max_concurrency,
            retry: RetryPolicy {
                max_attempts: run.values.max_attempts,
                max_retry_wait: run.values.max_retry_wait,
                ..RetryPolicy::default()
            },
            requests_per_minute: run.values.requests_per_minute,
            tokens_per_minute: run.values.tokens_per_minute,
            max_judge_calls: run.values.max_judge_calls,
            max_judge_tokens: run.values.max_judge_tokens,
            max_judge_cost: run.values.max_judge_cost,
        })
        .shared(ledger.clone());
        let cache = VerdictCache::open(run.cache_dir.clone(), run.values.cache, run.cache_timeout)?;
        cache.sweep_abandoned(&run.lock_dir);
        Ok(Self {
            cache,
            http,
            judges: tokio::sync::Mutex::default(),
            in_flight: SharedCalls::default(),
            steps_in_flight: SharedCalls::default(),
            contrasts_in_flight: SharedCalls::default(),
            ledger,
            cache_hits: AtomicU64::new(0),
            shared: AtomicU64::new(0),
            judged: AtomicU64::new(0),
            baselines,
            recorder: Recorder::default(),
            snapshots: DeferredSnapshots::default(),
            settings,
            run,
        })
    }

    /// The HTTP client every judge of the run shares.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The judge for `spec`, created on first use and shared afterwards.
    pub async fn judge(&self, spec: &JudgeSpec) -> Result<Arc<Judge>, ConfigError> {
        let mut judges = self.judges.lock().await;
        if let Some(judge) = judges.get(spec) {
            return Ok(Arc::clone(judge));
        }
        let price = self.price(spec);
        if let (Some(max), None) = (self.run.values.max_judge_cost, price) {
            return Err(ConfigError::Unpriced { judge: spec.to_string(), max_judge_cost: max });
        }
        let judge = Arc::new(Judge::new(spec.clone(), self.http.clone(), price)?);
        if let Some(record) = self.cache.peek(&CacheKey::refusals(spec.provider.name(), &spec.model)).await {
            judge.apply_refusals(&record);
        }
        judges.insert(spec.clone(), Arc::clone(&judge));
        Ok(judge)
    }

    /// The price of `spec`'s tokens, when judge.toml gives one.
    pub fn price(&self, spec: &JudgeSpec) -> Option<Price> {
        self.run.values.prices.as_ref().and_then(|prices| prices.of(spec))
    }

    /// The key of `request` for `judge` with the eval's parameters, at the given occurrence
    /// within its eval.
    pub fn cache_key(&self, judge: &Judge, eval: &EvalSettings, request: &JudgeRequest, occurrence: u32) -> CacheKey {
        let spec = judge.spec();
        CacheKey::new(spec.provider.name(), &spec.model, &judge.key_params(&eval.generation), request, occurrence)
    }

    /// The verdict for `request` (the `occurrence`-th identical one of its eval, under `key`): from
    /// the cache, shared by an identical call in flight, or from the judge and then stored.
    pub async fn verdict(
        &self,
        judge: &Judge,
        eval: &EvalSettings,
        key: &CacheKey,
        request: &JudgeRequest,
        (sample, occurrence): (usize, u32),
    ) -> Result<Judged, EvalFailure> {
        let cache_failure = |error| EvalFailure::Cache { sample, error };
        // What `key` was made with (nothing has been awaited since): the request is stored under
        // it, unless the server refuses a part of it meanwhile.
        let params = judge.key_params(&eval.generation);
        if let Some(verdict) = self.cache.lookup(key).await.map_err(cache_failure)? {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Judged { verdict, source: VerdictSource::Cached });
        }
        let leader = match self.in_flight.join(key).await {
            Call::Shared(verdict) => {
                self.shared.fetch_add(1, Ordering::Relaxed);
                return Ok(Judged { verdict, source: VerdictSource::Shared });
            }
            Call::Lead(leader) => leader,
        };
        // A leader that finished between the lookup above and the join stored its verdict first.
        if let Some(verdict) = self.cache.lookup::<Verdict>(key).await.map_err(cache_failure)? {
            self.shared.fetch_add(1, Ordering::Relaxed);
            leader.finish(verdict.clone());
            return Ok(Judged { verdict, source: VerdictSource::Shared });
        }
        // Another process of the run may be judging it: wait for its entry rather than pay twice.
        let _claim = match self.claim(key, sample).await? {
            Claimed::Ours(claim) => claim,
            Claimed::Stored(verdict) => {
                self.shared.fetch_add(1, Ordering::Relaxed);
                leader.finish(verdict.clone());
                return Ok(Judged { verdict, source: VerdictSource::Shared });
            }
        };
        let verdict = judge.verdict(request, &eval.generation, eval.values.timeout).await;
        judge.take_notices().iter().for_each(|text| crate::report::printer::notice(text));
        self.keep_refusals(judge).await.map_err(cache_failure)?;
        let verdict = verdict.map_err(|error| EvalFailure::Judge { sample, error })?;
        self.judged.fetch_add(1, Ordering::Relaxed);
        // Under the key of the request as it was sent: the server may have refused a part of it
        // meanwhile, and the request was sent again without it.
        let sent = match judge.key_params(&eval.generation) == params {
            true => key.clone(),
            false => self.cache_key(judge, eval, request, occurrence),
        };
        // Stored before the waiting callers are let go, so that nothing asks for it twice.
        self.cache.store(&sent, &judge.spec().to_string(), &verdict).await.map_err(cache_failure)?;
        leader.finish(verdict.clone());
        Ok(Judged { verdict, source: VerdictSource::Judged })
    }

    /// The evaluation steps `judge` writes for `task` (G-Eval's `steps = "auto"`), generated once
    /// for the run (see [`RunContext::generated`]).
    pub async fn steps(&self, judge: &Judge, eval: &EvalSettings, task: &Task) -> Result<GeneratedSteps, EvalFailure> {
        let request = steps::request(task);
        let read = |reply: &Completion| steps::parse(&reply.text);
        let kept = |asked: Result<(Vec<String>, Usage), JudgeError>| {
            asked.map(|(steps, usage)| GeneratedSteps { steps, usage })
        };
        self.generated(judge, eval, &request, &self.steps_in_flight, read, steps::reask, kept)
            .await
            .map_err(|message| EvalFailure::Steps { judge: judge.spec().to_string(), message })
    }

    /// The contrastive pair `generator` writes for the task `input` with the good answer `good`
    /// (`validate = "synthetic"`), or why its reply was not one (kept too: a rerun does not ask
    /// again), generated once for the run (see [`RunContext::generated`]). Only a failure to reach
    /// the generator is an `Err`.
    pub async fn contrast(
        &self,
        generator: &Judge,
        eval: &EvalSettings,
        input: &str,
        good: &str,
    ) -> Result<Generated, EvalFailure> {
        let request = contrast::request(input, good);
        let read = |reply: &Completion| contrast::parse(&reply.text);
        let kept = |asked: Result<(Contrast, Usage), JudgeError>| match asked {
            Ok((pair, _usage)) => Ok(Generated::Pair(pair)),
            Err(JudgeError::UnparseableVerdict { reason, .. }) => Ok(Generated::Unreadable(reason)),
            Err(error) => Err(error),
        };
        self.generated(generator, eval, &request, &self.contrasts_in_flight, read, contrast::reask, kept)
            .await
            .map_err(|message| EvalFailure::Contrast { generator: generator.spec().to_string(), message })
    }

    /// A text `judge` writes on the way to verdicts (G-Eval's steps, a contrastive pair), asked
    /// for with `request` (its messages and the reply's schema), read from each reply by `read`,
    /// re-asked with `reask`'s words, and made what is kept by `kept`: from the cache, shared with
    /// an identical request in flight (`in_flight`), or asked for once and stored under the key
    /// of the request as it was sent (the server may have refused a part of it meanwhile), so that
    /// a rerun, or CI replaying the cache, asks nothing. A text, not a score: no token
    /// probabilities are asked for, whatever `scoring` says. A failure comes back as its message.
    #[allow(clippy::too_many_arguments)]
    async fn generated<T, R>(
        &self,
        judge: &Judge,
        eval: &EvalSettings,
        (messages, schema): &(Vec<Message>, Value),
        in_flight: &SharedCalls<CacheKey, T>,
        read: impl Fn(&Completion) -> Result<R, String>,
        reask: impl Fn(&str) -> String,
        kept: impl FnOnce(Result<(R, Usage), JudgeError>) -> Result<T, JudgeError>,
    ) -> Result<T, String>
    where
        T: Clone + Serialize + DeserializeOwned,
    {
        let spec = judge.spec();
        let params = GenerationParams { weighted: false, ..eval.generation };
        let key =
            || CacheKey::new(spec.provider.name(), &spec.model, &judge.key_params(&params), &(messages, schema), 0);
        let asked_key = key();
        if let Some(generated) = self.cache.lookup::<T>(&asked_key).await.map_err(|e| e.to_string())? {
            return Ok(generated);
        }
        let leader = match in_flight.join(&asked_key).await {
            Call::Shared(generated) => return Ok(generated),
            Call::Lead(leader) => leader,
        };
        // A leader that finished between the lookup above and the join stored it first.
        if let Some(generated) = self.cache.lookup::<T>(&asked_key).await.map_err(|e| e.to_string())? {
            leader.finish(generated.clone());
            return Ok(generated);
        }
        let asked = judge.ask(messages, schema, &params, eval.values.timeout, read, reask).await;
        judge.take_notices().iter().for_each(|text| crate::report::printer::notice(text));
        self.keep_refusals(judge).await.map_err(|e| e.to_string())?;
        let generated = kept(asked).map_err(|e| e.to_string())?;
        self.cache.store(&key(), &spec.to_string(), &generated).await.map_err(|e| e.to_string())?;
        leader.finish(generated.clone());
        Ok(generated)
    }

    /// Claims the verdict `key` in the run's ledger, where one is kept (nextest): while another
    /// process holds the claim, waits, and takes its verdict from the cache once it is stored.
    async fn claim<'a>(&'a self, key: &'a CacheKey, sample: usize) -> Result<Claimed<'a>, EvalFailure> {
        let Some(ledger) = &self.ledger else { return Ok(Claimed::Ours(None)) };
        let judge_failure = |error| EvalFailure::Judge { sample, error };
        loop {
            if ledger.claim(key.as_str()).map_err(judge_failure)? {
                let claim = Claim { ledger, key: key.as_str() };
                // The other process may have stored it and let go in between.
                return match self
                    .cache
                    .lookup::<Verdict>(key)
                    .await
                    .map_err(|error| EvalFailure::Cache { sample, error })?
                {
                    Some(verdict) => Ok(Claimed::Stored(verdict)),
                    None => Ok(Claimed::Ours(Some(claim))),
                };
            }
            tokio::time::sleep(CLAIM_POLL).await;
        }
    }

    /// Keeps in the cache what `judge`'s server was found to refuse, if it learned something: a
    /// later process then sends, and keys, its requests as this one does.
    async fn keep_refusals(&self, judge: &Judge) -> Result<(), CacheError> {
        match judge.take_refusals() {
            Some(record) => {
                let spec = judge.spec();
                let key = CacheKey::refusals(spec.provider.name(), &spec.model);
                self.cache.store(&key, &spec.to_string(), &record).await
            }
            None => Ok(()),
        }
    }

    /// The run's tallies so far.
    pub fn totals(&self) -> RunTotals {
        RunTotals {
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            shared: self.shared.load(Ordering::Relaxed),
            judged: self.judged.load(Ordering::Relaxed),
            calls: self.http.totals(),
        }
    }
}
