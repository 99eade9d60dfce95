//! The verdict cache: content-addressed, one JSON file per verdict, written atomically.
//!
//! A key is the SHA-256 of everything that decides a verdict: provider, model, generation
//! parameters, prompt template version, the full rendered request, and the occurrence number of
//! that identical request within its eval (so seven identical outputs stay seven samples, while
//! distinct outputs are keyed by content alone, in whatever order they were produced).
//!
//! Files are written to a temporary name and renamed into place, so any number of processes
//! (nextest runs one per test) can share a directory; an entry that does not parse is a miss and
//! is rewritten, never a crash. A process killed between writing and renaming leaves its
//! temporary file behind; runs that write the cache remove those once they are old enough that no
//! live writer can own them.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::CacheError;
use crate::judge::techniques::prompt::TEMPLATE_VERSION;

/// Bumped when the entry layout or the key material changes.
const FORMAT: u32 = 2;

/// A temporary file this old was left by a killed process: writing one entry takes milliseconds.
const ABANDONED_AFTER: Duration = Duration::from_secs(600);

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
        let bytes = serde_json::to_vec(&material).expect("key material always serializes");
        Self(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
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

/// One cache file: a verdict, or another answer of a judge (evaluation steps) under its own key.
#[derive(Serialize, Deserialize)]
struct Entry<T> {
    format: u32,
    key: String,
    judge: String,
    verdict: T,
}

/// A short name for a cache directory, for files about it kept elsewhere.
pub(crate) fn dir_tag(dir: &std::path::Path) -> String {
    Sha256::digest(dir.as_os_str().as_encoded_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A directory of verdicts, used in one [`CacheMode`].
#[derive(Debug)]
pub(crate) struct VerdictCache {
    dir: PathBuf,
    mode: CacheMode,
    /// In refresh mode, the keys this run has stored: judged anew once, then read like any entry.
    refreshed: Mutex<HashSet<String>>,
}

impl VerdictCache {
    /// Touches nothing on disk until the first store.
    pub fn new(dir: PathBuf, mode: CacheMode) -> Self {
        Self { dir, mode, refreshed: Mutex::default() }
    }

    /// Where `key`'s verdict lives: fanned out over 256 subdirectories.
    fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(&key.0[..2]).join(format!("{}.json", &key.0[2..]))
    }

    /// The cached verdict for `key`, if the mode reads the cache and a valid entry is there. In
    /// replay mode a miss is an error; in refresh mode only what this run stored is read.
    pub fn lookup<T: DeserializeOwned>(&self, key: &CacheKey) -> Result<Option<T>, CacheError> {
        let unread = match self.mode {
            CacheMode::Off => true,
            CacheMode::Refresh => !self.refreshed.lock().unwrap_or_else(|e| e.into_inner()).contains(&key.0),
            CacheMode::On | CacheMode::Replay => false,
        };
        if unread {
            return Ok(None);
        }
        let found = std::fs::read(self.path(key))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Entry<T>>(&bytes).ok())
            .filter(|entry| entry.format == FORMAT && entry.key == key.0)
            .map(|entry| entry.verdict);
        match (found, self.mode) {
            (None, CacheMode::Replay) => Err(CacheError::ReplayMiss { key: key.0.clone(), dir: self.dir.clone() }),
            (found, _) => Ok(found),
        }
    }

    /// What is cached under `key`, if the mode reads the cache; a miss, or an entry that cannot be
    /// read, is `None` in every mode (for what a run may do without, such as a server's refusals).
    pub fn peek<T: DeserializeOwned>(&self, key: &CacheKey) -> Option<T> {
        self.lookup(key).ok().flatten()
    }

    /// Removes temporary files that killed processes left behind (older than
    /// [`ABANDONED_AFTER`]), if the mode writes the cache; returns how many. Best effort: a file
    /// that cannot be read or removed is left for the next run.
    /// Under nextest every eval's process starts a run: the file `marker` (outside the cache, which
    /// may be committed) makes the sweep happen at most once per [`ABANDONED_AFTER`].
    pub fn sweep_abandoned(&self, marker: &std::path::Path) -> usize {
        if matches!(self.mode, CacheMode::Off | CacheMode::Replay) || !self.dir.is_dir() {
            return 0;
        }
        let recent = std::fs::metadata(marker)
            .and_then(|m| m.modified())
            .is_ok_and(|swept| swept.elapsed().is_ok_and(|age| age < ABANDONED_AFTER));
        let marked = marker.parent().is_some_and(|dir| std::fs::create_dir_all(dir).is_ok())
            && std::fs::write(marker, b"").is_ok();
        if recent || !marked {
            return 0;
        }
        let Ok(fanout) = std::fs::read_dir(&self.dir) else { return 0 };
        let now = SystemTime::now();
        let abandoned = |entry: &std::fs::DirEntry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with('.')
                && name.ends_with(".tmp")
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|modified| now.duration_since(modified).is_ok_and(|age| age >= ABANDONED_AFTER))
        };
        fanout
            .flatten()
            .filter(|sub| sub.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|sub| std::fs::read_dir(sub.path()).ok())
            .flat_map(|entries| entries.flatten())
            .filter(|entry| abandoned(entry) && std::fs::remove_file(entry.path()).is_ok())
            .count()
    }

    /// Stores `verdict` under `key` atomically, if the mode writes the cache.
    pub fn store<T: Serialize>(&self, key: &CacheKey, judge: &str, verdict: &T) -> Result<(), CacheError> {
        if matches!(self.mode, CacheMode::Off | CacheMode::Replay) {
            return Ok(());
        }
        let entry = Entry { format: FORMAT, key: key.0.clone(), judge: judge.to_owned(), verdict };
        let bytes = serde_json::to_vec_pretty(&entry).expect("an entry always serializes");
        let path = self.path(key);
        crate::atomic_file::write(&path, &bytes).map_err(|source| CacheError::Io { path, source })?;
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

    #[test]
    fn stores_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let cache = VerdictCache::new(dir.path().join("c"), CacheMode::On);
        assert_eq!(cache.lookup::<Verdict>(&key("a", 0)).unwrap(), None);
        cache.store(&key("a", 0), "openai:m", &verdict(7)).unwrap();
        assert_eq!(cache.lookup(&key("a", 0)).unwrap(), Some(verdict(7)));
        assert_eq!(cache.lookup::<Verdict>(&key("a", 1)).unwrap(), None);
    }

    #[test]
    fn a_corrupt_entry_is_a_miss_and_is_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let cache = VerdictCache::new(dir.path().to_owned(), CacheMode::On);
        let k = key("a", 0);
        cache.store(&k, "openai:m", &verdict(7)).unwrap();
        let path = cache.path(&k);
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() / 2]).unwrap();
        assert_eq!(cache.lookup::<Verdict>(&k).unwrap(), None);
        std::fs::write(&path, b"\x00\xffgarbage").unwrap();
        assert_eq!(cache.lookup::<Verdict>(&k).unwrap(), None);
        cache.store(&k, "openai:m", &verdict(5)).unwrap();
        assert_eq!(cache.lookup(&k).unwrap(), Some(verdict(5)));
    }

    #[test]
    fn an_entry_under_the_wrong_name_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = VerdictCache::new(dir.path().to_owned(), CacheMode::On);
        cache.store(&key("a", 0), "openai:m", &verdict(7)).unwrap();
        std::fs::create_dir_all(cache.path(&key("b", 0)).parent().unwrap()).unwrap();
        std::fs::copy(cache.path(&key("a", 0)), cache.path(&key("b", 0))).unwrap();
        assert_eq!(cache.lookup::<Verdict>(&key("b", 0)).unwrap(), None);
    }

    #[test]
    fn modes() {
        let dir = tempfile::tempdir().unwrap();
        let k = key("a", 0);
        let off = VerdictCache::new(dir.path().to_owned(), CacheMode::Off);
        off.store(&k, "j", &verdict(1)).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "off writes nothing");

        let replay = VerdictCache::new(dir.path().to_owned(), CacheMode::Replay);
        let err = replay.lookup::<Verdict>(&k).unwrap_err().to_string();
        assert!(err.contains("JUDGE_CACHE=replay") && err.contains(k.as_str()), "{err}");
        replay.store(&k, "j", &verdict(1)).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "replay writes nothing");

        let on = VerdictCache::new(dir.path().to_owned(), CacheMode::On);
        on.store(&k, "j", &verdict(2)).unwrap();
        assert_eq!(replay.lookup(&k).unwrap(), Some(verdict(2)));

        let refresh = VerdictCache::new(dir.path().to_owned(), CacheMode::Refresh);
        assert_eq!(refresh.lookup::<Verdict>(&k).unwrap(), None, "refresh ignores what is cached");
        refresh.store(&k, "j", &verdict(3)).unwrap();
        assert_eq!(on.lookup(&k).unwrap(), Some(verdict(3)), "and overwrites it");
        assert_eq!(refresh.lookup(&k).unwrap(), Some(verdict(3)), "then reads what it wrote, judging it once a run");
        assert_eq!(refresh.lookup::<Verdict>(&key("b", 0)).unwrap(), None);
    }

    #[test]
    fn leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache = VerdictCache::new(dir.path().to_owned(), CacheMode::On);
        for i in 0..20 {
            cache.store(&key("a", i), "j", &verdict(i)).unwrap();
        }
        let tmp = walk(dir.path()).into_iter().filter(|p| p.extension().is_some_and(|e| e == "tmp")).count();
        assert_eq!(tmp, 0);
    }

    #[test]
    fn abandoned_temporary_files_are_swept_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = VerdictCache::new(dir.path().to_owned(), CacheMode::On);
        let marker = dir.path().join("locks/swept");
        let missing = VerdictCache::new(dir.path().join("none"), CacheMode::On);
        assert_eq!(missing.sweep_abandoned(&marker), 0, "no directory yet");
        assert!(!marker.exists() && !dir.path().join("none").exists(), "nothing created");
        cache.store(&key("a", 0), "j", &verdict(7)).unwrap();
        let sub = cache.path(&key("a", 0)).parent().unwrap().to_owned();
        let old = SystemTime::now() - ABANDONED_AFTER - Duration::from_secs(1);
        let abandoned = sub.join(".x.json.1.0.tmp");
        std::fs::File::create(&abandoned).unwrap().set_modified(old).unwrap();
        let live = sub.join(".y.json.2.0.tmp");
        std::fs::write(&live, b"{").unwrap();
        let foreign = sub.join("notes.tmp");
        std::fs::File::create(&foreign).unwrap().set_modified(old).unwrap();

        let replay = VerdictCache::new(dir.path().to_owned(), CacheMode::Replay);
        assert_eq!(replay.sweep_abandoned(&marker), 0, "replay writes nothing, so removes nothing");
        assert_eq!(cache.sweep_abandoned(&marker), 1);
        let again = dir.path().join(".z.json.3.0.tmp");
        std::fs::File::create(&again).unwrap().set_modified(old).unwrap();
        assert_eq!(cache.sweep_abandoned(&marker), 0, "at most one sweep in ten minutes");
        assert!(again.exists());
        assert!(!abandoned.exists());
        assert!(live.exists(), "a writer may still own a fresh one");
        assert!(foreign.exists(), "only our own temporary names");
        assert_eq!(cache.lookup(&key("a", 0)).unwrap(), Some(verdict(7)));
    }

    fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .flat_map(|e| {
                let p = e.unwrap().path();
                if p.is_dir() { walk(&p) } else { vec![p] }
            })
            .collect()
    }
}
