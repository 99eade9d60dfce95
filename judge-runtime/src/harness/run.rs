//! The entry point behind `judge_runtime::main!()`: parse libtest arguments, turn every registered
//! eval into a trial, run them, return the exit code.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};

use crate::harness::context::RunContext;
use crate::harness::registry::{self, EvalCase};
use crate::harness::trial::run_eval;
use crate::report::terminal;
use crate::settings::Settings;

/// Where the test binary was built, captured in the user's crate by `main!()`.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Project {
    /// `CARGO_MANIFEST_DIR` of the crate holding the evals.
    pub manifest_dir: &'static str,
    /// `CARGO_TARGET_TMPDIR` where cargo sets it (integration tests and benches): its parent is the
    /// target directory, wherever `CARGO_TARGET_DIR` put it.
    pub target_tmpdir: Option<&'static str>,
}

/// Runs the evals of this test binary with the process's arguments; see [`crate::main!`].
#[doc(hidden)]
pub fn run(project: Project) -> ExitCode {
    let mut args = Arguments::from_args();
    let cases = registry::cases();
    if cases.is_empty() {
        terminal::no_evals_registered();
        return ExitCode::FAILURE;
    }
    let duplicates = registry::duplicate_names(&cases);
    if !duplicates.is_empty() {
        terminal::duplicate_names(&duplicates);
        return ExitCode::FAILURE;
    }
    if args.list {
        // Listing is pure: no settings read, no cache touched, no network.
        let trials = cases.iter().map(|case| trial(case, |_| Ok(()))).collect();
        return libtest_mimic::run(&args, trials).exit_code();
    }

    let target_dir = project.target_tmpdir.and_then(|tmp| Path::new(tmp).parent());
    let settings = match Settings::load(Path::new(project.manifest_dir), target_dir) {
        Ok(settings) => settings,
        Err(error) => {
            terminal::config_error(&error);
            return ExitCode::FAILURE;
        }
    };
    if settings.falls_back_on_embedded_judge() {
        terminal::using_embedded_judge();
    }
    let ctx = Arc::new(RunContext::new(settings));
    // A trial thread mostly waits on the judge, so the default is enough threads to keep the
    // in-flight limit busy; the limit, not the thread count, bounds concurrency.
    if args.test_threads.is_none() {
        args.test_threads = Some(test_threads(ctx.run.max_concurrency));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("judge").build() {
        Ok(runtime) => Arc::new(runtime),
        Err(error) => {
            terminal::runtime_error(&error);
            return ExitCode::FAILURE;
        }
    };

    let trials = cases
        .iter()
        .map(|&case| {
            let (ctx, runtime) = (Arc::clone(&ctx), Arc::clone(&runtime));
            trial(case, move |case| {
                let outcome =
                    runtime.block_on(run_eval(&ctx, case)).map_err(|e| Failed::from(terminal::eval_failure(&e)))?;
                if outcome.passed() {
                    Ok(())
                } else {
                    Err(terminal::below_threshold(&outcome, ctx.run.rationales, ctx.run.max_output_chars).into())
                }
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    terminal::run_totals(&ctx.totals());
    conclusion.exit_code()
}

fn trial(
    case: &'static EvalCase,
    body: impl FnOnce(&'static EvalCase) -> Result<(), Failed> + Send + 'static,
) -> Trial {
    Trial::test(case.full_name(), move || body(case)).with_ignored_flag(case.ignore)
}

/// `RUST_TEST_THREADS` when set (as libtest honours it), else the in-flight limit, and never fewer
/// than the machine's cores.
fn test_threads(max_concurrency: usize) -> usize {
    if let Some(n) = std::env::var("RUST_TEST_THREADS").ok().and_then(|v| v.parse::<usize>().ok()).filter(|n| *n > 0) {
        return n;
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    max_concurrency.max(cores)
}
