//! The harness's own cost per judge call, in the build users run: `cargo test`'s debug profile.
//!
//! `cargo bench -p judge-tests --bench hot_path` (`BENCH_ROWS=200x7@200,2000x1@50` picks rows:
//! N evals × k samples @ L ms; `BENCH_CONCURRENCY`, C, defaults to 64; `BENCH_DEPS_OPT_LEVEL=1`
//! builds the dependencies at `opt-level = 1`, as this workspace's `[profile.dev.package."*"]`
//! does, to show what that profile override buys a user).
//!
//! Each row is a generated crate of N evals × k samples, shaped as a user's (no profile override:
//! judge-runtime and every dependency at `opt-level = 0`; default features), each eval returning a
//! fixed output. It runs against the in-process fake judge, which answers after L as OpenAI does
//! when asked for logprobs (every token of a judge-length reply with its `bytes` and 10
//! `top_logprobs`), with an empty cache, default settings (`scoring = "weighted"`, so logprobs are
//! asked for), `JUDGE_PROGRESS=off` and `JUDGE_MAX_CONCURRENCY=C`. Measured from outside:
//!
//! - **CPU per judge call**: the test process's user + system time (wait4's rusage) over the
//!   requests the judge counted;
//! - **wall / ideal**: the wall time over N·k·L/C, the time the judge alone would take with the
//!   in-flight limit always full;
//! - **peak RSS**: the test process's maximum resident set.
//!
//! Before the rows, it prints what the file system charges for one verdict-sized cache entry (a
//! new file, renamed into place), a floor under every judge call's cost that is the machine's.
//!
//! The largest row is run again on its cache, where nothing is judged. It prints figures and
//! asserts only facts (every eval passes, the judge is asked N·k times, the cached run asks
//! nothing), never a timing, which belongs to the machine.

use std::fs::File;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use judge_tests::generated_suite::GeneratedSuite;
use judge_tests::{FakeJudge, FakeJudgeConfig};

/// The suites of the issue that set the goals: N evals × k samples, judge latency.
const ROWS: [Row; 3] = [
    Row { evals: 200, samples: 7, latency_ms: 200 },
    Row { evals: 2_000, samples: 1, latency_ms: 50 },
    Row { evals: 10_000, samples: 1, latency_ms: 20 },
];

#[derive(Debug, Clone, Copy)]
struct Row {
    evals: usize,
    samples: u32,
    latency_ms: u64,
}

impl Row {
    fn requests(self) -> u64 {
        self.evals as u64 * u64::from(self.samples)
    }

    /// N·k·L/C.
    fn ideal(self, concurrency: usize) -> Duration {
        Duration::from_millis(self.latency_ms).mul_f64(self.requests() as f64 / concurrency as f64)
    }

    /// `200x7@200`.
    fn parse(text: &str) -> anyhow::Result<Self> {
        let bad = || format!("{text:?} is not NxK@L (evals × samples @ latency in ms), e.g. 200x7@200");
        let (shape, latency) = text.trim().split_once('@').with_context(bad)?;
        let (evals, samples) = shape.split_once('x').with_context(bad)?;
        Ok(Self {
            evals: evals.parse().with_context(bad)?,
            samples: samples.parse().with_context(bad)?,
            latency_ms: latency.parse().with_context(bad)?,
        })
    }
}

/// What one run of a suite cost, seen from outside.
struct Measured {
    wall: Duration,
    /// User + system CPU time of the test process.
    cpu: Duration,
    /// Of which system time.
    sys: Duration,
    /// Its peak resident set, bytes.
    peak_rss: u64,
    requests: u64,
}

fn main() -> anyhow::Result<()> {
    // `cargo test --benches` runs benches without `--bench`: not the place to spend minutes.
    if !std::env::args().any(|arg| arg == "--bench") {
        eprintln!("hot_path: a benchmark; run it with `cargo bench -p judge-tests --bench hot_path`");
        return Ok(());
    }
    let rows: Vec<Row> = match std::env::var("BENCH_ROWS") {
        Ok(rows) if !rows.trim().is_empty() => rows.split(',').map(Row::parse).collect::<anyhow::Result<_>>()?,
        _ => ROWS.to_vec(),
    };
    let concurrency: usize = match std::env::var("BENCH_CONCURRENCY") {
        Ok(c) if !c.trim().is_empty() => c.trim().parse().context("BENCH_CONCURRENCY is a whole number")?,
        _ => 64,
    };
    ensure!(concurrency > 0 && rows.iter().all(|r| r.evals > 0 && r.samples > 0), "N, k and C must be positive");
    let optimized_deps = std::env::var("BENCH_DEPS_OPT_LEVEL").is_ok_and(|v| v.trim() == "1");
    let workspace_root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("the workspace root")?;
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().context("the target directory")?;
    let bench_dir = target_dir.join("judge-bench-hot-path");
    let logs = bench_dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let build = if optimized_deps { "dependencies at opt-level 1" } else { "a user's plain debug build" };
    println!("judge hot path: {build}, OpenAI-sized logprobs replies, JUDGE_MAX_CONCURRENCY={concurrency}\n");

    let floor = cache_file_floor(&bench_dir)?;
    println!(
        "the file system here: one cache entry written as judge-runtime writes it (a new file, renamed into \
         place) costs {:.3} ms of CPU ({:.3} ms system); every judge call writes one\n",
        floor.0, floor.1
    );

    let mut table = Vec::new();
    for (i, &row) in rows.iter().enumerate() {
        let Row { evals, samples, latency_ms } = row;
        let profile = if optimized_deps { "-deps-opt1" } else { "" };
        let dir = bench_dir.join(format!("suite-{evals}x{samples}{profile}"));
        GeneratedSuite { evals, samples, workspace_profiles: optimized_deps, features: &[] }
            .write(&dir, workspace_root)?;
        let started = Instant::now();
        let executable = GeneratedSuite::build(&dir, target_dir)?;
        println!("{evals} × {samples}: built (or found up to date) in {:.1} s", started.elapsed().as_secs_f64());

        let judge = FakeJudge::start_with(FakeJudgeConfig {
            latency: Duration::from_millis(latency_ms),
            full_logprobs: true,
            ..FakeJudgeConfig::default()
        });
        let cache = tempfile::Builder::new().prefix("cache-").tempdir_in(&bench_dir)?;
        let label = format!("{evals}x{samples}");
        let run = |name: &str| run_suite(&executable, &dir, &judge, concurrency, cache.path(), &logs.join(name));
        let cold = run(&label)?;
        ensure!(cold.requests == row.requests(), "{} requests, not N·k = {}", cold.requests, row.requests());
        let ideal = row.ideal(concurrency);
        let per_call = cold.cpu.as_secs_f64() * 1000.0 / cold.requests as f64;
        println!(
            "  empty cache: wall {:.2} s (ideal {:.2} s, × {:.2}), CPU {:.2} s ({:.2} s system) = {per_call:.3} ms per judge call, peak RSS {} MB",
            cold.wall.as_secs_f64(),
            ideal.as_secs_f64(),
            cold.wall.as_secs_f64() / ideal.as_secs_f64(),
            cold.cpu.as_secs_f64(),
            cold.sys.as_secs_f64(),
            cold.peak_rss / 1_000_000
        );
        let mut cached_note = "—".to_owned();
        if i + 1 == rows.len() {
            let cached = run(&format!("{label}-cached"))?;
            ensure!(cached.requests == 0, "the cached run asked the judge {} times", cached.requests);
            println!(
                "  fully cached: wall {:.2} s, CPU {:.2} s, peak RSS {} MB",
                cached.wall.as_secs_f64(),
                cached.cpu.as_secs_f64(),
                cached.peak_rss / 1_000_000
            );
            cached_note = format!("{:.2} s", cached.wall.as_secs_f64());
        }
        table.push(format!(
            "| {evals} × {samples} | {latency_ms} ms | {per_call:.2} ms | {:.2} | {} MB | {cached_note} |",
            cold.wall.as_secs_f64() / ideal.as_secs_f64(),
            cold.peak_rss / 1_000_000
        ));
    }
    println!(
        "\n| suite | judge latency | harness CPU per judge call (debug) | wall / ideal | peak RSS | fully cached rerun |"
    );
    println!("|---|---|---|---|---|---|");
    for line in table {
        println!("{line}");
    }
    Ok(())
}

/// The CPU (total, system; ms) that creating one verdict-sized file costs on the file system of
/// `dir`, as the cache writes each entry: into one of 256 subdirectories, to a temporary name, renamed
/// into place. A floor under the harness's cost per judge call that no code of ours can lower.
fn cache_file_floor(dir: &Path) -> anyhow::Result<(f64, f64)> {
    const FILES: usize = 1000;
    let scratch = tempfile::Builder::new().prefix("files-").tempdir_in(dir)?;
    let entry = vec![b'x'; 1200];
    let before = thread_usage();
    for i in 0..FILES {
        let sub = scratch.path().join(format!("{:02x}", i % 256));
        std::fs::create_dir_all(&sub)?;
        let tmp = sub.join(format!(".{i}.json.tmp"));
        std::fs::write(&tmp, &entry)?;
        std::fs::rename(&tmp, sub.join(format!("{i}.json")))?;
    }
    let after = thread_usage();
    let per_file = |a: Duration, b: Duration| (b - a).as_secs_f64() * 1000.0 / FILES as f64;
    Ok((per_file(before.0 + before.1, after.0 + after.1), per_file(before.1, after.1)))
}

/// This thread's user and system CPU time.
fn thread_usage() -> (Duration, Duration) {
    // SAFETY: `rusage` is plain data that getrusage fills in; all zeros is a valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a `rusage`; RUSAGE_THREAD is Linux's, as wait4 below is.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (time(usage.ru_utime), time(usage.ru_stime))
}

/// Runs the suite's executable as `cargo test` would, against `judge`, from spawn to exit; its
/// output goes to `log.stdout` and `log.stderr`. A run that does not pass is an error.
fn run_suite(
    executable: &Path,
    suite_dir: &Path,
    judge: &FakeJudge,
    concurrency: usize,
    cache_dir: &Path,
    log: &Path,
) -> anyhow::Result<Measured> {
    let (stdout_path, stderr_path) = (log.with_extension("stdout"), log.with_extension("stderr"));
    let mut command =
        GeneratedSuite::command(executable, suite_dir, &judge.base_url(), concurrency, cache_dir.as_os_str());
    command
        .env("JUDGE_PROGRESS", "off")
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path)?)
        .stderr(File::create(&stderr_path)?);
    let requests_before = judge.requests();
    let started = Instant::now();
    let child = command.spawn().with_context(|| format!("start {}", executable.display()))?;
    let (status, usage) = wait_with_usage(child.id())?;
    let wall = started.elapsed();
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        bail!(
            "the suite did not pass (wait status {status}); its output is in {} and {}",
            stdout_path.display(),
            stderr_path.display()
        );
    }
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(Measured {
        wall,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        sys: time(usage.ru_stime),
        // Linux gives kilobytes.
        peak_rss: usage.ru_maxrss as u64 * 1024,
        requests: judge.requests() - requests_before,
    })
}

/// Waits for the child `pid` and returns its wait status and resource usage. The `Child` handle is
/// not waited on afterwards: this reaps it.
fn wait_with_usage(pid: u32) -> anyhow::Result<(i32, libc::rusage)> {
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; all zeros is a valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, not yet reaped; both pointers are to live locals.
        let reaped = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if reaped == pid as libc::pid_t {
            return Ok((status, usage));
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error).context("wait4 on the suite");
        }
    }
}
