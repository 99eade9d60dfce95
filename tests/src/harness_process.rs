//! Running a harness binary as a subprocess, with a clean judge environment.

use std::path::Path;
use std::process::{Command, Output};

/// A harness binary's command, with a clean judge environment (see [`clear_judge_env`]).
pub fn harness(binary: impl AsRef<Path>) -> Command {
    let mut command = Command::new(binary.as_ref());
    clear_judge_env(&mut command);
    command
}

/// Removes every `JUDGE_*`, `OPENAI_*`, `ANTHROPIC_*`, `AWS_*`, `INSTA_*` and `NEXTEST_*` variable (and
/// `RUST_TEST_THREADS`, `GITHUB_STEP_SUMMARY`) of the calling environment from `command`, so that
/// only what a test sets reaches it.
pub fn clear_judge_env(command: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if ["JUDGE_", "OPENAI_", "ANTHROPIC_", "AWS_", "INSTA_", "NEXTEST_", "RUST_TEST_THREADS", "GITHUB_STEP_SUMMARY"]
            .iter()
            .any(|p| key.starts_with(p))
        {
            command.env_remove(key.as_ref());
        }
    }
    command
}

/// A `cargo` command to run from inside a test or bench. Cargo sets variables for the test that
/// runs this (`CARGO_PKG_NAME`, `CARGO_MANIFEST_DIR`, …); inherited, they would reach build scripts
/// that watch them (ring's does) and make shared dependencies rebuild, here and again in the next
/// plain build of the workspace. They are removed.
pub fn nested_cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(set_by_cargo_for_crates) {
            command.env_remove(key);
        }
    }
    command
}

/// Whether cargo sets `key` for the crates it compiles and runs (see "Environment variables Cargo
/// sets for crates" in the Cargo book), rather than reading it as configuration.
fn set_by_cargo_for_crates(key: &str) -> bool {
    ["CARGO_PKG_", "CARGO_BIN_EXE_", "CARGO_CFG_"].iter().any(|prefix| key.starts_with(prefix))
        || [
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_MANIFEST_LINKS",
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_TARGET_TMPDIR",
            "CARGO_RUSTC_CURRENT_DIR",
            "OUT_DIR",
        ]
        .contains(&key)
}

/// What a harness run printed, and how it ended.
#[derive(Debug)]
pub struct HarnessRun {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl HarnessRun {
    /// Runs `command` to completion.
    pub fn of(command: &mut Command) -> Self {
        let Output { status, stdout, stderr } = command.output().expect("the harness binary starts");
        Self {
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Both streams, for assertion messages.
    pub fn all(&self) -> String {
        format!("exit code {:?}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }

    /// Whether libtest's line for `test` says `result` (`ok`, `FAILED`, `ignored`).
    pub fn has_outcome(&self, test: &str, result: &str) -> bool {
        self.stdout
            .lines()
            .any(|line| line.starts_with(&format!("test {test} ")) && line.ends_with(&format!("... {result}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_cargo_configuration_variables() {
        for set in ["CARGO_PKG_NAME", "CARGO_MANIFEST_DIR", "CARGO_BIN_EXE_suite-basic", "OUT_DIR"] {
            assert!(set_by_cargo_for_crates(set), "{set}");
        }
        for config in ["CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_BUILD_JOBS", "CARGO_PROFILE_DEV_OPT_LEVEL", "CARGO"] {
            assert!(!set_by_cargo_for_crates(config), "{config}");
        }
    }
}
