//! What the end-to-end tests share: the suite binary, pointed at a fake judge.

use std::path::Path;
use std::process::Command;

use judge_tests::{FakeJudge, HarnessRun, harness};

/// The `suite-basic` harness binary, judged by `judge`, with its verdict cache in `cache_dir`.
pub fn suite(judge: &FakeJudge, cache_dir: &Path) -> Command {
    judged(env!("CARGO_BIN_EXE_suite-basic"), judge, cache_dir)
}

/// The `suite-hostile` harness binary (hostile outputs, generation parameters), judged by `judge`.
pub fn hostile(judge: &FakeJudge, cache_dir: &Path) -> Command {
    judged(env!("CARGO_BIN_EXE_suite-hostile"), judge, cache_dir)
}

/// The `suite-soak` harness binary (200 evals × 3 samples), judged by `judge`.
pub fn soak(judge: &FakeJudge, cache_dir: &Path) -> Command {
    judged(env!("CARGO_BIN_EXE_suite-soak"), judge, cache_dir)
}

/// `binary`, a harness binary of the suites, judged by `judge`, with its verdict cache in `cache_dir`.
pub fn judged(binary: &str, judge: &FakeJudge, cache_dir: &Path) -> Command {
    let mut command = harness(binary);
    command
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_CACHE_DIR", cache_dir);
    command
}

/// [`judged`], writing its reports in `reports`, each eval's deadline (60 s) well within the
/// tests' limit on a run.
pub fn reporting(binary: &str, judge: &FakeJudge, cache_dir: &Path, reports: &Path) -> Command {
    let mut command = judged(binary, judge, cache_dir);
    command.env("JUDGE_REPORT_DIR", reports).env("JUDGE_DEADLINE", "60");
    command
}

/// The run's closing line (`judge: N verdicts (…); C calls, R retries, …`) as numbers by name:
/// `verdicts`, `judged`, `cached`, `shared`, `calls`, `retries`, `rate-limited`, `prompt`, `completion`.
pub fn run_totals(run: &HarnessRun) -> std::collections::BTreeMap<String, u64> {
    let line = run
        .stdout
        .lines()
        .find(|line| line.starts_with("judge: ") && line.contains(" calls, "))
        .unwrap_or_else(|| panic!("no run totals line:\n{}", run.all()));
    let words: Vec<&str> =
        line.split(|c: char| c.is_whitespace() || "(),;:".contains(c)).filter(|w| !w.is_empty()).collect();
    words.windows(2).filter_map(|pair| Some((pair[1].to_owned(), pair[0].parse::<u64>().ok()?))).collect()
}

/// Runs `command` (a suite binary) on exactly the evals named (short names, without the module
/// prefix, which is the binary's name).
pub fn run_exact(mut command: Command, evals: &[&str]) -> HarnessRun {
    let binary = std::path::PathBuf::from(command.get_program());
    command.args(exact_args_of(&binary, evals));
    HarnessRun::of(&mut command)
}

/// Arguments that select exactly `evals` of `suite-basic`.
pub fn exact_args(evals: &[&str]) -> Vec<String> {
    exact_args_of(Path::new(env!("CARGO_BIN_EXE_suite-basic")), evals)
}

/// Arguments that select exactly `evals` of the suite `binary`. libtest-mimic takes one filter, so
/// several evals are selected by skipping every other one.
pub fn exact_args_of(binary: &Path, evals: &[&str]) -> Vec<String> {
    let module = binary.file_name().unwrap().to_string_lossy().replace('-', "_");
    let wanted: Vec<String> = evals.iter().map(|e| format!("{module}::{e}")).collect();
    let mut args = vec!["--exact".to_owned()];
    if let [one] = wanted.as_slice() {
        args.push(one.clone());
        return args;
    }
    let listing = HarnessRun::of(harness(binary).arg("--list"));
    for name in listing.stdout.lines().filter_map(|line| line.strip_suffix(": test")) {
        if !wanted.iter().any(|w| w == name) {
            args.extend(["--skip".to_owned(), name.to_owned()]);
        }
    }
    args
}

/// Every file below `dir`.
pub fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flat_map(|e| {
            let path = e.expect("a readable directory entry").path();
            if path.is_dir() { files(&path) } else { vec![path] }
        })
        .collect()
}

/// Whether end-to-end tests whose tool is missing must fail rather than skip (they must in CI).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// The JSON report at `path`.
pub fn read_report(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("no report at {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("the report at {} is not JSON: {e}", path.display()))
}

/// The record of the eval whose name ends with `name` in a JSON report.
pub fn eval_named(report: &serde_json::Value, name: &str) -> serde_json::Value {
    let evals = report["evals"].as_array().expect("a report has evals");
    let found = evals.iter().find(|e| e["name"].as_str().is_some_and(|n| n.ends_with(name)));
    found.unwrap_or_else(|| panic!("no eval named …{name} in the report")).clone()
}

/// Where insta keeps the snapshots of the suites in `tests/src/bin` when its workspace is `root`.
pub fn snapshot_dir(root: &Path) -> std::path::PathBuf {
    root.join("tests/src/bin/snapshots")
}

/// The files of [`snapshot_dir`], by name, sorted.
pub fn snapshot_files(root: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        files(&snapshot_dir(root)).iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    names.sort_unstable();
    names
}
