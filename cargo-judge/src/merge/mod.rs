//! `cargo judge merge`: the run records of a run sharded across machines (one per shard and test
//! binary) merged into one run per binary, gated on the score baseline, and written as the
//! reports a run on one machine writes. Everything is read, checked and rendered before the first
//! file is written, and each file is written whole (a temporary file renamed into place).

mod error;
mod inputs;
mod summary;

use std::path::{Path, PathBuf};

use judge_runtime::__cargo_judge::{ScoreBaseline, merge, write_durable};

use crate::cli::MergeArgs;
pub(crate) use error::MergeError;
pub(crate) use summary::MergeSummary;

/// Merges the shards `args` names and writes the merged reports; see the module's docs.
pub(crate) fn run(args: &MergeArgs) -> Result<MergeSummary, MergeError> {
    let inputs = inputs::read(&args.shards)?;
    let records: Vec<_> = inputs.records.iter().map(|input| input.record.clone()).collect();
    let mut runs = merge(&records).map_err(|conflict| {
        let [first, second] = conflict.shards.map(|i| inputs.records[i].path.clone());
        MergeError::Conflict { binary: conflict.binary, eval: conflict.eval, first, second }
    })?;

    // A baseline that does not exist yet while this merge saves one there is the first: nothing
    // to compare with, as on a run.
    let first_baseline = args
        .score_baseline
        .as_ref()
        .filter(|path| !path.exists() && args.save_score_baseline.as_ref() == Some(*path))
        .cloned();
    let baseline = match &args.score_baseline {
        Some(path) if first_baseline.is_none() => {
            Some(ScoreBaseline::read(path).map_err(|reason| MergeError::Baseline { path: path.clone(), reason })?)
        }
        _ => None,
    };
    let regressions = match &baseline {
        Some(baseline) => runs.iter_mut().flat_map(|run| run.gate(baseline, args.max_score_drop)).collect(),
        None => Vec::new(),
    };

    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for run in &runs {
        let name = run.binary();
        let at = |ext: &str| args.out.join(format!("{name}.{ext}"));
        files.extend([
            (at("json"), run.json()),
            (at("junit.xml"), run.junit()),
            (at("html"), run.html()),
            (at("md"), run.markdown()),
        ]);
    }
    let reports = files.iter().map(|(path, _)| path.clone()).collect();
    let mut saved = None;
    if let Some(path) = &args.save_score_baseline {
        let scores: Vec<(&str, f64)> = runs.iter().flat_map(|run| run.scores()).collect();
        let text = ScoreBaseline::with_scores(path, scores.iter().copied())
            .map_err(|reason| MergeError::SaveBaseline { path: path.clone(), reason })?;
        files.push((path.clone(), text));
        saved = Some((path.clone(), scores.len()));
    }
    for (path, text) in &files {
        write_durable(path, text.as_bytes()).map_err(|source| MergeError::Write { path: path.clone(), source })?;
    }
    let job_summary = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()).map(PathBuf::from);
    if let Some(path) = &job_summary {
        let tables: Vec<String> = runs.iter().map(|run| run.markdown()).collect();
        append(path, &tables.join("\n")).map_err(|source| MergeError::JobSummary { path: path.clone(), source })?;
    }
    Ok(MergeSummary {
        runs,
        skipped: inputs.skipped,
        first_baseline,
        compared: baseline.is_some().then(|| (args.score_baseline.clone().unwrap_or_default(), args.max_score_drop)),
        regressions,
        reports,
        saved,
        job_summary,
    })
}

/// Appends `text` in one write, as a run appends its table to the job summary.
fn append(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(format!("{text}\n").as_bytes())
}
