//! The tests of the registered evals: one per eval; for an eval driven by a dataset, one per row,
//! or one for the whole dataset when it has a pass-rate gate (`min_pass_rate`). Datasets are read
//! here, when the test binary starts (listing included): a dataset that cannot be read is one
//! test, named after the eval, that fails with the error.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use futures::StreamExt;

use crate::calibration::{Gates, Labelled};
use crate::dataset::Dataset;
use crate::error::DatasetError;
use crate::harness::context::RunContext;
use crate::harness::eval::{DatasetRow, Eval};
use crate::harness::registry::EvalCase;
use crate::harness::trial::judge_eval;
use crate::outcome::{FailureKind, RowOutcome};
use crate::report::message;
use crate::report::record::{EvalRecord, Status};
use crate::synthetic::SyntheticRecord;

/// What one test runs.
#[derive(Debug, Clone)]
pub(crate) enum Subject {
    /// An eval, or one row of a dataset.
    One(Eval),
    /// Every row of a dataset with a pass-rate gate.
    Gate { case: &'static EvalCase, dataset: Arc<Dataset> },
    /// The judge's agreement with the human labels of a dataset without a pass-rate gate, against
    /// its calibration gates (`min_kappa`, …): `<module>::<function>::calibration`.
    Calibration { case: &'static EvalCase, dataset: Arc<Dataset> },
    /// The judge's accuracy on synthetic pairs of a dataset's rows (`validate = "synthetic"`, or a
    /// `min_accuracy` gate): `<module>::<function>::synthetic`.
    Synthetic { case: &'static EvalCase, dataset: Arc<Dataset> },
    /// A dataset that could not be read.
    Unreadable { case: &'static EvalCase, error: DatasetError },
}

impl Subject {
    /// The test's name.
    pub fn name(&self) -> String {
        match self {
            Self::One(eval) => eval.name(),
            Self::Gate { case, .. } | Self::Unreadable { case, .. } => case.full_name(),
            Self::Calibration { case, .. } => format!("{}::calibration", case.full_name()),
            Self::Synthetic { case, .. } => format!("{}::synthetic", case.full_name()),
        }
    }

    /// The registered eval.
    pub fn case(&self) -> &'static EvalCase {
        match self {
            Self::One(eval) => eval.case,
            Self::Gate { case, .. }
            | Self::Calibration { case, .. }
            | Self::Synthetic { case, .. }
            | Self::Unreadable { case, .. } => case,
        }
    }

    /// Every name a judge.toml section may give for this test: its own, and a dataset's rows'.
    pub fn section_names(&self) -> Vec<String> {
        match self {
            Self::One(eval) => vec![eval.name()],
            Self::Gate { case, dataset } => std::iter::once(case.full_name())
                .chain(dataset.rows.iter().map(|row| format!("{}::{}", case.full_name(), row.id)))
                .collect(),
            Self::Unreadable { case, .. } | Self::Calibration { case, .. } | Self::Synthetic { case, .. } => {
                vec![case.full_name()]
            }
        }
    }
}

/// The tests of `cases`, in order; the datasets are read from `manifest_dir`. A file that several
/// evals name is read once. `validates` tells which dataset evals validate their judge on
/// synthetic pairs: they have a test for it, after their rows'.
pub(crate) fn subjects(
    manifest_dir: &Path,
    cases: &[&'static EvalCase],
    validates: impl Fn(&'static EvalCase) -> bool,
) -> Vec<Subject> {
    let mut subjects = Vec::with_capacity(cases.len());
    let mut read: HashMap<&str, Result<Arc<Dataset>, DatasetError>> = HashMap::new();
    for &case in cases {
        let Some(file) = case.dataset else {
            subjects.push(Subject::One(Eval::of(case)));
            continue;
        };
        let dataset = read.entry(file).or_insert_with(|| Dataset::read(manifest_dir, file).map(Arc::new));
        let dataset = match dataset {
            Ok(dataset) => Arc::clone(dataset),
            Err(error) => {
                subjects.push(Subject::Unreadable { case, error: error.clone() });
                continue;
            }
        };
        let validated = validates(case);
        // The dataset's own tests, after its rows: a row's id must not name one of them.
        let tests = [("calibration", calibrated(case, &dataset)), ("synthetic", validated)];
        let clash = tests
            .iter()
            .filter(|(_, has)| *has && case.min_pass_rate.is_none())
            .find_map(|(test, _)| dataset.rows.iter().find(|row| row.id == *test).map(|row| (*test, row.line)));
        if let Some((test, line)) = clash {
            let message = format!(
                "the id \"{test}\" names the dataset's {test} test (module::function::{test}): give the row another id"
            );
            subjects.push(Subject::Unreadable { case, error: DatasetError::new(&dataset.path, Some(line), message) });
            continue;
        }
        if case.min_pass_rate.is_some() {
            subjects.push(Subject::Gate { case, dataset: Arc::clone(&dataset) });
        } else {
            subjects.extend(dataset.rows.iter().map(|row| {
                let row = DatasetRow { dataset: Arc::clone(&dataset), row: Arc::clone(row) };
                Subject::One(Eval { case, row: Some(row) })
            }));
            // Labelled rows, or a calibration gate on the attribute: the judge's agreement with the
            // labels is a test of its own, after the rows.
            if calibrated(case, &dataset) {
                subjects.push(Subject::Calibration { case, dataset: Arc::clone(&dataset) });
            }
        }
        if validated {
            subjects.push(Subject::Synthetic { case, dataset });
        }
    }
    subjects
}

/// Runs `subject` to its test result; its records (one per eval or row) go to the run's recorder
/// as each finishes.
pub(crate) async fn run(ctx: &RunContext, subject: &Subject) -> Result<(), libtest_mimic::Failed> {
    match subject {
        Subject::One(eval) => {
            let (record, result) = judge_eval(ctx, eval).await;
            ctx.recorder.add(record);
            result
        }
        Subject::Unreadable { case, error } => {
            // An error record, so that the reports (JUnit's first) show the dataset that failed.
            let message = error.to_string();
            let identity = Eval::of(case).identity().0;
            ctx.recorder.add(EvalRecord::error(&identity, None, message.clone(), std::time::Duration::ZERO));
            Err(message.into())
        }
        Subject::Gate { case, dataset } => {
            let start = std::time::Instant::now();
            let min_pass_rate = case.min_pass_rate.expect("a gate has its pass rate");
            let rows = judge_rows(ctx, case, dataset, true, |_| true).await;
            let result = calibration_missed(ctx, case, &rows).and_then(|missed| {
                let passed = rows.iter().filter(|r| r.passed).count();
                let reached = crate::report::datasets::reaches(passed as f64 / rows.len() as f64, min_pass_rate);
                let kind = if reached { FailureKind::Calibration } else { FailureKind::BelowMinPassRate };
                if reached && missed.is_empty() {
                    Ok(())
                } else {
                    Err((Some(kind), message::gate_failed(&dataset.file, rows, min_pass_rate, &missed)))
                }
            });
            test_record(ctx, case, case.full_name(), result, start, None)
        }
        Subject::Synthetic { case, dataset } => {
            let start = std::time::Instant::now();
            let (synthetic, result) = crate::harness::validation::validate(ctx, case, dataset).await;
            test_record(ctx, case, subject.name(), result, start, synthetic)
        }
        Subject::Calibration { case, dataset } => {
            // The labelled rows judged again (their verdicts come from the cache, or are shared
            // with their own tests' calls in flight; their functions are called again), so that
            // this test decides alone, in any order and in a process of its own under nextest.
            let start = std::time::Instant::now();
            let rows = judge_rows(ctx, case, dataset, false, |row| row.human.is_some()).await;
            let result = calibration_missed(ctx, case, &rows).and_then(|missed| {
                if missed.is_empty() {
                    Ok(())
                } else {
                    Err((Some(FailureKind::Calibration), message::calibration_failed(&dataset.file, &missed)))
                }
            });
            test_record(ctx, case, subject.name(), result, start, None)
        }
    }
}

/// Judges the rows of `dataset` that `which` selects, at once under the in-flight limit, each
/// row's record handed to the recorder as it finishes when `record` is set: how each ended.
async fn judge_rows(
    ctx: &RunContext,
    case: &'static EvalCase,
    dataset: &Arc<Dataset>,
    record: bool,
    which: impl Fn(&crate::dataset::Row) -> bool,
) -> Vec<RowOutcome> {
    // The limit, not this bound, decides how many judge calls are in flight; the bound keeps a
    // large dataset from starting every row's function at once.
    let bound = ctx.run.values.max_concurrency.max(1);
    let rows = dataset.rows.iter().filter(|row| which(row)).map(|row| {
        let eval = Eval { case, row: Some(DatasetRow { dataset: Arc::clone(dataset), row: Arc::clone(row) }) };
        async move {
            let row_record = judge_eval(ctx, &eval).await.0;
            let row = message::row_outcome(&row_record);
            if record {
                ctx.recorder.add(row_record);
            }
            row
        }
    });
    futures::stream::iter(rows).buffer_unordered(bound).collect().await
}

/// Records the outcome of a test over a dataset's rows (its gate, its calibration, its synthetic
/// validation, with its `synthetic` record), named `name`, as an eval of its own, so that the
/// reports count it as libtest does; its result. An `Err` without a kind is an error (its settings
/// did not resolve), with one a failure.
fn test_record(
    ctx: &RunContext,
    case: &'static EvalCase,
    name: String,
    result: Result<(), (Option<FailureKind>, String)>,
    start: std::time::Instant,
    synthetic: Option<SyntheticRecord>,
) -> Result<(), libtest_mimic::Failed> {
    let mut identity = Eval::of(case).identity().0;
    identity.name = name;
    let mut record = EvalRecord::error(&identity, None, String::new(), start.elapsed());
    (record.status, record.failure, record.message) = match &result {
        Ok(()) => (Status::Passed, None, None),
        Err((None, message)) => (Status::Error, None, Some(message.clone())),
        Err((kind, message)) => (Status::Failed, *kind, Some(message.clone())),
    };
    record.synthetic = synthetic.map(Box::new);
    ctx.recorder.add(record);
    result.map_err(|(_, message)| message.into())
}

/// The calibration gates (`min_kappa`, …) of the dataset eval `case` that `rows` miss, each in a
/// line; `Err` when its settings do not resolve.
fn calibration_missed(
    ctx: &RunContext,
    case: &'static EvalCase,
    rows: &[RowOutcome],
) -> Result<Vec<String>, (Option<FailureKind>, String)> {
    let settings =
        ctx.settings.eval(&case.full_name(), case.attribute_settings(), None).map_err(|e| (None, e.to_string()))?;
    let values = &settings.values;
    let gates = Gates {
        min_agreement: values.min_agreement,
        min_kappa: values.min_kappa,
        min_spearman: values.min_spearman,
        max_mae: values.max_mae,
    };
    let mut labelled = Labelled::default();
    for row in rows {
        if let Some(points) = row.points {
            labelled.add(points, row.passed, row.human);
        }
    }
    let calibration = labelled.calibration();
    let mut missed = gates.missed(calibration.as_ref());
    if let (false, Some(calibration)) = (missed.is_empty(), calibration) {
        missed.push(format!("over {}", calibration.summary_line()));
    }
    Ok(missed)
}

/// Whether the dataset eval `case` over `dataset` has a calibration test: its rows carry human
/// labels, or its attribute sets a calibration gate (`min_kappa`, …).
fn calibrated(case: &EvalCase, dataset: &Dataset) -> bool {
    dataset.rows.iter().any(|row| row.human.is_some())
        || case
            .by_kind
            .iter()
            .any(|(key, _)| matches!(*key, "min_agreement" | "min_kappa" | "min_spearman" | "max_mae"))
}
