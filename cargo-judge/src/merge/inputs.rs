//! What `cargo judge merge` reads: each shard's run records. A shard is the report directory its
//! run set with `JUDGE_REPORT_DIR`, holding `BINARY.json` for each test binary (the JUnit, HTML
//! and Markdown files beside it are rendered from that record and are not needed), or one such
//! JSON report named on its own.

use std::path::{Path, PathBuf};

use judge_runtime::__cargo_judge::ShardRecord;

use crate::merge::error::MergeError;

/// A run record and the file it was read from.
#[derive(Debug)]
pub(crate) struct ShardInput {
    pub path: PathBuf,
    pub record: ShardRecord,
}

/// The shards' run records, and the JSON files of their directories that are not run records.
#[derive(Debug, Default)]
pub(crate) struct Inputs {
    pub records: Vec<ShardInput>,
    pub skipped: Vec<PathBuf>,
}

/// Reads every shard: in a directory, each `*.json` that is a run record (hidden and temporary
/// files aside; other JSON, such as a score baseline, is skipped); a file named on its own must
/// be one. A shard with no record is an error: it would silently drop its evals from the run.
pub(crate) fn read(shards: &[PathBuf]) -> Result<Inputs, MergeError> {
    let mut inputs = Inputs::default();
    for shard in shards {
        let metadata = std::fs::metadata(shard).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => MergeError::Missing { path: shard.clone() },
            _ => MergeError::Unreadable { path: shard.clone(), source },
        })?;
        if !metadata.is_dir() {
            match record(shard)? {
                Some(record) => inputs.records.push(ShardInput { path: shard.clone(), record }),
                None => return Err(MergeError::NoRecords { path: shard.clone() }),
            }
            continue;
        }
        let found = inputs.records.len();
        for path in json_files(shard)? {
            match record(&path)? {
                Some(record) => inputs.records.push(ShardInput { path, record }),
                None => inputs.skipped.push(path),
            }
        }
        if inputs.records.len() == found {
            return Err(MergeError::NoRecords { path: shard.clone() });
        }
    }
    Ok(inputs)
}

/// The visible `*.json` files of `dir`, in name order.
fn json_files(dir: &Path) -> Result<Vec<PathBuf>, MergeError> {
    let unreadable = |source| MergeError::Unreadable { path: dir.to_owned(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.ends_with(".json") && !name.starts_with('.') && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The run record in the JSON file `path`, if it holds one.
fn record(path: &Path) -> Result<Option<ShardRecord>, MergeError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| MergeError::Unreadable { path: path.to_owned(), source })?;
    ShardRecord::parse(&text).map_err(|error| MergeError::Record { path: path.to_owned(), error })
}
