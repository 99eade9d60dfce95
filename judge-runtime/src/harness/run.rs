//! The entry point behind `judge_runtime::main!()`: parse libtest arguments, turn every registered
//! eval into a trial, run them, return the exit code.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};

use crate::baseline::{Baselines, ScoreBaseline};
use crate::error::ReportError;
use crate::harness::context::RunContext;
use crate::harness::datasets::{self, Subject};
use crate::harness::registry;
use crate::report::files;
use crate::report::printer;
use crate::report::progress::Progress;
use crate::report::record::EvalRecord;
use crate::settings::{EmbeddedJudge, RunSettings, Settings};
use crate::snapshot::SnapshotState;

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
    let args = Arguments::from_args();
    printer::configure(&args);
    let code = run_with(project, args);
    printer::finish();
    code
}

/// Runs the evals with libtest arguments `args`.
fn run_with(project: Project, mut args: Arguments) -> ExitCode {
    let started = std::time::SystemTime::now();
    let cases = registry::cases();
    if cases.is_empty() {
        printer::no_evals_registered();
        return ExitCode::FAILURE;
    }
    let target_dir = project.target_tmpdir.and_then(|tmp| Path::new(tmp).parent());
    let embedded = EmbeddedJudge {
        available: cfg!(feature = "local") && crate::local_model::default_model_installed(),
        install_command: crate::local_model::install_command(),
    };
    let settings = Settings::load(Path::new(project.manifest_dir), target_dir, embedded);
    // Whether a dataset eval has a synthetic validation test: listing asks too, and settings that
    // do not load leave only the attribute to tell (the run then stops on them).
    let validates = |case: &'static registry::EvalCase| match &settings {
        Ok(settings) => settings.validates(&case.full_name(), case.attribute_settings()),
        Err(_) => case.by_kind.iter().any(|(key, _)| matches!(*key, "validate" | "min_accuracy")),
    };
    // Datasets are read now, listing included: their rows are tests.
    let subjects = datasets::subjects(Path::new(project.manifest_dir), &cases, validates);
    let duplicates = duplicate_names(&subjects);
    if !duplicates.is_empty() {
        printer::duplicate_names(&duplicates);
        return ExitCode::FAILURE;
    }
    if args.list {
        // Listing is pure: no cache touched, no network; a dataset and the settings are read,
        // nothing else, and a setting that does not read is not an error yet.
        let trials = subjects.into_iter().map(|subject| trial(subject, |_| Ok(()))).collect();
        return libtest_mimic::run(&args, trials).exit_code();
    }

    let settings = match settings {
        Ok(settings) => settings,
        Err(error) => {
            printer::config_error(&error);
            return ExitCode::FAILURE;
        }
    };
    let names: Vec<String> =
        cases.iter().map(|case| case.full_name()).chain(subjects.iter().flat_map(Subject::section_names)).collect();
    // A warning, not an error: an eval compiled out (cfg) or another package's binary of the same
    // crate name would otherwise stop the run.
    printer::unknown_eval_sections(&settings.unknown_eval_sections(&names), &names);
    if settings.falls_back_on_embedded_judge() {
        printer::using_embedded_judge(crate::local_model::DEFAULT_MODEL_NAME);
    }
    let run_settings = settings.run();
    let baselines = match load_baselines(&run_settings) {
        Ok(baselines) => baselines,
        Err(error) => {
            printer::report_error(&error);
            return ExitCode::FAILURE;
        }
    };
    let ctx = match RunContext::new(settings, run_settings, baselines) {
        Ok(ctx) => Arc::new(ctx),
        Err(error) => {
            printer::error(&error.to_string());
            return ExitCode::FAILURE;
        }
    };
    // A trial thread mostly waits on the judge, so the default is enough threads to keep the
    // in-flight limit busy; the limit, not the thread count, bounds concurrency.
    if args.test_threads.is_none() {
        args.test_threads = Some(test_threads(ctx.run.values.max_concurrency));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("judge").build() {
        Ok(runtime) => Arc::new(runtime),
        Err(error) => {
            printer::runtime_error(&error);
            return ExitCode::FAILURE;
        }
    };

    let to_run = subjects.iter().map(|s| trial(s.clone(), |_| Ok(()))).filter(|t| will_run(&args, t)).count();
    let http = ctx.http().clone();
    let threads = args.test_threads.unwrap_or(1);
    let progress = Arc::new(Progress::start(ctx.run.values.progress, to_run, threads, move || http.in_flight()));
    let trials = subjects
        .into_iter()
        .map(|subject| {
            let (ctx, runtime, progress) = (Arc::clone(&ctx), Arc::clone(&runtime), Arc::clone(&progress));
            trial(subject, move |subject| {
                let result = runtime.block_on(datasets::run(&ctx, &subject));
                progress.finished(result.is_ok());
                result
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    drop(progress);
    printer::run_totals(&ctx.totals());
    let evals = with_snapshots(ctx.recorder.take(), ctx.snapshots.assert_all());
    if let Some(agreement) = crate::report::record::agreement(&evals) {
        printer::agreement(&agreement);
    }
    for dataset in crate::report::record::datasets_of(&evals) {
        if let Some(calibration) = &dataset.calibration {
            printer::calibration(&dataset.name, calibration);
        }
        if let Some(probes) = &dataset.probes {
            printer::dataset_probes(&dataset.name, probes);
        }
        if let Some(win_rates) = &dataset.pairwise {
            printer::win_rates(&dataset.name, win_rates);
        }
        if let Some(synthetic) = &dataset.synthetic {
            printer::synthetic(&dataset.name, synthetic);
        }
    }
    // Every output is attempted: one that cannot be written does not cost the others.
    let mut errors = Vec::new();
    if let Some(path) = &ctx.baselines.save
        && let Err(error) =
            ScoreBaseline::save(&ctx.run.lock_dir, path, evals.iter().filter_map(|e| Some((e.name.as_str(), e.score?))))
    {
        errors.push(error);
    }
    let (written, report_errors) = files::write(&ctx.run.reports(), &ctx.run.lock_dir, &binary_name(), started, evals);
    errors.extend(report_errors);
    printer::reports_written(&written);
    for error in &errors {
        printer::report_error(error);
    }
    if !errors.is_empty() {
        return ExitCode::FAILURE;
    }
    conclusion.exit_code()
}

/// `evals` with how their deferred snapshots compared; a snapshot that could not be asserted is
/// an error, printed.
fn with_snapshots(
    mut evals: Vec<EvalRecord>,
    snapshots: Vec<(String, Result<SnapshotState, String>)>,
) -> Vec<EvalRecord> {
    for (name, state) in snapshots {
        let state = state.unwrap_or_else(|error| {
            printer::snapshot_error(&error);
            SnapshotState::Error
        });
        if let Some(eval) = evals.iter_mut().find(|e| e.name == name) {
            eval.snapshot = Some(state);
        }
    }
    evals
}

/// The score baseline to compare with, if one is set; where to save this run's scores. A baseline
/// that does not exist yet while this run saves one is the first run: nothing to compare.
fn load_baselines(run: &RunSettings) -> Result<Baselines, ReportError> {
    let compare = match run.values.score_baseline.as_deref() {
        Some(path) if !path.exists() && run.values.save_score_baseline.is_some() => {
            printer::first_baseline(path);
            None
        }
        Some(path) => Some(ScoreBaseline::load(path)?),
        None if run.values.max_score_drop.is_some() => return Err(ReportError::DropWithoutBaseline),
        None => None,
    };
    Ok(Baselines { compare, max_drop: run.values.max_score_drop, save: run.values.save_score_baseline.clone() })
}

/// The test binary's name as cargo calls the target (`evals`), without the hash cargo appends
/// to the file (`evals-0123456789abcdef`).
fn binary_name() -> String {
    let stem = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "evals".to_owned());
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => name.to_owned(),
        _ => stem,
    }
}

fn trial(subject: Subject, body: impl FnOnce(Subject) -> Result<(), Failed> + Send + 'static) -> Trial {
    let (name, ignore) = (subject.name(), subject.case().ignore);
    Trial::test(name, move || body(subject)).with_ignored_flag(ignore)
}

/// Test names given more than once: two evals given the same `name`, or a dataset's row whose id
/// makes the name of another eval.
fn duplicate_names(subjects: &[Subject]) -> Vec<String> {
    let mut names: Vec<String> = subjects.iter().map(Subject::name).collect();
    names.sort_unstable();
    let mut duplicates: Vec<String> = names.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0].clone()).collect();
    duplicates.dedup();
    duplicates
}

/// Whether libtest will run `trial` with these arguments.
fn will_run(args: &Arguments, trial: &Trial) -> bool {
    !args.is_filtered_out(trial) && !args.is_ignored(trial) && (!args.ignored || trial.has_ignored_flag())
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
