//! Why `cargo judge merge` could not merge: bad input, or an output it could not write. Each
//! message says what to do; every one exits with code 2.

use std::path::PathBuf;

use judge_runtime::__cargo_judge::RecordError;

/// A merge that could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum MergeError {
    /// A shard's path does not exist.
    #[error(
        "shard {} does not exist: pass each shard's report directory (the JUDGE_REPORT_DIR its run set) \
         or its JSON report, as your CI kept it",
        path.display()
    )]
    Missing { path: PathBuf },
    /// A shard's directory or file could not be read.
    #[error("cannot read {}: {source}; check that the shard's report directory was copied whole and is readable", path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
    /// A JSON report that cannot be merged.
    #[error("cannot merge {}: {error}; {}", path.display(), advice(error))]
    Record { path: PathBuf, error: RecordError },
    /// A shard's directory with no run record in it.
    #[error(
        "{} holds no run record: a shard keeps its run as BINARY.json (one per test binary) in the \
         report directory its run set with JUDGE_REPORT_DIR; check that every shard's run sets \
         JUDGE_REPORT_DIR and that your CI keeps that directory whole (e.g. uploads it as an artifact)",
        path.display()
    )]
    NoRecords { path: PathBuf },
    /// One eval in two shards, with different results.
    #[error(
        "eval {eval} (of test binary {binary}) has different results in {} and {}: each eval must run \
         in one shard only; give every shard the same N in `--partition count:K/N` and each K once, \
         and pass each shard's directory once (not two attempts of one shard)",
        first.display(), second.display()
    )]
    Conflict { binary: String, eval: String, first: PathBuf, second: PathBuf },
    /// The score baseline to compare with is missing or unreadable.
    #[error(
        "cannot read the score baseline {} (--score-baseline): {reason}; save one with \
         --save-score-baseline (or JUDGE_SAVE_SCORE_BASELINE on a run), or leave --score-baseline out",
        path.display()
    )]
    Baseline { path: PathBuf, reason: String },
    /// The score baseline to save to is there but is not one.
    #[error(
        "cannot save the scores to {} (--save-score-baseline): {reason}; the file is kept as it is: \
         name a score baseline or a new file",
        path.display()
    )]
    SaveBaseline { path: PathBuf, reason: String },
    /// An output could not be written.
    #[error("cannot write {}: {source}; check the path (--out, --save-score-baseline) and its directory's permissions", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    /// The job summary could not be appended to.
    #[error("cannot append the merged table to the job summary {} (GITHUB_STEP_SUMMARY): {source}", path.display())]
    JobSummary { path: PathBuf, source: std::io::Error },
}

/// What to do about a JSON report that cannot be merged.
fn advice(error: &RecordError) -> &'static str {
    match error {
        RecordError::OtherFormat { .. } => {
            "it was written by another version of judge-runtime: merge with the cargo-judge of the shards' \
             judge-runtime version (`cargo install cargo-judge --locked --version VERSION`), or rerun the shards \
             with this one's"
        }
        _ => {
            "the file is damaged or is not a report of judge: copy the shard's report directory again, or rerun the shard"
        }
    }
}
