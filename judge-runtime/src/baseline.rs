//! The score baseline: a run's scores saved to a small JSON file (committable: one line per eval,
//! sorted, scores rounded), and a later run's scores compared with it. A score that falls by more
//! than `max_score_drop` fails its eval even while above its threshold; every delta is reported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ReportError;

/// Bumped when the file's layout changes.
const FORMAT: u32 = 1;
/// Scores are saved with this many decimals, so that reruns with equal verdicts write equal files.
const DECIMALS: i32 = 4;

/// A score compared with the baseline's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct BaselineDelta {
    /// The baseline's score.
    pub score: f64,
    /// This run's score minus the baseline's.
    pub delta: f64,
    /// Whether the drop is larger than `max_score_drop` allows.
    pub regressed: bool,
}

/// Scores by eval name, as saved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreBaseline {
    format: u32,
    scores: BTreeMap<String, f64>,
}

impl ScoreBaseline {
    /// Reads the baseline at `path`. A missing or unreadable file is an error: a baseline that
    /// was asked for and silently not compared would let a regression through.
    pub(crate) fn load(path: &Path) -> Result<Self, ReportError> {
        Self::read(path).map_err(|reason| ReportError::Baseline { path: path.to_owned(), reason })
    }

    /// Reads the baseline at `path`; the error says what is wrong with the file (the caller names
    /// its setting).
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let baseline = Self::parse(&text)?;
        if baseline.format != FORMAT {
            return Err(format!("format {} is not {FORMAT}: save it again with this version", baseline.format));
        }
        Ok(baseline)
    }

    fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("not a score baseline: {e}"))
    }

    /// `score` of eval `name` against the baseline's, if it holds one. With `max_drop`, a fall of
    /// more than that is a regression.
    pub(crate) fn compare(&self, name: &str, score: f64, max_drop: Option<f64>) -> Option<BaselineDelta> {
        let base = *self.scores.get(name)?;
        let delta = round(score - base);
        Some(BaselineDelta { score: base, delta, regressed: max_drop.is_some_and(|max| -delta > max + 1e-9) })
    }

    /// Adds `scores` (each scored eval's name and score) to the baseline at `path` (keeping the
    /// evals this run did not score: a run of a subset updates only that subset), under a lock
    /// and atomically. A baseline of another format is replaced; a file that is not a baseline is
    /// left alone.
    pub(crate) fn save<'a>(
        lock_dir: &Path,
        path: &Path,
        scores: impl IntoIterator<Item = (&'a str, f64)>,
    ) -> Result<(), ReportError> {
        let failure = |source| ReportError::Write {
            what: "the score baseline",
            setting: "JUDGE_SAVE_SCORE_BASELINE",
            path: path.to_owned(),
            source,
        };
        crate::atomic_file::with_lock(lock_dir, path, || {
            let text = Self::with_scores(path, scores)
                .map_err(|reason| ReportError::Baseline { path: path.to_owned(), reason })?;
            crate::atomic_file::write_durable(path, text.as_bytes()).map_err(failure)
        })
        .map_err(failure)?
    }

    /// The text of the baseline at `path` with `scores` added (the file's other evals kept; a
    /// missing file or one of another format starts afresh), for the caller to write. A file that
    /// is there but is not a baseline, or cannot be read, is an error: its scores would be lost.
    pub fn with_scores<'a>(path: &Path, scores: impl IntoIterator<Item = (&'a str, f64)>) -> Result<String, String> {
        let fresh = Self { format: FORMAT, scores: BTreeMap::new() };
        let mut baseline = match std::fs::read_to_string(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => fresh,
            Err(e) => return Err(e.to_string()),
            Ok(text) => match Self::parse(&text)? {
                old if old.format == FORMAT => old,
                _ => fresh,
            },
        };
        for (name, score) in scores {
            baseline.scores.insert(name.to_owned(), round(score));
        }
        let mut text = crate::json_writer::to_string_pretty(&baseline);
        text.push('\n');
        Ok(text)
    }
}

/// The baseline to compare with, and where to save this run's scores.
#[derive(Debug, Default)]
pub(crate) struct Baselines {
    pub compare: Option<ScoreBaseline>,
    pub max_drop: Option<f64>,
    pub save: Option<PathBuf>,
}

fn round(score: f64) -> f64 {
    let scale = 10f64.powi(DECIMALS);
    (score * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An eval's name and score as the run gives them: none when it could not be scored.
    fn eval(name: &'static str, score: Option<f64>) -> Option<(&'static str, f64)> {
        score.map(|score| (name, score))
    }

    #[test]
    fn saves_merges_and_compares() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline/scores.json");
        let locks = dir.path().join("locks");
        ScoreBaseline::save(
            &locks,
            &path,
            [eval("a", Some(0.8)), eval("b", Some(2.0 / 3.0)), eval("e", None)].into_iter().flatten(),
        )
        .unwrap();
        ScoreBaseline::save(&locks, &path, eval("a", Some(0.9))).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\n  \"format\": 1,\n  \"scores\": {\n    \"a\": 0.9,\n    \"b\": 0.6667\n  }\n}\n");

        let baseline = ScoreBaseline::load(&path).unwrap();
        let same = baseline.compare("a", 0.9, Some(0.05)).unwrap();
        assert_eq!((same.delta, same.regressed), (0.0, false));
        let small = baseline.compare("a", 0.85, Some(0.05)).unwrap();
        assert!(!small.regressed, "a drop of exactly the margin is allowed: {small:?}");
        let big = baseline.compare("a", 0.8, Some(0.05)).unwrap();
        assert_eq!((big.delta, big.regressed), (-0.1, true));
        assert!(!baseline.compare("a", 0.1, None).unwrap().regressed, "no margin: deltas are only reported");
        assert!(baseline.compare("new", 0.5, Some(0.0)).is_none());
    }

    #[test]
    fn a_missing_or_foreign_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = ScoreBaseline::load(&dir.path().join("none.json")).unwrap_err().to_string();
        assert!(missing.contains("JUDGE_SAVE_SCORE_BASELINE"), "{missing}");
        let foreign = dir.path().join("foreign.json");
        std::fs::write(&foreign, "[1, 2]").unwrap();
        let err = ScoreBaseline::load(&foreign).unwrap_err().to_string();
        assert!(err.contains("not a score baseline"), "{err}");
        let locks = dir.path().join("locks");
        assert!(ScoreBaseline::save(&locks, &foreign, eval("a", Some(0.5))).is_err(), "not overwritten");
        assert_eq!(std::fs::read_to_string(&foreign).unwrap(), "[1, 2]");
        let old = dir.path().join("old.json");
        std::fs::write(&old, r#"{"format": 0, "scores": {"x": 1.0}}"#).unwrap();
        assert!(ScoreBaseline::load(&old).unwrap_err().to_string().contains("save it again"));
        ScoreBaseline::save(&locks, &old, eval("a", Some(0.5))).unwrap();
        assert_eq!(ScoreBaseline::load(&old).unwrap().compare("a", 0.5, None).unwrap().delta, 0.0, "replaced");
    }
}
