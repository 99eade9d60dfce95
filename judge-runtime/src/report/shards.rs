//! One run made of several: `cargo nextest run --partition count:K/N` on N machines leaves N run
//! records (each machine's `JUDGE_REPORT_DIR/BINARY.json`), and `cargo judge merge` (the
//! cargo-judge crate) makes them one run: it reads each with [`ShardRecord::parse`], merges them
//! per test binary with [`merge`], applies the score-baseline gate to the merged run
//! ([`MergedRun::gate`]) and writes its reports with the renderers every run uses.
//!
//! A merged run starts with its earliest shard and ends with its latest; its `run_id` joins the
//! shards' run ids with `+`. An eval recorded by two shards must have the same result in both
//! (a shard's directory passed twice): two different results are a [`Conflict`], never a silent
//! pick.

use std::collections::{BTreeMap, BTreeSet};

use crate::baseline::ScoreBaseline;
use crate::outcome::{FailureKind, VerdictSource};
use crate::report::record::{EvalRecord, FORMAT, RunRecord, Status};
use crate::report::{files, html, junit, markdown, message};

/// The run-record format this version reads and writes.
pub const RECORD_FORMAT: u32 = FORMAT;

/// One shard's record of one test binary, read from its JSON report.
#[derive(Debug, Clone)]
pub struct ShardRecord {
    record: RunRecord,
}

/// Why a JSON report cannot be merged. The messages do not name the file: the caller does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The text is not JSON (a truncated or damaged file).
    #[error("it is not JSON ({0})")]
    NotJson(String),
    /// A run record of another format, written by another version of judge-runtime.
    #[error("it is a run record of format {found}, and this version reads format {RECORD_FORMAT} only")]
    OtherFormat {
        /// The format the file holds.
        found: String,
    },
    /// A run record of this format that does not read as one (a field missing or of another type).
    #[error("it is not a valid run record of format {RECORD_FORMAT} ({0})")]
    Invalid(String),
}

impl ShardRecord {
    /// Reads the text of a JSON report. `Ok(None)` for JSON that is not a run record (an object
    /// without `format`, `run_id`, `binary` and `evals`, such as a score baseline kept beside the
    /// reports).
    pub fn parse(text: &str) -> Result<Option<Self>, RecordError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| RecordError::NotJson(e.to_string()))?;
        let is_record = value
            .as_object()
            .is_some_and(|fields| ["format", "run_id", "binary", "evals"].iter().all(|key| fields.contains_key(*key)));
        if !is_record {
            return Ok(None);
        }
        if value["format"].as_u64() != Some(u64::from(FORMAT)) {
            return Err(RecordError::OtherFormat { found: value["format"].to_string() });
        }
        let record = serde_json::from_value(value).map_err(|e| RecordError::Invalid(e.to_string()))?;
        Ok(Some(Self { record }))
    }

    /// The test binary the record is of, e.g. `evals`.
    pub fn binary(&self) -> &str {
        &self.record.binary
    }

    /// How many evals it holds.
    pub fn evals(&self) -> usize {
        self.record.evals.len()
    }
}

/// Two shards recorded one eval with different results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The test binary.
    pub binary: String,
    /// The eval's name.
    pub eval: String,
    /// The two shards, as indices into the records given to [`merge`].
    pub shards: [usize; 2],
}

/// The merged run of one test binary.
#[derive(Debug, Clone)]
pub struct MergedRun {
    record: RunRecord,
    shards: usize,
}

/// An eval whose score fell below the score baseline's by more than `max_score_drop`.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    /// The eval's name.
    pub eval: String,
    /// Its score in the merged run.
    pub score: f64,
    /// The baseline's score.
    pub baseline: f64,
}

/// Merges shard records into one run per test binary, in binary name order. An eval in two
/// records must have the same result in both (its wall times and whether its verdicts were
/// judged or cached aside): else the [`Conflict`].
pub fn merge(shards: &[ShardRecord]) -> Result<Vec<MergedRun>, Conflict> {
    struct Building {
        record: RunRecord,
        run_ids: BTreeSet<String>,
        /// Each eval, and the shard it came from.
        evals: BTreeMap<String, (usize, EvalRecord)>,
        shards: usize,
    }
    let mut runs: BTreeMap<String, Building> = BTreeMap::new();
    for (index, ShardRecord { record }) in shards.iter().enumerate() {
        let run = runs.entry(record.binary.clone()).or_insert_with(|| Building {
            record: RunRecord { evals: Vec::new(), ..record.clone() },
            run_ids: BTreeSet::new(),
            evals: BTreeMap::new(),
            shards: 0,
        });
        run.record.extend_run(record);
        run.run_ids.insert(record.run_id.clone());
        run.shards += 1;
        for eval in &record.evals {
            match run.evals.get(&eval.name) {
                Some((earlier, recorded)) if !same_result(recorded, eval) => {
                    return Err(Conflict {
                        binary: record.binary.clone(),
                        eval: eval.name.clone(),
                        shards: [*earlier, index],
                    });
                }
                Some(_) => {}
                None => {
                    run.evals.insert(eval.name.clone(), (index, eval.clone()));
                }
            }
        }
    }
    Ok(runs
        .into_values()
        .map(|Building { mut record, run_ids, evals, shards }| {
            record.run_id = run_ids.into_iter().collect::<Vec<_>>().join("+");
            record.merge(evals.into_values().map(|(_, eval)| eval));
            MergedRun { record, shards }
        })
        .collect())
}

/// Whether two records of one eval tell the same result: equal but for wall times and where the
/// verdicts came from (a rerun of a shard reads them from the cache).
fn same_result(a: &EvalRecord, b: &EvalRecord) -> bool {
    let timeless = |eval: &EvalRecord| {
        let mut eval = eval.clone();
        eval.duration_ms = 0;
        for sample in &mut eval.samples {
            sample.latency_ms = 0;
            sample.source = VerdictSource::Cached;
        }
        eval
    };
    timeless(a) == timeless(b)
}

impl MergedRun {
    /// The test binary, e.g. `evals`.
    pub fn binary(&self) -> &str {
        &self.record.binary
    }

    /// How many shard records it was merged from.
    pub fn shards(&self) -> usize {
        self.shards
    }

    /// Counts of passed, failed and errored evals.
    pub fn counts(&self) -> (usize, usize, usize) {
        self.record.counts()
    }

    /// The run's wall time, from its earliest shard's start to its latest shard's end, in
    /// milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.record.duration_ms
    }

    /// The names of the evals that failed or could not be scored, in name order.
    pub fn unsuccessful(&self) -> Vec<&str> {
        self.record.evals.iter().filter(|e| e.status != Status::Passed).map(|e| e.name.as_str()).collect()
    }

    /// Each scored eval's name and score, for the score baseline.
    pub fn scores(&self) -> Vec<(&str, f64)> {
        self.record.evals.iter().filter_map(|e| Some((e.name.as_str(), e.score?))).collect()
    }

    /// The score-baseline gate over the merged run: each scored eval the baseline holds gets its
    /// delta; with `max_score_drop`, one that fell by more fails (unless it failed already, for a
    /// reason that comes first). Returns every regression, in name order. The gate can fail an
    /// eval, never pass one that failed on its shard.
    pub fn gate(&mut self, baseline: &ScoreBaseline, max_score_drop: Option<f64>) -> Vec<Regression> {
        let mut regressions = Vec::new();
        for eval in &mut self.record.evals {
            let Some(score) = eval.score else { continue };
            let Some(delta) = baseline.compare(&eval.name, score, max_score_drop) else { continue };
            eval.baseline = Some(delta);
            let Some(max) = max_score_drop.filter(|_| delta.regressed) else { continue };
            regressions.push(Regression { eval: eval.name.clone(), score, baseline: delta.score });
            if eval.status == Status::Passed {
                eval.status = Status::Failed;
                eval.failure = Some(FailureKind::Regression);
                let threshold = eval.threshold.unwrap_or_default();
                eval.message = Some(message::regressed_in_merged_run(score, delta, max, threshold));
            }
        }
        regressions
    }

    /// The JSON report: the merged run record.
    pub fn json(&self) -> String {
        files::json_text(&self.record)
    }

    /// The JUnit XML report.
    pub fn junit(&self) -> String {
        junit::render(&self.record)
    }

    /// The HTML report.
    pub fn html(&self) -> String {
        html::render(&self.record)
    }

    /// The Markdown report (the table a job summary shows).
    pub fn markdown(&self) -> String {
        markdown::render(&self.record.binary, &self.record.evals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run record of `binary` by run `run_id`, from `started` for `duration` ms, with `evals`
    /// given as (name, status, score).
    fn shard(binary: &str, run_id: &str, started: u64, duration: u64, evals: &[(&str, &str, f64)]) -> String {
        let evals: Vec<serde_json::Value> = evals
            .iter()
            .map(|(name, status, score)| {
                serde_json::json!({
                    "name": format!("{}::{name}", binary.replace('-', "_")), "file": "tests/evals.rs", "line": 1,
                    "rubric": "r", "judge": "openai:fake", "threshold": 0.5, "status": status, "score": score,
                    "stats": {"median": score, "min": score, "max": score, "std_dev": 0.0, "trim": 0.15,
                              "reduce": "trimmed_mean"},
                    "message": null, "baseline": null, "usage": {"prompt_tokens": 10, "completion_tokens": 2},
                    "duration_ms": 5, "snapshot": null, "cost": 0.25,
                    "samples": [{"score": score, "raw_score": score * 10.0, "scale": {"min": 0, "max": 10},
                                 "method": "stated", "trimmed": false, "rationale": "why", "output": "out",
                                 "output_chars": 3, "source": "judged",
                                 "usage": {"prompt_tokens": 10, "completion_tokens": 2}, "latency_ms": 4}]
                })
            })
            .collect();
        serde_json::json!({
            "format": FORMAT, "run_id": run_id, "binary": binary, "started_unix": started / 1000,
            "started_unix_ms": started, "duration_ms": duration, "evals": evals
        })
        .to_string()
    }

    fn parsed(text: &str) -> ShardRecord {
        ShardRecord::parse(text).unwrap().expect("a run record")
    }

    #[test]
    fn reads_run_records_and_tells_other_json_apart() {
        let record = parsed(&shard("evals", "a", 1_000, 10, &[("x", "passed", 0.9)]));
        assert_eq!((record.binary(), record.evals()), ("evals", 1));
        assert!(ShardRecord::parse(r#"{"format": 1, "scores": {"evals::x": 0.9}}"#).unwrap().is_none());
        assert!(matches!(ShardRecord::parse("{\"format\": 1, \"run_"), Err(RecordError::NotJson(_))));
        let other = shard("evals", "a", 1_000, 10, &[]).replace("\"format\":1", "\"format\":2");
        let error = ShardRecord::parse(&other).unwrap_err().to_string();
        assert_eq!(error, "it is a run record of format 2, and this version reads format 1 only");
        let broken = shard("evals", "a", 1_000, 10, &[]).replace("\"evals\":[]", "\"evals\":{}");
        assert!(matches!(ShardRecord::parse(&broken), Err(RecordError::Invalid(_))), "{broken}");
    }

    #[test]
    fn shards_merge_into_one_run_per_binary_from_the_earliest_start_to_the_latest_end() {
        let shards = [
            parsed(&shard("evals", "nextest-b", 2_000, 500, &[("c", "failed", 0.2), ("a", "passed", 0.9)])),
            parsed(&shard("evals", "nextest-a", 1_000, 300, &[("b", "passed", 0.8)])),
            parsed(&shard("other", "nextest-c", 5_000, 100, &[("z", "error", 0.0)])),
            // The first shard's directory passed twice: the same results, read once.
            parsed(&shard("evals", "nextest-b", 2_000, 500, &[("c", "failed", 0.2), ("a", "passed", 0.9)])),
        ];
        let runs = merge(&shards).unwrap();
        let [evals, other] = runs.as_slice() else { panic!("two binaries: {runs:?}") };
        assert_eq!((evals.binary(), evals.shards(), other.binary()), ("evals", 3, "other"));
        let names: Vec<&str> = evals.record.evals.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["evals::a", "evals::b", "evals::c"]);
        assert_eq!(evals.counts(), (2, 1, 0));
        assert_eq!(evals.unsuccessful(), ["evals::c"]);
        assert_eq!((evals.record.started_unix_ms, evals.duration_ms()), (1_000, 1_500));
        assert_eq!(evals.record.run_id, "nextest-a+nextest-b");
        assert_eq!(evals.record.cost, Some(0.75), "the run's cost is its evals' costs");
        let json: serde_json::Value = serde_json::from_str(&evals.json()).unwrap();
        assert_eq!(json["evals"].as_array().unwrap().len(), 3);
        assert_eq!(evals.junit().matches("<testcase ").count(), 3);
        assert!(evals.markdown().contains("evals::b") && evals.html().contains("evals::b"));
    }

    #[test]
    fn one_eval_with_two_results_is_a_conflict() {
        let timing =
            shard("evals", "r2", 9_000, 70, &[("a", "passed", 0.9)]).replace("\"latency_ms\":4", "\"latency_ms\":9");
        let rerun = parsed(&timing.replace("\"source\":\"judged\"", "\"source\":\"cached\""));
        let shards = [parsed(&shard("evals", "r1", 1_000, 10, &[("a", "passed", 0.9)])), rerun];
        assert!(merge(&shards).is_ok(), "a rerun that read its verdicts from the cache has the same result");
        let shards = [
            parsed(&shard("evals", "r1", 1_000, 10, &[("a", "passed", 0.9), ("b", "passed", 0.9)])),
            parsed(&shard("evals", "r2", 1_000, 10, &[("c", "passed", 0.9)])),
            parsed(&shard("evals", "r3", 1_000, 10, &[("b", "failed", 0.1)])),
        ];
        let conflict = merge(&shards).unwrap_err();
        assert_eq!(conflict, Conflict { binary: "evals".into(), eval: "evals::b".into(), shards: [0, 2] });
    }

    #[test]
    fn the_gate_fails_what_fell_past_the_margin_over_the_merged_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        let saved = [("evals::a", 0.9), ("evals::b", 0.9), ("evals::c", 0.9)];
        std::fs::write(&path, ScoreBaseline::with_scores(&path, saved).unwrap()).unwrap();
        let baseline = ScoreBaseline::read(&path).unwrap();
        let shards = [
            parsed(&shard("evals", "r1", 1_000, 10, &[("a", "passed", 0.85), ("b", "passed", 0.6)])),
            parsed(&shard("evals", "r2", 1_000, 10, &[("c", "failed", 0.2), ("d", "passed", 0.1)])),
        ];
        let mut run = merge(&shards).unwrap().remove(0);
        let regressions = run.gate(&baseline, Some(0.1));
        let fell: Vec<&str> = regressions.iter().map(|r| r.eval.as_str()).collect();
        assert_eq!(fell, ["evals::b", "evals::c"]);
        assert_eq!(run.unsuccessful(), ["evals::b", "evals::c"]);
        let b = &run.record.evals[1];
        assert_eq!((b.status, b.failure), (Status::Failed, Some(FailureKind::Regression)));
        let message = b.message.as_deref().unwrap();
        assert!(message.starts_with("scored 0.60, 0.30 below its baseline 0.90: more than max_score_drop 0.10"));
        assert!(message.contains("cargo judge merge"), "{message}");
        let c = &run.record.evals[2];
        assert_eq!(c.failure, None, "a failure of its own shard stays as it was");
        assert!(run.record.evals[0].baseline.is_some_and(|d| !d.regressed && d.delta == -0.05));
        assert!(run.record.evals[3].baseline.is_none(), "not in the baseline");
        assert!(run.gate(&baseline, None).is_empty(), "no margin: deltas only");
        assert_eq!(run.scores().len(), 4);
    }
}
