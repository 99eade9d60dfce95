//! Files written whole or not at all: the verdict cache's entries, the reports and the score
//! baseline. Readers see the old file, no file, or the whole new one, never a part. Files that
//! several processes update (nextest runs one per test) are read, changed and written under a lock.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to a temporary file beside `path` (`.NAME.PID.N.tmp`), then renames it over
/// `path`, creating the parent directories. On failure the temporary file is removed.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Runs `update` holding an exclusive lock for `path`, so that processes updating `path` (read,
/// merge, write) take turns. The lock is released when `update` returns, or when the process dies.
/// Lock files live in the temporary directory, named by a hash of `path`, so that none is left
/// beside a report or a committed baseline.
pub(crate) fn with_lock<T>(path: &Path, update: impl FnOnce() -> T) -> std::io::Result<T> {
    use sha2::{Digest, Sha256};
    let absolute = std::path::absolute(path)?;
    let digest = Sha256::digest(absolute.as_os_str().as_encoded_bytes());
    let name: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join("judge-locks");
    std::fs::create_dir_all(&dir)?;
    let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(name))?;
    lock.lock()?;
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
                let path = path.clone();
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        with_lock(&path, || {
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
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no lock file beside the file");
    }

    #[test]
    fn a_path_that_is_a_directory_fails_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("taken")).unwrap();
        assert!(write(&dir.path().join("taken"), b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
