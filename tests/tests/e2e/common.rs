//! What the end-to-end tests share: the suite binary, pointed at a fake judge.

use std::path::Path;
use std::process::Command;

use judge_tests::{FakeJudge, HarnessRun, harness};

/// The `suite-basic` harness binary, judged by `judge`, with its verdict cache in `cache_dir`.
pub fn suite(judge: &FakeJudge, cache_dir: &Path) -> Command {
    let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
    command
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_CACHE_DIR", cache_dir);
    command
}

/// Runs `suite` on exactly the evals named (short names, without the `suite_basic::` prefix).
pub fn run_exact(mut command: Command, evals: &[&str]) -> HarnessRun {
    command.args(exact_args(evals));
    HarnessRun::of(&mut command)
}

/// Arguments that select exactly `evals`. libtest-mimic takes one filter, so several evals are
/// selected by skipping every other one.
pub fn exact_args(evals: &[&str]) -> Vec<String> {
    let wanted: Vec<String> = evals.iter().map(|e| format!("suite_basic::{e}")).collect();
    let mut args = vec!["--exact".to_owned()];
    if let [one] = wanted.as_slice() {
        args.push(one.clone());
        return args;
    }
    let listing = HarnessRun::of(harness(env!("CARGO_BIN_EXE_suite-basic")).arg("--list"));
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
