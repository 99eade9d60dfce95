//! A generated eval suite: a crate of N `#[llm_eval]` evals × k samples, written under the target
//! directory and built as a user's `cargo test` would build it. For benches that need more evals
//! than anyone would write by hand.
//!
//! The crate is its own workspace root and depends on `judge-runtime` by absolute path. It is given
//! the workspace's `Cargo.lock` and `[profile.*]` tables and built into the workspace's target
//! directory, so cargo reuses the dependencies the workspace has already built. Files are rewritten
//! only when their content changes, so a rerun with the same parameters rebuilds nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use serde_json::Value;

/// The shape of a generated suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratedSuite {
    /// How many `#[llm_eval]` functions the suite has.
    pub evals: usize,
    /// The `samples` attribute of each.
    pub samples: u32,
    /// Whether the crate takes the workspace's `[profile.*]` tables (its dependencies built at
    /// `opt-level = 1`, and reused from the workspace's builds), or none, as a user's crate: a plain
    /// debug build, everything at `opt-level = 0`.
    pub workspace_profiles: bool,
    /// judge-runtime's features the crate turns on, beside the default ones.
    pub features: &'static [&'static str],
}

impl GeneratedSuite {
    /// Writes the suite's crate into `dir`, taking `judge-runtime`, `Cargo.lock` and the profiles
    /// from the workspace at `workspace_root`.
    pub fn write(&self, dir: &Path, workspace_root: &Path) -> anyhow::Result<()> {
        let workspace_manifest = std::fs::read_to_string(workspace_root.join("Cargo.toml"))
            .with_context(|| format!("read {}", workspace_root.join("Cargo.toml").display()))?;
        let runtime = workspace_root.join("judge-runtime");
        let profiles = if self.workspace_profiles { profile_tables(&workspace_manifest) } else { String::new() };
        // A name of its own per shape: cargo names a path crate's build outputs after its name and
        // its path from its workspace root, which is the same for every generated suite, so two
        // suites of one name would overwrite each other's test binary in the shared target directory.
        let profile = if self.workspace_profiles { "" } else { "-plain" };
        let name = format!("judge-generated-suite-{}x{}{profile}", self.evals, self.samples);
        write_if_changed(&dir.join("Cargo.toml"), &manifest(&name, &runtime, self.features, &profiles))?;
        write_if_changed(&dir.join("tests/evals.rs"), &self.evals_rs())?;

        // Cargo prunes the workspace's lock file down to this crate's graph and rewrites it, so the
        // seed is kept beside it: the lock is reseeded only when the workspace's lock changes.
        let lock =
            std::fs::read_to_string(workspace_root.join("Cargo.lock")).context("read the workspace's Cargo.lock")?;
        let reseeded = write_if_changed(&dir.join("Cargo.lock.seed"), &lock)?;
        if reseeded || !dir.join("Cargo.lock").exists() {
            std::fs::write(dir.join("Cargo.lock"), &lock).context("write Cargo.lock")?;
        }
        Ok(())
    }

    /// Builds the suite in `dir` with `cargo test --no-run` into `target_dir`, with cargo's progress
    /// on this process's stderr, and returns the path of the test executable.
    pub fn build(dir: &Path, target_dir: &Path) -> anyhow::Result<PathBuf> {
        let mut command = crate::harness_process::nested_cargo();
        let output = command
            .args(["test", "--no-run", "--message-format=json", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", target_dir)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .context("run cargo")?;
        if !output.status.success() {
            bail!("cargo test --no-run failed for the generated suite in {} ({})", dir.display(), output.status);
        }
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|message| {
                message["reason"] == "compiler-artifact"
                    && message["profile"]["test"] == true
                    && message["target"]["name"] == "evals"
            })
            .and_then(|message| message["executable"].as_str().map(PathBuf::from))
            .context("cargo reported no test executable named `evals`")
    }

    /// The suite's test executable, run as `cargo test` would run it from `suite_dir`, judged by
    /// the fake judge at `base_url` (OpenAI's format) with at most `concurrency` requests in flight
    /// and its verdicts cached in `cache_dir`.
    pub fn command(
        executable: &Path,
        suite_dir: &Path,
        base_url: &str,
        concurrency: usize,
        cache_dir: &std::ffi::OsStr,
    ) -> std::process::Command {
        let mut command = crate::harness_process::harness(executable);
        command
            .current_dir(suite_dir)
            .env("JUDGE_MODEL", "openai:fake-judge")
            .env("OPENAI_BASE_URL", base_url)
            .env("JUDGE_MAX_CONCURRENCY", concurrency.to_string())
            .env("JUDGE_CACHE_DIR", cache_dir);
        command
    }

    /// `tests/evals.rs`: each eval's outputs are distinct from every other eval's and from each
    /// other (a per-eval call counter), and all contain the reference answer, so every sample is a
    /// separate judge request and every eval passes.
    fn evals_rs(&self) -> String {
        let mut text = String::from(
            "//! Generated by judge-tests' `GeneratedSuite`; rewritten when its shape changes.\n\n\
             use std::sync::atomic::{AtomicUsize, Ordering};\n\n\
             use judge_runtime::llm_eval;\n",
        );
        for i in 0..self.evals {
            let _ = write!(
                text,
                r#"
#[llm_eval(
    rubric = "Names the eval and gives its answer.",
    input = "What is the answer of eval {i}?",
    expected = "eval {i} answer",
    samples = {samples},
)]
async fn eval_{i:05}() -> String {{
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    format!("eval {i} answer, sample {{}}", CALLS.fetch_add(1, Ordering::Relaxed))
}}
"#,
                samples = self.samples,
            );
        }
        text.push_str("\njudge_runtime::main!();\n");
        text
    }
}

fn manifest(name: &str, runtime: &Path, features: &[&str], profiles: &str) -> String {
    // A JSON string is a valid TOML basic string: the same quotes and escapes.
    let runtime = serde_json::to_string(&runtime.to_string_lossy()).expect("a string serializes");
    let features = serde_json::to_string(features).expect("strings serialize");
    format!(
        r#"# Generated by judge-tests' `GeneratedSuite`; rewritten when its shape changes.
[package]
name = "{name}"
version = "0.0.0"
edition = "2024"
publish = false

[dev-dependencies]
judge-runtime = {{ path = {runtime}, features = {features} }}

[[test]]
name = "evals"
path = "tests/evals.rs"
harness = false

# Its own workspace, not a member of the one whose target directory it shares.
[workspace]

# Copied from the workspace's Cargo.toml (when asked), so that dependencies build (and are reused)
# alike.
{profiles}"#
    )
}

/// The `[profile.*]` tables of a manifest, as written.
fn profile_tables(manifest: &str) -> String {
    let mut tables = String::new();
    let mut in_profile = false;
    for line in manifest.lines() {
        if line.trim_start().starts_with('[') {
            in_profile = line.trim_start().starts_with("[profile.");
        }
        if in_profile {
            tables.push_str(line);
            tables.push('\n');
        }
    }
    tables
}

/// Writes `contents` to `path` unless it already holds exactly that, so that cargo, which compares
/// modification times, sees nothing new; returns whether it wrote.
fn write_if_changed(path: &Path, contents: &str) -> anyhow::Result<bool> {
    if std::fs::read(path).is_ok_and(|old| old == contents.as_bytes()) {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("create {}", parent.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("write {}", path.display()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_only_profile_tables() {
        let manifest = "[workspace]\nmembers = [\"a\"]\n\n[profile.dev.package.\"*\"]\nopt-level = 1\n\n\
                        [profile.release]\nlto = true\n[patch.crates-io]\nx = { path = \"x\" }\n";
        assert_eq!(
            profile_tables(manifest),
            "[profile.dev.package.\"*\"]\nopt-level = 1\n\n[profile.release]\nlto = true\n"
        );
    }

    #[test]
    fn rewrites_only_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.txt");
        assert!(write_if_changed(&path, "x").unwrap());
        assert!(!write_if_changed(&path, "x").unwrap());
        assert!(write_if_changed(&path, "y").unwrap());
    }
}
