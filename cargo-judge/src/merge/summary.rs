//! What `cargo judge merge` did, in the lines it prints, and whether the merged run passed.

use std::fmt;
use std::path::PathBuf;

use judge_runtime::__cargo_judge::{MergedRun, Regression};

/// A merge that was made and written.
#[derive(Debug)]
pub(crate) struct MergeSummary {
    /// The merged run of each test binary.
    pub runs: Vec<MergedRun>,
    /// JSON files of the shards' directories that are not run records.
    pub skipped: Vec<PathBuf>,
    /// The score baseline that does not exist yet and is saved by this merge.
    pub first_baseline: Option<PathBuf>,
    /// The score baseline compared with, and `--max-score-drop`.
    pub compared: Option<(PathBuf, Option<f64>)>,
    /// The evals that fell past `--max-score-drop`.
    pub regressions: Vec<Regression>,
    /// The reports written.
    pub reports: Vec<PathBuf>,
    /// The score baseline saved, and how many scores it was given.
    pub saved: Option<(PathBuf, usize)>,
    /// The job summary appended to.
    pub job_summary: Option<PathBuf>,
}

impl MergeSummary {
    /// The evals of the merged runs that failed or could not be scored.
    pub fn unsuccessful(&self) -> Vec<&str> {
        self.runs.iter().flat_map(MergedRun::unsuccessful).collect()
    }
}

impl fmt::Display for MergeSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for path in &self.skipped {
            writeln!(f, "skipped {}: JSON, but not a run record", path.display())?;
        }
        for run in &self.runs {
            let (passed, failed, errors) = run.counts();
            writeln!(
                f,
                "merged {} shard record{} of {}: {} eval{}, {passed} passed, {failed} failed, {errors} could not be \
                 scored; {:.1} s from the first shard's start to the last one's end",
                run.shards(),
                if run.shards() == 1 { "" } else { "s" },
                run.binary(),
                passed + failed + errors,
                if passed + failed + errors == 1 { "" } else { "s" },
                run.duration_ms() as f64 / 1000.0,
            )?;
        }
        if let Some(path) = &self.first_baseline {
            writeln!(f, "no score baseline at {} yet: this merge saves the first; nothing compared", path.display())?;
        }
        if let Some((path, max)) = &self.compared {
            let margin =
                max.map_or_else(|| "no --max-score-drop: deltas only".to_owned(), |m| format!("--max-score-drop {m}"));
            writeln!(f, "compared with the score baseline {} ({margin})", path.display())?;
        }
        for r in &self.regressions {
            let max = self.compared.as_ref().and_then(|(_, max)| *max).unwrap_or_default();
            writeln!(
                f,
                "regressed: {} scored {:.2}, {:.2} below its baseline {:.2}: more than --max-score-drop {max} allows",
                r.eval,
                r.score,
                r.baseline - r.score,
                r.baseline
            )?;
        }
        let reports: Vec<String> = self.reports.iter().map(|p| p.display().to_string()).collect();
        writeln!(f, "reports: {}", reports.join(", "))?;
        if let Some((path, n)) = &self.saved {
            writeln!(f, "saved {n} scores to the score baseline {}", path.display())?;
        }
        if let Some(path) = &self.job_summary {
            writeln!(f, "appended the merged table to the job summary {}", path.display())?;
        }
        match self.unsuccessful().as_slice() {
            [] => write!(f, "the merged run passed"),
            evals => write!(
                f,
                "the merged run failed: {} eval{} failed or could not be scored: {}",
                evals.len(),
                if evals.len() == 1 { "" } else { "s" },
                evals.join(", ")
            ),
        }
    }
}
