//! Rationale snapshots through insta: an eval's verdict (its score rounded, pass or fail, the
//! judge, and the rationale of its median sample) is asserted with `insta::assert_snapshot!`, so
//! `cargo insta review` shows how the judge's reasons changed and `cargo insta accept` keeps them.
//!
//! The assertion is expanded by `#[llm_eval]` in the user's crate (insta places a snapshot beside
//! the file its macro is called from, in `snapshots/`), and called here with insta settings that
//! carry the rubric as description, the eval's input and median output as info, and filters for
//! text that changes from run to run. The snapshot is named after the eval.
//!
//! A changed snapshot does not fail its eval (the score gates); with `snapshot = "strict"` it
//! does. insta reports a change by panicking, after printing the diff and writing the `.snap.new`
//! file; that panic is caught here and not printed a second time. Under `cargo insta test`, which
//! sets `INSTA_FORCE_PASS`, insta never reports a change: cargo-insta collects them for review, and
//! the snapshot is recorded as `unchecked`.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, Once};

use serde::Serialize;

use crate::outcome::{EvalOutcome, OUTPUT_EXCERPT_CHARS};

pub use crate::settings::SnapshotMode;

/// What an eval's snapshot holds. Built by the harness, asserted by the code `#[llm_eval]`
/// expands in the user's crate.
#[doc(hidden)]
#[derive(Debug)]
pub struct Snapshot {
    name: String,
    body: String,
    rubric: String,
    info: SnapshotInfo,
}

/// The snapshot's metadata: shown by `cargo insta review`, not compared.
#[derive(Debug, Serialize)]
struct SnapshotInfo {
    eval: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<String>,
    /// The output of the median sample, whose rationale the snapshot holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
}

/// The assertion `#[llm_eval]` expands in the user's crate.
#[doc(hidden)]
pub type SnapshotHook = fn(&Snapshot);

/// How an eval's snapshot compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SnapshotState {
    /// The same as the accepted snapshot.
    Matched,
    /// New or different: insta printed the diff and (unless told not to) wrote a `.snap.new`.
    Changed,
    /// The assertion failed for another reason than a change (its message was printed).
    Error,
    /// Not compared by us: `INSTA_FORCE_PASS` (set by `cargo insta test`) makes insta pass every
    /// assertion, and cargo-insta reports the changes.
    Unchecked,
}

impl Snapshot {
    /// The snapshot of a scored eval, which `passed` (or not) before its snapshot was compared.
    pub(crate) fn of(outcome: &EvalOutcome, passed: bool) -> Self {
        let EvalOutcome { eval, settings, samples, summary, steps, .. } = outcome;
        let median = outcome.median_sample();
        let mut body = String::new();
        let verdict = if passed { "passed" } else { "failed" };
        body.push_str(&format!("score: {:.2} ({verdict}, threshold {:.2})\n", summary.score, settings.threshold));
        body.push_str(&format!("judge: {}\n", settings.judge_label()));
        body.push_str(&format!("samples: {}\n", samples.len()));
        // Generated steps decide the verdicts: a change of them is reviewed with the rationale.
        for (judge, generated) in steps {
            body.push_str(&format!("evaluation steps written by {judge}:\n"));
            for (i, step) in generated.steps.iter().enumerate() {
                body.push_str(&format!("{}. {step}\n", i + 1));
            }
        }
        if let Some(median) = median {
            body.push_str("rationale of the median sample:\n");
            body.push_str(median.verdict.rationale.trim());
            body.push('\n');
        }
        Self {
            name: match &eval.dataset {
                Some(row) => row_name(eval.short_name.rsplit_once("::").map_or(&eval.short_name, |(f, _)| f), &row.id),
                None => eval.short_name.clone(),
            },
            body,
            rubric: eval.rubric.clone(),
            info: SnapshotInfo {
                eval: eval.name.clone(),
                input: eval.input.clone(),
                expected: eval.expected.clone(),
                // As much of it as the report keeps.
                output: median.map(|m| m.output.chars().take(OUTPUT_EXCERPT_CHARS).collect()),
            },
        }
    }

    /// The snapshot of the synthetic pairs (`body`) of the dataset eval `eval` (short name
    /// `function`) over the dataset `file`, for a person to review: `function@@synthetic`, a name
    /// no row's snapshot has (a row id's `@` is written `%40`).
    pub(crate) fn synthetic_pairs(function: &str, eval: &str, file: &str, body: String) -> Self {
        Self {
            name: format!("{function}@@synthetic"),
            body,
            rubric: format!("synthetic contrastive pairs of {file}: each row's good answer and a worse one"),
            info: SnapshotInfo { eval: format!("{eval}::synthetic"), input: None, expected: None, output: None },
        }
    }

    /// The snapshot's name: the eval's; a dataset row's is `support@refund-window`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What is compared.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The insta settings the assertion runs with.
    pub fn settings(&self) -> insta::Settings {
        let mut settings = insta::Settings::clone_current();
        settings.set_description(self.rubric.clone());
        settings.set_info(&self.info);
        settings.set_omit_expression(true);
        // Fence tags quoted in a rationale carry a hash of the output.
        settings.add_filter(r"output-[0-9a-f]{16}", "output-[id]");
        settings
    }

    /// Runs `hook` (the assertion in the user's crate) and tells how it compared. insta's panic
    /// on a change is caught and not printed: insta has shown the diff already. Any other panic
    /// (insta could not write a file, an invalid `INSTA_*` variable) is an error, with its message.
    pub(crate) fn assert(&self, hook: SnapshotHook) -> Result<SnapshotState, String> {
        install_quiet_panic_hook();
        QUIET.with(|quiet| quiet.set(true));
        let result = catch_unwind(AssertUnwindSafe(|| hook(self)));
        QUIET.with(|quiet| quiet.set(false));
        match result {
            Ok(()) if insta_forces_pass() => Ok(SnapshotState::Unchecked),
            Ok(()) => Ok(SnapshotState::Matched),
            Err(payload) => {
                let message = crate::error::panic_message(payload);
                if message.contains("snapshot assertion for ") {
                    Ok(SnapshotState::Changed)
                } else {
                    Err(format!("the snapshot `{}` could not be asserted: {message}", self.name))
                }
            }
        }
    }
}

/// The snapshots of `snapshot = true` evals, asserted after the run, one at a time: insta prints
/// its diffs, which would otherwise interleave with libtest's lines.
#[derive(Debug, Default)]
pub(crate) struct DeferredSnapshots {
    snapshots: Mutex<Vec<(String, Snapshot, SnapshotHook)>>,
}

impl DeferredSnapshots {
    /// Keeps the snapshot of eval `name` to assert when every trial has finished.
    pub fn defer(&self, name: String, snapshot: Snapshot, hook: SnapshotHook) {
        self.snapshots.lock().unwrap_or_else(|e| e.into_inner()).push((name, snapshot, hook));
    }

    /// Asserts the deferred snapshots, in name order, and tells how each compared (or why it
    /// could not be asserted), by eval name; leaves none deferred.
    pub fn assert_all(&self) -> Vec<(String, Result<SnapshotState, String>)> {
        let mut snapshots = std::mem::take(&mut *self.snapshots.lock().unwrap_or_else(|e| e.into_inner()));
        snapshots.sort_by(|a, b| a.0.cmp(&b.0));
        snapshots.into_iter().map(|(name, snapshot, hook)| (name, snapshot.assert(hook))).collect()
    }
}

/// Whether insta passes every assertion (`INSTA_FORCE_PASS`, as `cargo insta test` sets it).
fn insta_forces_pass() -> bool {
    std::env::var("INSTA_FORCE_PASS").is_ok_and(|v| v == "1" || v == "true")
}

thread_local! {
    /// Set while this thread asserts a snapshot: its panic is an expected report of a change.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Wraps the process's panic hook, once, so that panics on threads asserting a snapshot are
/// not printed; every other panic is printed as before.
fn install_quiet_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// The snapshot name of the row `id` of the dataset eval `function`: `function@id`, with every
/// character of the id but ASCII letters, digits, `-`, `_` and `.` written `%XX` (its UTF-8
/// bytes), so that distinct ids are distinct file names, none reaching outside the snapshot
/// directory. No function's name has an `@`.
fn row_name(function: &str, id: &str) -> String {
    let mut name = format!("{function}@");
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
            name.push(char::from(byte));
        } else {
            name.push_str(&format!("%{byte:02X}"));
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rows_name_is_a_file_name_of_its_own() {
        assert_eq!(row_name("support", "refund-window"), "support@refund-window");
        assert_eq!(row_name("support", "../etc/passwd"), "support@..%2Fetc%2Fpasswd");
        assert_eq!(row_name("support", "café 2"), "support@caf%C3%A9%202");
        // Ids that a lossy mapping would merge stay apart.
        assert_ne!(row_name("support", "a b"), row_name("support", "a_b"));
        assert_ne!(row_name("support", "a%20b"), row_name("support", "a b"));
    }

    #[test]
    fn modes_parse_from_the_attribute_words() {
        assert_eq!(SnapshotMode::parse("true"), Ok(SnapshotMode::On));
        assert_eq!(SnapshotMode::parse("strict"), Ok(SnapshotMode::Strict));
        assert_eq!(SnapshotMode::parse("off"), Ok(SnapshotMode::Off));
        assert!(SnapshotMode::parse("yes").unwrap_err().contains("true, false, strict"));
    }

    #[test]
    fn a_panicking_assertion_is_a_change_and_is_not_printed() {
        fn changed(_: &Snapshot) {
            panic!("snapshot assertion for 'x' failed in line 1");
        }
        fn same(_: &Snapshot) {}
        let snapshot = Snapshot {
            name: "x".to_owned(),
            body: String::new(),
            rubric: String::new(),
            info: SnapshotInfo { eval: "m::x".to_owned(), input: None, expected: None, output: None },
        };
        fn broken(_: &Snapshot) {
            panic!("failed to write the snapshot: permission denied");
        }
        assert_eq!(snapshot.assert(changed), Ok(SnapshotState::Changed));
        assert_eq!(snapshot.assert(same), Ok(SnapshotState::Matched));
        let error = snapshot.assert(broken).unwrap_err();
        assert!(error.contains("`x` could not be asserted") && error.contains("permission denied"), "{error}");
        assert!(!QUIET.with(Cell::get), "panics are printed again afterwards");
    }
}
