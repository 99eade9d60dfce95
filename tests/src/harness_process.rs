//! Running a harness binary as a subprocess, with a clean judge environment.

use std::path::Path;
use std::process::{Command, Output};

/// A harness binary's command, with a clean judge environment (see [`clear_judge_env`]).
pub fn harness(binary: impl AsRef<Path>) -> Command {
    let mut command = Command::new(binary.as_ref());
    clear_judge_env(&mut command);
    command
}

/// Removes every `JUDGE_*`, `OPENAI_*` and `ANTHROPIC_*` variable (and `RUST_TEST_THREADS`) of the
/// calling environment from `command`, so that only what a test sets reaches it.
pub fn clear_judge_env(command: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if ["JUDGE_", "OPENAI_", "ANTHROPIC_", "RUST_TEST_THREADS"].iter().any(|p| key.starts_with(p)) {
            command.env_remove(key.as_ref());
        }
    }
    command
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
