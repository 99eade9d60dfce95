//! The verdict cache: content-addressed, one JSON entry per verdict, in a directory
//! ([`dir`]) or on an S3-compatible object store ([`s3`], feature `s3`).
//!
//! A key is the SHA-256 of everything that decides a verdict: provider, model, generation
//! parameters, prompt template version, the full rendered request, and the occurrence number of
//! that identical request within its eval (so seven identical outputs stay seven samples, while
//! distinct outputs are keyed by content alone, in whatever order they were produced).
//!
//! An entry is written whole (a directory's file atomically, an object in one PUT), so any number
//! of processes and machines can share a cache; an entry that does not parse is a miss and is
//! rewritten, never a crash.

mod dir;
#[cfg(feature = "s3")]
mod s3;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::CacheError;
use crate::judge::techniques::prompt::TEMPLATE_VERSION;

pub(crate) use crate::settings::CacheLocation;

/// Bumped when the entry layout or the key material changes.
const FORMAT: u32 = 2;

pub use crate::settings::CacheMode;

/// The address of one verdict.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey(String);

impl CacheKey {
    /// Hashes everything that decides the verdict (or other answer, such as generated evaluation
    /// steps): `request` is what the judge is sent.
    pub fn new(
        provider: &str,
        model: &str,
        params: &serde_json::Value,
        request: &impl Serialize,
        occurrence: u32,
    ) -> Self {
        #[derive(Serialize)]
        struct Material<'a, R> {
            format: u32,
            provider: &'a str,
            model: &'a str,
            params: &'a serde_json::Value,
            template_version: u32,
            request: &'a R,
            occurrence: u32,
        }
        let material = Material {
            format: FORMAT,
            provider,
            model,
            params,
            template_version: TEMPLATE_VERSION,
            request,
            occurrence,
        };
        let bytes = crate::json_writer::to_vec(&material);
        Self(crate::digest::hex(crate::digest::sha256(&[&bytes]).as_ref()))
    }

    /// The key of what a server of `provider:model` was found to refuse ([`RefusalRecord`]s), kept
    /// beside its verdicts.
    ///
    /// [`RefusalRecord`]: crate::judge::providers::refusals::RefusalRecord
    pub fn refusals(provider: &str, model: &str) -> Self {
        Self::new(provider, model, &serde_json::Value::Null, &"what the server refused", 0)
    }

    /// The key as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One cache entry: a verdict, or another answer of a judge (evaluation steps) under its own key.
#[derive(Serialize, Deserialize)]
struct Entry<T> {
    format: u32,
    key: String,
    judge: String,
    verdict: T,
}

/// Where the entries are kept.
#[derive(Debug)]
enum Store {
    Dir(dir::DirStore),
    #[cfg(feature = "s3")]
    S3(s3::S3Store),
}

/// The verdicts of one [`CacheLocation`], used in one [`CacheMode`].
#[derive(Debug)]
pub(crate) struct VerdictCache {
    store: Store,
    location: CacheLocation,
    mode: CacheMode,
    /// In refresh mode, the keys this run has stored: judged anew once, then read like any entry.
    refreshed: Mutex<HashSet<String>>,
}

impl VerdictCache {
    /// The cache at `location`, whose requests (to an object store) each take at most `timeout`.
    /// Touches nothing until the first lookup or store.
    pub fn open(location: CacheLocation, mode: CacheMode, timeout: Duration) -> Result<Self, CacheError> {
        let store = match &location {
            CacheLocation::Dir(dir) => Store::Dir(dir::DirStore::new(dir.clone())),
            #[cfg(feature = "s3")]
            CacheLocation::S3 { bucket, prefix } => {
                Store::S3(s3::S3Store::open(bucket, prefix, location.to_string(), timeout)?)
            }
            #[cfg(not(feature = "s3"))]
            CacheLocation::S3 { .. } => {
                let _ = timeout;
                return Err(CacheError::Store {
                    location: location.to_string(),
                    action: "opened",
                    message: "judge-runtime was built without its `s3` feature".to_owned(),
                });
            }
        };
        Ok(Self { store, location, mode, refreshed: Mutex::default() })
    }

    /// The cached verdict for `key`, if the mode reads the cache and a valid entry is there. In
    /// replay mode a miss is an error; in refresh mode only what this run stored is read.
    pub async fn lookup<T: DeserializeOwned>(&self, key: &CacheKey) -> Result<Option<T>, CacheError> {
        let unread = match self.mode {
            CacheMode::Off => true,
            CacheMode::Refresh => !self.refreshed.lock().unwrap_or_else(|e| e.into_inner()).contains(&key.0),
            CacheMode::On | CacheMode::Replay => false,
        };
        if unread {
            return Ok(None);
        }
        let bytes = match &self.store {
            Store::Dir(dir) => dir.get(&key.0),
            #[cfg(feature = "s3")]
            Store::S3(s3) => s3.get(&key.0).await?,
        };
        let found = bytes
            .and_then(|bytes| serde_json::from_slice::<Entry<T>>(&bytes).ok())
            .filter(|entry| entry.format == FORMAT && entry.key == key.0)
            .map(|entry| entry.verdict);
        match (found, self.mode) {
            (None, CacheMode::Replay) => {
                Err(CacheError::ReplayMiss { key: key.0.clone(), location: self.location.to_string() })
            }
            (found, _) => Ok(found),
        }
    }

    /// What is cached under `key`, if the mode reads the cache; a miss, or an entry that cannot be
    /// read, is `None` in every mode (for what a run may do without, such as a server's refusals).
    pub async fn peek<T: DeserializeOwned>(&self, key: &CacheKey) -> Option<T> {
        self.lookup(key).await.ok().flatten()
    }

    /// Removes temporary files that killed processes left behind in a cache directory, if the
    /// mode writes the cache; returns how many. `marker_dir` (outside the cache) keeps the time of
    /// the last sweep. An object store has no temporary files.
    pub fn sweep_abandoned(&self, marker_dir: &Path) -> usize {
        match &self.store {
            Store::Dir(dir) if !matches!(self.mode, CacheMode::Off | CacheMode::Replay) => {
                dir.sweep_abandoned(marker_dir)
            }
            _ => 0,
        }
    }

    /// Stores `verdict` under `key`, whole, if the mode writes the cache.
    pub async fn store<T: Serialize>(&self, key: &CacheKey, judge: &str, verdict: &T) -> Result<(), CacheError> {
        if matches!(self.mode, CacheMode::Off | CacheMode::Replay) {
            return Ok(());
        }
        let entry = Entry { format: FORMAT, key: key.0.clone(), judge: judge.to_owned(), verdict };
        let bytes = crate::json_writer::to_string_pretty(&entry).into_bytes();
        match &self.store {
            Store::Dir(dir) => dir.put(&key.0, &bytes)?,
            #[cfg(feature = "s3")]
            Store::S3(s3) => s3.put(&key.0, bytes).await?,
        }
        if self.mode == CacheMode::Refresh {
            self.refreshed.lock().unwrap_or_else(|e| e.into_inner()).insert(key.0.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::techniques::prompt::{JudgeRequest, Task, render};
    use crate::judge::techniques::verdict::{Scale, ScoreMethod, Usage, Verdict};

    #[test]
    fn key_material_is_written_as_serde_json_writes_it() {
        let request = request("out \"quoted\"\n\u{1} é ✓");
        assert_eq!(crate::json_writer::to_vec(&request), serde_json::to_vec(&request).unwrap());
        let params = serde_json::json!({"temperature": 0.0, "logprobs": true, "top_logprobs": 10, "seed": null});
        assert_eq!(crate::json_writer::to_vec(&params), serde_json::to_vec(&params).unwrap());
    }

    fn request(output: &str) -> JudgeRequest {
        render(
            Task::borrowed("r", Some("i"), Some("e")),
            output,
            Scale::default(),
            crate::settings::DEFAULT_MAX_OUTPUT_CHARS,
        )
    }

    fn key(output: &str, occurrence: u32) -> CacheKey {
        CacheKey::new("openai", "m", &serde_json::json!({"temperature": 0.0}), &request(output), occurrence)
    }

    fn verdict(score: u32) -> Verdict {
        Verdict {
            level: None,
            criteria: Vec::new(),
            comparison: None,
            panel: Vec::new(),
            score: f64::from(score),
            scale: Scale::default(),
            method: ScoreMethod::Stated,
            rationale: format!("r{score}"),
            usage: Usage::default(),
        }
    }

    #[test]
    fn keys_depend_on_everything_that_decides_a_verdict() {
        let base = key("out", 0);
        assert_eq!(base, key("out", 0));
        assert_ne!(base, key("out", 1), "occurrence");
        assert_ne!(base, key("other", 0), "output");
        let params = serde_json::json!({"temperature": 0.0});
        assert_ne!(base, CacheKey::new("openai", "m2", &params, &request("out"), 0), "model");
        assert_ne!(base, CacheKey::new("anthropic", "m", &params, &request("out"), 0), "provider");
        let hot = serde_json::json!({"temperature": 1.0});
        assert_ne!(base, CacheKey::new("openai", "m", &hot, &request("out"), 0), "params");
        let other_rubric = render(
            Task::borrowed("r2", Some("i"), Some("e")),
            "out",
            Scale::default(),
            crate::settings::DEFAULT_MAX_OUTPUT_CHARS,
        );
        assert_ne!(base, CacheKey::new("openai", "m", &params, &other_rubric, 0), "rubric");
        assert_eq!(base.as_str().len(), 64);
    }

    fn open(dir: std::path::PathBuf, mode: CacheMode) -> VerdictCache {
        VerdictCache::open(CacheLocation::Dir(dir), mode, Duration::from_secs(5)).unwrap()
    }

    /// Where a directory cache in `dir` keeps `key`'s entry.
    fn cache_path(dir: &Path, key: &CacheKey) -> std::path::PathBuf {
        dir::DirStore::new(dir.to_owned()).path(key.as_str())
    }

    #[tokio::test]
    async fn stores_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let cache = open(dir.path().join("c"), CacheMode::On);
        assert_eq!(cache.lookup::<Verdict>(&key("a", 0)).await.unwrap(), None);
        cache.store(&key("a", 0), "openai:m", &verdict(7)).await.unwrap();
        assert_eq!(cache.lookup(&key("a", 0)).await.unwrap(), Some(verdict(7)));
        assert_eq!(cache.lookup::<Verdict>(&key("a", 1)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_corrupt_entry_is_a_miss_and_is_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let cache = open(dir.path().to_owned(), CacheMode::On);
        let k = key("a", 0);
        cache.store(&k, "openai:m", &verdict(7)).await.unwrap();
        let path = cache_path(dir.path(), &k);
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() / 2]).unwrap();
        assert_eq!(cache.lookup::<Verdict>(&k).await.unwrap(), None);
        std::fs::write(&path, b"\x00\xffgarbage").unwrap();
        assert_eq!(cache.lookup::<Verdict>(&k).await.unwrap(), None);
        cache.store(&k, "openai:m", &verdict(5)).await.unwrap();
        assert_eq!(cache.lookup(&k).await.unwrap(), Some(verdict(5)));
    }

    #[tokio::test]
    async fn an_entry_under_the_wrong_name_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = open(dir.path().to_owned(), CacheMode::On);
        cache.store(&key("a", 0), "openai:m", &verdict(7)).await.unwrap();
        std::fs::create_dir_all(cache_path(dir.path(), &key("b", 0)).parent().unwrap()).unwrap();
        std::fs::copy(cache_path(dir.path(), &key("a", 0)), cache_path(dir.path(), &key("b", 0))).unwrap();
        assert_eq!(cache.lookup::<Verdict>(&key("b", 0)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn modes() {
        let dir = tempfile::tempdir().unwrap();
        let k = key("a", 0);
        let off = open(dir.path().to_owned(), CacheMode::Off);
        off.store(&k, "j", &verdict(1)).await.unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "off writes nothing");

        let replay = open(dir.path().to_owned(), CacheMode::Replay);
        let err = replay.lookup::<Verdict>(&k).await.unwrap_err().to_string();
        assert!(err.contains("JUDGE_CACHE=replay") && err.contains(k.as_str()), "{err}");
        replay.store(&k, "j", &verdict(1)).await.unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "replay writes nothing");

        let on = open(dir.path().to_owned(), CacheMode::On);
        on.store(&k, "j", &verdict(2)).await.unwrap();
        assert_eq!(replay.lookup(&k).await.unwrap(), Some(verdict(2)));

        let refresh = open(dir.path().to_owned(), CacheMode::Refresh);
        assert_eq!(refresh.lookup::<Verdict>(&k).await.unwrap(), None, "refresh ignores what is cached");
        refresh.store(&k, "j", &verdict(3)).await.unwrap();
        assert_eq!(on.lookup(&k).await.unwrap(), Some(verdict(3)), "and overwrites it");
        assert_eq!(
            refresh.lookup(&k).await.unwrap(),
            Some(verdict(3)),
            "then reads what it wrote, judging it once a run"
        );
        assert_eq!(refresh.lookup::<Verdict>(&key("b", 0)).await.unwrap(), None);
    }
}
