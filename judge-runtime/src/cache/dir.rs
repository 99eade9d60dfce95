//! The verdict cache in a directory: one JSON file per entry, fanned out over 256 subdirectories,
//! written atomically.
//!
//! Files are written to a temporary name and renamed into place, so any number of processes
//! (nextest runs one per test) can share a directory. A process killed between writing and
//! renaming leaves its temporary file behind; runs that write the cache remove those once they are
//! old enough that no live writer can own them.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::error::CacheError;

/// A temporary file this old was left by a killed process: writing one entry takes milliseconds.
pub(super) const ABANDONED_AFTER: Duration = Duration::from_secs(600);

/// A directory of cache entries.
#[derive(Debug)]
pub(super) struct DirStore {
    dir: PathBuf,
}

impl DirStore {
    /// Touches nothing on disk until the first write.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Where the entry `key` (hex) lives.
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{}.json", &key[2..]))
    }

    /// The bytes of the entry `key`; a file that is missing or cannot be read is a miss.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(key)).ok()
    }

    /// Writes the entry `key` whole: to a temporary file, renamed into place.
    pub fn put(&self, key: &str, bytes: &[u8]) -> Result<(), CacheError> {
        let path = self.path(key);
        crate::atomic_file::write(&path, bytes).map_err(|source| CacheError::Io { path, source })
    }

    /// Removes temporary files that killed processes left behind (older than
    /// [`ABANDONED_AFTER`]); returns how many. Best effort: a file that cannot be read or removed is
    /// left for the next run. Under nextest every eval's process starts a run: a marker file in
    /// `marker_dir` (outside the cache, which may be committed) makes the sweep happen at most once
    /// per [`ABANDONED_AFTER`].
    pub fn sweep_abandoned(&self, marker_dir: &Path) -> usize {
        if !self.dir.is_dir() {
            return 0;
        }
        let tag: String = Sha256::digest(self.dir.as_os_str().as_encoded_bytes())
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let marker = marker_dir.join(format!("swept-{tag}"));
        let recent = std::fs::metadata(&marker)
            .and_then(|m| m.modified())
            .is_ok_and(|swept| swept.elapsed().is_ok_and(|age| age < ABANDONED_AFTER));
        let marked = std::fs::create_dir_all(marker_dir).is_ok() && std::fs::write(&marker, b"").is_ok();
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
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "ab0123";
    const KEY_B: &str = "cd4567";

    #[test]
    fn leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path().to_owned());
        for i in 0..20 {
            store.put(&format!("{KEY_A}{i}"), b"{}").unwrap();
        }
        let tmp = walk(dir.path()).into_iter().filter(|p| p.extension().is_some_and(|e| e == "tmp")).count();
        assert_eq!(tmp, 0);
    }

    #[test]
    fn abandoned_temporary_files_are_swept_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path().to_owned());
        let locks = dir.path().join("locks");
        let missing = DirStore::new(dir.path().join("none"));
        assert_eq!(missing.sweep_abandoned(&locks), 0, "no directory yet");
        assert!(!locks.exists() && !dir.path().join("none").exists(), "nothing created");
        store.put(KEY_A, b"{}").unwrap();
        let sub = store.path(KEY_A).parent().unwrap().to_owned();
        let old = SystemTime::now() - ABANDONED_AFTER - Duration::from_secs(1);
        let abandoned = sub.join(".x.json.1.0.tmp");
        std::fs::File::create(&abandoned).unwrap().set_modified(old).unwrap();
        let live = sub.join(".y.json.2.0.tmp");
        std::fs::write(&live, b"{").unwrap();
        let foreign = sub.join("notes.tmp");
        std::fs::File::create(&foreign).unwrap().set_modified(old).unwrap();

        assert_eq!(store.sweep_abandoned(&locks), 1);
        let again = dir.path().join(".z.json.3.0.tmp");
        std::fs::File::create(&again).unwrap().set_modified(old).unwrap();
        assert_eq!(store.sweep_abandoned(&locks), 0, "at most one sweep in ten minutes");
        assert!(again.exists());
        assert!(!abandoned.exists());
        assert!(live.exists(), "a writer may still own a fresh one");
        assert!(foreign.exists(), "only our own temporary names");
        assert_eq!(store.get(KEY_A).as_deref(), Some(&b"{}"[..]));
        assert_eq!(store.get(KEY_B), None);
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .flat_map(|e| {
                let p = e.unwrap().path();
                if p.is_dir() { walk(&p) } else { vec![p] }
            })
            .collect()
    }
}
