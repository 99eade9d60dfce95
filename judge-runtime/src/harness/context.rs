//! What the evals of one run share: settings, the verdict cache, the HTTP client with its in-flight
//! limit, and one judge per `provider:model`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::cache::{CacheKey, VerdictCache};
use crate::error::ConfigError;
use crate::harness::trial::EvalFailure;
use crate::judge::http::{HttpClient, RetryPolicy};
use crate::judge::prompt::JudgeRequest;
use crate::judge::verdict::Verdict;
use crate::judge::{Judge, JudgeSpec};
use crate::settings::{RunSettings, Settings};

/// Shared by every trial of a run.
#[derive(Debug)]
pub(crate) struct RunContext {
    pub settings: Settings,
    pub run: RunSettings,
    cache: VerdictCache,
    http: HttpClient,
    judges: Mutex<HashMap<JudgeSpec, Arc<Judge>>>,
}

/// A verdict and whether it came from the cache.
pub(crate) struct Judged {
    pub verdict: Verdict,
    pub cached: bool,
}

impl RunContext {
    pub fn new(settings: Settings) -> Self {
        let run = settings.run();
        Self {
            cache: VerdictCache::new(run.cache_dir.clone(), run.cache),
            http: HttpClient::new(run.max_concurrency, RetryPolicy::default()),
            judges: Mutex::new(HashMap::new()),
            settings,
            run,
        }
    }

    /// The judge for `spec`, created on first use and shared afterwards.
    pub fn judge(&self, spec: &JudgeSpec) -> Result<Arc<Judge>, ConfigError> {
        let mut judges = self.judges.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(judge) = judges.get(spec) {
            return Ok(Arc::clone(judge));
        }
        let judge = Arc::new(Judge::new(spec.clone(), self.http.clone())?);
        judges.insert(spec.clone(), Arc::clone(&judge));
        Ok(judge)
    }

    /// The key of `request` for `judge`, at the given occurrence within its eval.
    pub fn cache_key(&self, judge: &Judge, request: &JudgeRequest, occurrence: u32) -> CacheKey {
        CacheKey::new(judge.spec().provider.name(), &judge.spec().model, judge.params(), request, occurrence)
    }

    /// The verdict for `request`: from the cache, or from the judge and then stored.
    pub async fn verdict(
        &self,
        judge: &Judge,
        key: &CacheKey,
        request: &JudgeRequest,
        sample: usize,
    ) -> Result<Judged, EvalFailure> {
        let cache_failure = |error| EvalFailure::Cache { sample, error };
        if let Some(verdict) = self.cache.lookup(key).map_err(cache_failure)? {
            return Ok(Judged { verdict, cached: true });
        }
        let verdict = judge.verdict(request).await.map_err(|error| EvalFailure::Judge { sample, error })?;
        self.cache.store(key, &judge.spec().to_string(), &verdict).map_err(cache_failure)?;
        Ok(Judged { verdict, cached: false })
    }
}
