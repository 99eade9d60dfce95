//! Evals with adaptive samples (`samples = "adaptive"`, `min_samples`, `max_samples`), run by the
//! end-to-end tests (tests/tests/e2e/adaptive.rs) against the fake judge. Each function counts its
//! calls, so that sample k's output, and the fake judge's score of it, is the same in every run.

use std::sync::atomic::{AtomicUsize, Ordering};

use judge_runtime::llm_eval;

/// The `k`-th score of `scores`, cycling, as the fake judge's `[score:N]` marker, in an output of
/// `eval`'s own (no two evals share a verdict, so each one's calls can be counted).
fn scripted(eval: &str, calls: &AtomicUsize, scores: &[u32]) -> String {
    let k = calls.fetch_add(1, Ordering::SeqCst);
    format!("[score:{}] {eval}, draw {k}", scores[k % scores.len()])
}

/// Three agreeing samples decide it: it passes with the first three.
#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", samples = "adaptive")]
fn decided_at_once() -> String {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    scripted("decided_at_once", &CALLS, &[9])
}

/// Three agreeing low samples decide it: it fails with the first three.
#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", samples = "adaptive")]
fn failed_at_once() -> String {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    scripted("failed_at_once", &CALLS, &[3])
}

/// Scattered first, then steady: more samples until the interval lies above 0.7.
#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", samples = "adaptive", max_samples = 12)]
fn decided_later() -> String {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    scripted("decided_later", &CALLS, &[9, 5, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9])
}

/// Around the threshold: never decided, so `max_samples` stops it.
#[llm_eval(
    rubric = "Scripted.",
    input = "i",
    expected = "e",
    samples = "adaptive",
    min_samples = 4,
    max_samples = 6,
    reduce = "mean"
)]
fn at_the_limit() -> String {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    scripted("at_the_limit", &CALLS, &[6, 8])
}

/// No `samples` of its own: `JUDGE_SAMPLES` or judge.toml decide.
#[llm_eval(rubric = "Scripted.", input = "i", expected = "e")]
fn configured() -> String {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    scripted("configured", &CALLS, &[8])
}

judge_runtime::main!();
