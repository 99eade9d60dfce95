//! Throughput of the harness against a judge with a fixed latency.
//!
//! `cargo bench -p judge-tests --bench throughput`, shaped by environment variables:
//! `BENCH_EVALS` (N, default 200), `BENCH_SAMPLES` (k, 7), `BENCH_LATENCY_MS` (L, 200) and
//! `BENCH_CONCURRENCY` (C, 32).
//!
//! A generated suite of N evals × k samples (see `judge_tests::generated_suite`) runs as a
//! subprocess against the in-process fake judge, whose every answer takes L, with
//! `JUDGE_MAX_CONCURRENCY=C`: first with an empty cache, where the ideal wall time is N·k·L/C (the
//! in-flight limit always full, nothing else costing anything); then again with the same cache,
//! where nothing is judged. It prints figures and asserts no timing, which belongs to the machine;
//! it asserts only facts: every eval passes, and the cached run sends no request.
//!
//! Then the verdict cache on an object store against a directory: the same suite with a judge that
//! answers at once (so that the cache sets the pace), its verdicts written to and read from moto's
//! S3-compatible server on 127.0.0.1 (`JUDGE_CACHE_DIR=s3://…`; skipped without
//! `pip install -r tests/requirements-s3.txt`), and from a directory.

use std::fs::File;
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context;
use judge_tests::generated_suite::GeneratedSuite;
use judge_tests::{FakeJudge, FakeJudgeConfig, HarnessRun, S3Server, moto_installed};

/// The goal for a cold run's wall time over the ideal, at N=200, k=7, L=200 ms, C=32.
const RATIO_GOAL: f64 = 1.10;
/// The goal for a fully cached run's wall time.
const CACHED_GOAL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
struct Params {
    evals: usize,
    samples: u32,
    latency: Duration,
    concurrency: usize,
}

impl Params {
    fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            evals: env_or("BENCH_EVALS", 200)?,
            samples: env_or("BENCH_SAMPLES", 7)?,
            latency: Duration::from_millis(env_or("BENCH_LATENCY_MS", 200)?),
            concurrency: env_or("BENCH_CONCURRENCY", 32)?,
        })
    }

    fn requests(&self) -> u64 {
        self.evals as u64 * u64::from(self.samples)
    }

    /// N·k·L/C: every request waits L and the in-flight limit is always full.
    fn ideal(&self) -> Duration {
        self.latency.mul_f64(self.requests() as f64 / self.concurrency as f64)
    }

    /// ⌈N·k/C⌉·L: some slot of the in-flight limit serves at least that many requests in a row.
    fn lower_bound(&self) -> Duration {
        self.latency * self.requests().div_ceil(self.concurrency as u64) as u32
    }
}

/// One run of the suite, as seen from outside.
struct Measured {
    wall: Duration,
    /// What libtest's summary line says, which leaves out process start and exit.
    libtest: Option<Duration>,
    requests: u64,
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; `cargo test --benches` (or `--all-targets`) does not, and a
    // test run should not spend a minute here.
    if !std::env::args().any(|arg| arg == "--bench") {
        eprintln!("throughput: a benchmark; run it with `cargo bench -p judge-tests --bench throughput`");
        return Ok(());
    }
    let params = Params::from_env()?;
    anyhow::ensure!(params.evals > 0 && params.samples > 0 && params.concurrency > 0, "N, k and C must be positive");
    let workspace_root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("the workspace root")?;
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().context("the target directory")?;
    let bench_dir = target_dir.join("judge-bench");
    let suite_dir = bench_dir.join("suite");
    let logs = bench_dir.join("logs");
    std::fs::create_dir_all(&logs)?;

    let Params { evals, samples, latency, concurrency } = params;
    println!(
        "judge throughput: {evals} evals × {samples} samples, judge latency {latency:?}, max concurrency {concurrency}"
    );
    // `s3`: the bench also keeps the suite's verdicts on an object store.
    let suite = GeneratedSuite { evals, samples, workspace_profiles: true, features: &["s3"] };
    suite.write(&suite_dir, workspace_root)?;
    let started = Instant::now();
    let executable = GeneratedSuite::build(&suite_dir, target_dir)?;
    println!("suite {} built (or found up to date) in {}", suite_dir.display(), secs(started.elapsed()));

    let judge = FakeJudge::start_with(FakeJudgeConfig { latency, allow_missing_context: false, ..Default::default() });
    let cache = tempfile::Builder::new().prefix("cache-").tempdir_in(&bench_dir)?;
    let run = |label: &str| {
        run_suite(&executable, &suite_dir, &judge, params, cache.path().as_os_str(), &[], &logs.join(label))
    };

    let cold = run("cold")?;
    let max_in_flight = judge.max_in_flight();
    let (ideal, lower_bound) = (params.ideal(), params.lower_bound());
    let wall_over_ideal = ratio(cold.wall, ideal);
    println!("\ncold run (empty cache):");
    println!("  wall time        {}{}", secs(cold.wall), libtest_note(&cold));
    println!("  requests         {} (N·k = {})", cold.requests, params.requests());
    println!("  max in flight    {max_in_flight}");
    println!("  ideal N·k·L/C    {}", secs(ideal));
    println!(
        "  wall / ideal     {}   (goal ≤ {RATIO_GOAL:.2} at N=200, k=7, L=200ms, C=32)",
        fixed(wall_over_ideal, 3)
    );
    // With whole requests, some slot of the limit serves ⌈N·k/C⌉ of them in a row: the ideal is
    // out of reach by that rounding alone when N·k is not a multiple of C (200 × 1 at C=32: 12 %).
    println!(
        "  lower bound      {} = ⌈N·k/C⌉·L; wall / lower bound {}",
        secs(lower_bound),
        fixed(ratio(cold.wall, lower_bound), 3)
    );

    let cached = run("cached")?;
    println!("\ncached run (same cache):");
    println!("  wall time        {}{}   (goal ≤ {})", secs(cached.wall), libtest_note(&cached), secs(CACHED_GOAL));
    println!("  requests         {}", cached.requests);
    drop(judge);
    // A correctness fact, not a timing: a fully cached run judges nothing.
    assert_eq!(cached.requests, 0, "the cached run sent judge requests; logs in {}", logs.display());

    let shape = format!("{evals} × {samples}");
    let latency = format!("{} ms", params.latency.as_millis());
    println!(
        "\n| run | evals × samples | judge latency | max concurrency | judge requests | max in flight | wall time | ideal N·k·L/C | wall / ideal |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| empty cache | {shape} | {latency} | {concurrency} | {} | {max_in_flight} | {} | {} | {} |",
        cold.requests,
        secs(cold.wall),
        secs(ideal),
        fixed(wall_over_ideal, 2)
    );
    println!(
        "| fully cached | {shape} | {latency} | {concurrency} | {} | — | {} | — | — |",
        cached.requests,
        secs(cached.wall)
    );
    drop(cache);
    store_against_dir(&executable, &suite_dir, params, &bench_dir, &logs)
}

/// The verdict cache on moto's S3-compatible server against a directory: a cold run (every
/// verdict judged at once and written) and a cached rerun (every verdict read) of each.
fn store_against_dir(
    executable: &Path,
    suite_dir: &Path,
    params: Params,
    bench_dir: &Path,
    logs: &Path,
) -> anyhow::Result<()> {
    if !moto_installed() {
        println!("\nverdict cache on an object store: skipped (pip install -r tests/requirements-s3.txt)");
        return Ok(());
    }
    let server = S3Server::start(&logs.join("moto.log")).map_err(anyhow::Error::msg)?;
    server.create_bucket("bench");
    let judge = FakeJudge::start_with(FakeJudgeConfig { allow_missing_context: false, ..Default::default() });
    let params = Params { latency: Duration::ZERO, ..params };
    let dir = tempfile::Builder::new().prefix("cache-").tempdir_in(bench_dir)?;
    let aws: Vec<(&str, String)> = vec![
        ("AWS_ENDPOINT_URL", server.endpoint()),
        ("AWS_ACCESS_KEY_ID", "bench".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ];
    let store = std::ffi::OsString::from("s3://bench/verdicts");
    let run = |cache: &std::ffi::OsStr, vars: &[(&str, String)], label: &str| {
        run_suite(executable, suite_dir, &judge, params, cache, vars, &logs.join(label))
    };
    let dir_cold = run(dir.path().as_os_str(), &[], "dir-cold")?;
    let dir_cached = run(dir.path().as_os_str(), &[], "dir-cached")?;
    let store_cold = run(&store, &aws, "s3-cold")?;
    let store_cached = run(&store, &aws, "s3-cached")?;
    anyhow::ensure!(
        dir_cached.requests == 0 && store_cached.requests == 0,
        "a cached run sent judge requests; logs in {}",
        logs.display()
    );
    let verdicts = params.requests();
    anyhow::ensure!(server.keys("bench", "verdicts/").len() as u64 == verdicts.min(1000), "the store lacks verdicts");
    let rate = |m: &Measured| format!("{:.0}", verdicts as f64 / m.wall.as_secs_f64());
    println!("\nverdict cache, {verdicts} verdicts, judge latency 0 ms, max concurrency {}:", params.concurrency);
    println!("| cache | cold run: judged and written | verdicts/s | cached rerun: read | verdicts/s |");
    println!("|---|---|---|---|---|");
    for (name, cold, cached) in
        [("directory", &dir_cold, &dir_cached), ("S3 (moto, 127.0.0.1)", &store_cold, &store_cached)]
    {
        println!("| {name} | {} | {} | {} | {} |", secs(cold.wall), rate(cold), secs(cached.wall), rate(cached));
    }
    println!("cached rerun from the store / from a directory: {}", fixed(ratio(store_cached.wall, dir_cached.wall), 2));
    Ok(())
}

/// Runs the suite's executable as `cargo test` would, against `judge`, and measures it from spawn to
/// exit. Its output goes to `log.stdout` and `log.stderr`. A run that does not pass is an error.
fn run_suite(
    executable: &Path,
    suite_dir: &Path,
    judge: &FakeJudge,
    params: Params,
    cache_dir: &std::ffi::OsStr,
    vars: &[(&str, String)],
    log: &Path,
) -> anyhow::Result<Measured> {
    let (stdout_path, stderr_path) = (log.with_extension("stdout"), log.with_extension("stderr"));
    let mut command = GeneratedSuite::command(executable, suite_dir, &judge.base_url(), params.concurrency, cache_dir);
    command
        .env("JUDGE_CACHE", "on")
        .envs(vars.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path)?)
        .stderr(File::create(&stderr_path)?);
    let requests_before = judge.requests();
    let started = Instant::now();
    let mut child = command.spawn().with_context(|| format!("start {}", executable.display()))?;
    // Generous: a hung run is stopped rather than left behind.
    let status = wait_or_kill(&mut child, params.lower_bound() * 20 + Duration::from_secs(120))?;
    let wall = started.elapsed();
    let run = HarnessRun {
        code: status.code(),
        stdout: std::fs::read_to_string(&stdout_path)?,
        stderr: std::fs::read_to_string(&stderr_path)?,
    };
    anyhow::ensure!(run.code == Some(0), "the suite did not pass:\n{}", run.all());
    Ok(Measured { wall, libtest: libtest_time(&run.stdout), requests: judge.requests() - requests_before })
}

/// Waits for `child`, killing it after `limit`. Polls every millisecond, which is below what the
/// bench resolves.
fn wait_or_kill(child: &mut Child, limit: Duration) -> anyhow::Result<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            anyhow::bail!("the suite ran longer than {limit:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The time in libtest's `test result: … finished in 8.85s` line.
fn libtest_time(stdout: &str) -> Option<Duration> {
    let line = stdout.lines().rev().find(|line| line.starts_with("test result:"))?;
    let seconds = line.rsplit_once("finished in ")?.1.trim().strip_suffix('s')?;
    seconds.parse().ok().map(Duration::from_secs_f64)
}

fn libtest_note(run: &Measured) -> String {
    run.libtest.map(|t| format!("   (libtest: {}; the rest is process start and exit)", secs(t))).unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// `a / b`, or `None` when `b` is zero (a judge without latency has no ideal time).
fn ratio(a: Duration, b: Duration) -> Option<f64> {
    (!b.is_zero()).then(|| a.as_secs_f64() / b.as_secs_f64())
}

fn fixed(ratio: Option<f64>, decimals: usize) -> String {
    ratio.map_or_else(|| "—".to_owned(), |r| format!("{r:.decimals$}"))
}

/// The variable `name` parsed as a `T`, or `default` when it is unset or empty.
fn env_or<T: FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => {
            value.trim().parse().map_err(|e| anyhow::anyhow!("{name}={value:?} is not valid: {e}"))
        }
        _ => Ok(default),
    }
}
