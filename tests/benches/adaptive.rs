//! Adaptive samples against fixed ones: `cargo bench -p judge-tests --bench adaptive`.
//!
//! BENCH_EVALS evals (500) whose true mean scores are spread evenly over 0..=1, each sample's score
//! drawn around its eval's mean with a standard deviation of 0.15 of the scale, rounded to the
//! 0–10 scale and clipped (the fake judge's `[normal:MEAN]`), threshold 0.7, the trimmed mean; the
//! fake judge answers after BENCH_LATENCY_MS (20 ms), 16 requests in flight. Each method runs with
//! an empty cache: `samples = "adaptive"` (3..=15), fixed 7 and fixed 15. Prints each method's judge
//! calls, wall time and how many of its decisions differ from fixed 15's, which sees the most
//! samples; then a rerun of the adaptive run on its cache (no judge call, the same decisions).
//! Prints figures; asserts no timings.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use judge_tests::{FakeJudge, FakeJudgeConfig, harness};
use serde_json::Value;

fn main() -> anyhow::Result<()> {
    let evals: usize = std::env::var("BENCH_EVALS").ok().map(|v| v.parse()).transpose()?.unwrap_or(500);
    let latency: u64 = std::env::var("BENCH_LATENCY_MS").ok().map(|v| v.parse()).transpose()?.unwrap_or(20);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/judge-bench");
    std::fs::create_dir_all(&dir)?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(dir.join("adaptive.jsonl"))?);
    for i in 0..evals {
        // Evenly spread means, from 0 to 1.
        let mean = i as f64 / (evals - 1).max(1) as f64;
        writeln!(file, r#"{{"id": "e{i}", "input": "question {i}", "expected": "answer {i}", "mean": {mean}}}"#)?;
    }
    file.flush()?;
    drop(file);
    let judge = FakeJudge::start_with(FakeJudgeConfig {
        latency: Duration::from_millis(latency),
        ..FakeJudgeConfig::default()
    });
    println!(
        "{evals} evals, true means spread over 0..=1, sd 0.15, threshold 0.7, judge latency {latency} ms, 16 in flight"
    );

    let cache = tempfile::tempdir()?;
    let mut decisions = BTreeMap::new();
    for (method, samples, cache_dir) in [
        ("fixed 15", "15", None),
        ("fixed 7", "7", None),
        ("adaptive 3..=15", "adaptive", Some(cache.path())),
        ("adaptive, rerun on its cache", "adaptive", Some(cache.path())),
    ] {
        let before = judge.requests();
        let (wall, decided, drawn) = run(&judge, samples, cache_dir)?;
        let calls = judge.requests() - before;
        decisions.entry(method).or_insert(decided.clone());
        let reference = &decisions["fixed 15"];
        let differ = decided.iter().filter(|(name, passed)| reference.get(*name) != Some(passed)).count();
        let ideal = Duration::from_millis(latency * calls / 16);
        println!(
            "{method:<30} judge calls {calls:>5} ({:.2} per eval), wall {:.2} s (ideal {:.2} s), decisions differing \
             from fixed 15: {differ}",
            drawn as f64 / evals as f64,
            wall.as_secs_f64(),
            ideal.as_secs_f64(),
        );
    }
    Ok(())
}

/// Runs the suite with `JUDGE_SAMPLES=samples` (a fresh cache unless `cache` is given): its wall
/// time, each eval's decision (passed or not), and the samples drawn in all.
fn run(
    judge: &FakeJudge,
    samples: &str,
    cache: Option<&Path>,
) -> anyhow::Result<(Duration, BTreeMap<String, bool>, usize)> {
    let fresh = tempfile::tempdir()?;
    let reports = tempfile::tempdir()?;
    let start = Instant::now();
    let output = harness(env!("CARGO_BIN_EXE_suite-adaptive-bench"))
        .args(["-q"])
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("OPENAI_API_KEY", "bench")
        .env("JUDGE_CACHE_DIR", cache.unwrap_or(fresh.path()))
        .env("JUDGE_REPORT_JSON", reports.path().join("run.json"))
        .env("JUDGE_PROGRESS", "off")
        .env("JUDGE_SAMPLES", samples)
        .env("JUDGE_THRESHOLD", "0.7")
        .output()?;
    let wall = start.elapsed();
    anyhow::ensure!(
        matches!(output.status.code(), Some(0 | 101)),
        "the run failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(reports.path().join("run.json"))?)?;
    let mut decided = BTreeMap::new();
    let mut drawn = 0;
    for eval in report["evals"].as_array().into_iter().flatten() {
        anyhow::ensure!(eval["status"] != "error", "an eval was not scored: {eval}");
        decided.insert(eval["name"].as_str().unwrap_or_default().to_owned(), eval["status"] == "passed");
        drawn += eval["samples"].as_array().map_or(0, Vec::len);
    }
    Ok((wall, decided, drawn))
}
