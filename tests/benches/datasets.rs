//! Large datasets: how long listing takes, and the time and peak memory of judging every row.
//!
//! `cargo bench -p judge-tests --bench datasets`, with `BENCH_ROWS` rows (default 100 000). It
//! writes a JSONL dataset of that many support questions to `target/judge-bench/large.jsonl`, then
//! runs `suite-large-dataset` as a user would: `--list` (a test per row; reads the file, nothing
//! else), then its gated eval (one test judging every row), then its eval with a test per row,
//! against the in-process fake judge with no latency, so that the harness sets the pace. Peak memory is the process's VmHWM, read from
//! /proc while it runs. It prints figures and asserts no timing; it asserts facts: every row is
//! listed, and every row is judged once.

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use judge_tests::{FakeJudge, FakeJudgeConfig, harness};

/// The goals the issue sets, at 100 000 rows.
const LIST_GOAL: Duration = Duration::from_secs(1);
const PEAK_GOAL_MB: f64 = 300.0;

fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::var("BENCH_ROWS").ok().map(|v| v.parse()).transpose()?.unwrap_or(100_000);
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = manifest.join("../target/judge-bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("large.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    for i in 0..rows {
        writeln!(
            file,
            r#"{{"id": "q-{i}", "input": "Where is my order number {i}?", "expected": "Use the tracking link.", "max_words": 40}}"#
        )?;
    }
    file.flush()?;
    let size = std::fs::metadata(&path)?.len();
    let binary = env!("CARGO_BIN_EXE_suite-large-dataset");
    println!("dataset: {rows} rows, {:.1} MB of JSONL", size as f64 / 1e6);

    // Listing: a test per row of `rows`, one for `gate`.
    let mut listing = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let out = harness(binary).arg("--list").output()?;
        listing.push(start.elapsed());
        anyhow::ensure!(out.status.success(), "--list failed: {}", String::from_utf8_lossy(&out.stderr));
        let listed = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.ends_with(": test")).count();
        anyhow::ensure!(listed == rows + 1, "listed {listed} tests, expected {}", rows + 1);
    }
    listing.sort();
    let median = listing[1];
    println!(
        "list:  {:.3} s for {} tests (median of 3; goal < {:.0} s at 100 000 rows)",
        median.as_secs_f64(),
        rows + 1,
        LIST_GOAL.as_secs_f64()
    );

    // The gated eval: every row in one test, at once under the in-flight limit; then the eval
    // with a test per row, each judged anew (its own cache).
    let judge = FakeJudge::start_with(FakeJudgeConfig { latency: Duration::ZERO, ..Default::default() });
    for (what, args) in [
        ("gated (one test)", &["--exact", "suite_large_dataset::gate"][..]),
        ("a test per row", &["--skip", "suite_large_dataset::gate", "-q"][..]),
    ] {
        let before = judge.requests();
        let (wall, peak_mb) = judged(binary, &judge, args)?;
        let requests = judge.requests() - before;
        anyhow::ensure!(requests == rows as u64, "{requests} requests for {rows} rows");
        println!(
            "run, {what}: {:.2} s for {rows} rows judged ({:.0} rows/s), peak memory {peak_mb:.0} MB (goal < \
             {PEAK_GOAL_MB:.0} MB)",
            wall.as_secs_f64(),
            rows as f64 / wall.as_secs_f64()
        );
    }
    Ok(())
}

/// Runs the suite with `args` against `judge`, with an empty cache: its wall time and peak memory.
fn judged(binary: &str, judge: &FakeJudge, args: &[&str]) -> anyhow::Result<(Duration, f64)> {
    let cache = tempfile::tempdir()?;
    let start = Instant::now();
    let mut child = harness(binary)
        .args(args)
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("OPENAI_API_KEY", "bench")
        .env("JUDGE_CACHE_DIR", cache.path())
        .env("JUDGE_PROGRESS", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let mut peak_kb = 0u64;
    // Read from other threads, so that a full pipe cannot stall the child.
    let (mut stdout, mut stderr) = (child.stdout.take().expect("piped"), child.stderr.take().expect("piped"));
    let out = std::thread::spawn(move || std::io::read_to_string(&mut stdout));
    let err = std::thread::spawn(move || std::io::read_to_string(&mut stderr));
    let status = loop {
        if let Some(kb) = vm_hwm_kb(pid) {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = start.elapsed();
    let (out, err) = (out.join().expect("reader")?, err.join().expect("reader")?);
    anyhow::ensure!(status.success(), "the run failed: {out}{err}");
    Ok((wall, peak_kb as f64 / 1024.0))
}

/// The peak resident memory of process `pid` so far, in kB (`VmHWM` in /proc/PID/status).
fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
