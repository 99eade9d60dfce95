//! Files written whole or not at all: the verdict cache's entries, the reports and the score
//! baseline. Readers see the old file, no file, or the whole new one, never a part. Files that
//! several processes update (nextest runs one per test) are read, changed and written under a lock.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Writes `bytes` to a temporary file beside `path` (`.NAME.PID.N.tmp`), then renames it over
/// `path`, creating the parent directories. On failure the temporary file is removed. Safe against
/// concurrent readers and killed processes; see [`write_durable`] for machine crashes.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with(path, bytes, false)
}

/// [`write`], with the data flushed to disk before the rename, so that a machine crash leaves the
/// old file or the new one: for files people keep (reports, the committed score baseline). The
/// cache does without: a lost entry is judged again.
pub fn write_durable(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with(path, bytes, true)
}

fn write_with(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| if durable { file.sync_all() } else { Ok(()) }))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// How long a process waits for another to finish updating a file before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(120);

/// Runs `update` holding an exclusive lock for `path`, so that processes updating `path` (read,
/// merge, write) take turns. The lock is released when `update` returns, or when the process dies.
/// Lock files live in `lock_dir` (the target directory's `judge-locks`), named by a hash of the
/// canonical path, so that none is left beside a report or a committed baseline. Waiting longer
/// than [`LOCK_WAIT`] is an error, not a hang.
pub(crate) fn with_lock<T>(lock_dir: &Path, path: &Path, update: impl FnOnce() -> T) -> std::io::Result<T> {
    use sha2::{Digest, Sha256};
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let canonical = std::fs::canonicalize(dir)?.join(path.file_name().unwrap_or_default());
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    let name: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    std::fs::create_dir_all(lock_dir)?;
    let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(lock_dir.join(name))?;
    let start = Instant::now();
    loop {
        match lock.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < LOCK_WAIT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("another process has held the lock on it for {} s", LOCK_WAIT.as_secs()),
                ));
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(error),
        }
    }
    let result = update();
    drop(lock);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/report.json");
        write(&path, b"first").unwrap();
        write(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> =
            std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["report.json"]);
    }

    #[test]
    fn updates_under_the_lock_take_turns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("counter");
        write(&path, b"0").unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (path, locks) = (path.clone(), dir.path().join("locks"));
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        with_lock(&locks, &path, || {
                            let n: u32 = std::fs::read_to_string(&path).unwrap().parse().unwrap();
                            write(&path, (n + 1).to_string().as_bytes()).unwrap();
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "200", "no update was lost");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "the file and the lock directory, no lock beside the file: {names:?}");
    }

    #[test]
    fn a_path_that_is_a_directory_fails_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("taken")).unwrap();
        assert!(write(&dir.path().join("taken"), b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
