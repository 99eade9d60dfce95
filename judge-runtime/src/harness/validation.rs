//! A dataset's synthetic validation, the test `<module>::<function>::synthetic` (`validate =
//! "synthetic"`, or a `min_accuracy` gate): for each of the first `max_pairs` rows, its good
//! answer (the row's `expected`, else the function's output) and a worse one that a generator
//! writes (cached, and snapshotted for review), judged by the row's own judges; the share of
//! pairs they order right, gated by `min_accuracy`.

use std::fmt::Write as _;
use std::sync::Arc;

use futures::StreamExt;

use crate::dataset::Dataset;
use crate::harness::context::RunContext;
use crate::harness::eval::{DatasetRow, Eval};
use crate::harness::panel::Seated;
use crate::harness::registry::EvalCase;
use crate::harness::trial::generate;
use crate::judge::techniques::contrast::{self, Generated, Unusable};
use crate::outcome::{EvalFailure, FailureKind};
use crate::settings::SnapshotMode;
use crate::snapshot::{Snapshot, SnapshotState};
use crate::synthetic::{JudgedPair, SyntheticRecord};

/// The failing pairs a failure's message lists, at most.
const FAILING_SHOWN: usize = 5;

/// How the validation ended: its record (when the pairs could be made and judged) and the test's
/// result, an `Err` with a kind for a missed gate or a changed strict snapshot, without one for an
/// error.
pub(crate) type Validated = (Option<SyntheticRecord>, Result<(), (Option<FailureKind>, String)>);

/// One row's pair: what the snapshot shows, and how it was judged or why it was dropped.
struct RowPair {
    id: String,
    task: String,
    good: String,
    generated: Generated,
    judged: Result<JudgedPair, Unusable>,
}

/// Validates the judge of the dataset eval `case` on synthetic pairs of `dataset`'s rows.
pub(crate) async fn validate(ctx: &RunContext, case: &'static EvalCase, dataset: &Arc<Dataset>) -> Validated {
    let error = |message: String| (None, Err((None, message)));
    let settings = match ctx.settings.eval(&case.full_name(), case.attribute_settings(), None) {
        Ok(settings) => settings,
        Err(e) => return error(e.to_string()),
    };
    let max_pairs = settings.values.max_pairs as usize;
    // As the rows are judged: under the in-flight limit, in file order.
    let bound = ctx.run.values.max_concurrency.max(1);
    let rows = dataset.rows.iter().take(max_pairs).map(|row| {
        let eval = Eval { case, row: Some(DatasetRow { dataset: Arc::clone(dataset), row: Arc::clone(row) }) };
        async move { pair(ctx, &eval).await.map_err(|failure| format!("row `{}`: {failure}", row.id)) }
    });
    let pairs: Vec<Result<RowPair, String>> = futures::stream::iter(rows).buffered(bound).collect().await;
    let pairs = match pairs.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(pairs) => pairs,
        Err(message) => {
            return error(format!("the synthetic pairs of {} could not be judged: {message}", dataset.file));
        }
    };
    let judged: Vec<JudgedPair> = pairs.iter().filter_map(|p| p.judged.as_ref().ok().cloned()).collect();
    let dropped: Vec<Unusable> = pairs.iter().filter_map(|p| p.judged.as_ref().err().copied()).collect();
    let record = SyntheticRecord::of(&dataset.file, &judged, &dropped, settings.values.min_accuracy);

    let snapshot = Snapshot::synthetic_pairs(case.name, &case.full_name(), &dataset.file, snapshot_body(&pairs));
    let mut problems = Vec::new();
    let mut kind = None;
    if let Some(missed) = record.missed() {
        problems.push(failed_message(&record, &missed));
        kind = Some(FailureKind::SyntheticAccuracy);
    }
    if settings.values.snapshot == SnapshotMode::Strict {
        match snapshot.assert(case.snapshot_hook) {
            Ok(SnapshotState::Changed) => {
                problems.push(format!(
                    "the synthetic pairs of {} changed (`snapshot = \"strict\"`): review them with `cargo insta \
                     review`",
                    dataset.file
                ));
                kind = kind.or(Some(FailureKind::SnapshotChanged));
            }
            Ok(_) => {}
            Err(message) => return (Some(record), Err((None, message))),
        }
    } else {
        // Every validation snapshots its pairs: they are what a person reviews before trusting
        // the accuracy. Asserted after the run, like the verdicts' snapshots.
        ctx.snapshots.defer(format!("{}::synthetic", case.full_name()), snapshot, case.snapshot_hook);
    }
    let result = if problems.is_empty() { Ok(()) } else { Err((kind, problems.join("\n"))) };
    (Some(record), result)
}

/// The pair of one row: its good answer, the generator's worse one, and the judges' scores of
/// both, or why the pair was dropped. `Err`: the row's settings, function, generator or judges
/// failed.
async fn pair(ctx: &RunContext, eval: &Eval) -> Result<RowPair, EvalFailure> {
    let (identity, unfilled) = eval.identity();
    if let Some(error) = unfilled {
        return Err(error.into());
    }
    let settings = eval.settings(&ctx.settings)?;
    let id = eval.row.as_ref().map(|row| row.row.id.clone()).unwrap_or_default();
    // The task the good answer answers: the row's input, else (an eval that takes none) its rubric.
    let task = identity.input.clone().unwrap_or_else(|| identity.rubric.clone());
    let good = match &identity.expected {
        Some(expected) => expected.clone(),
        None => {
            generate(eval, eval.case.output).await?.map_err(|message| EvalFailure::Output { sample: 0, message })?
        }
    };
    let generator = ctx.judge(settings.generator.as_ref().unwrap_or_else(|| settings.judge())).await?;
    let generated = ctx.contrast(&generator, &settings, &task, &good).await?;
    let worse = match &generated {
        Generated::Unreadable(_) => Err(Unusable::Unreadable),
        Generated::Pair(pair) => contrast::unusable(&good, pair).map_or(Ok(pair), Err),
    };
    let judged = match worse {
        Err(unusable) => Err(unusable),
        Ok(worse) => {
            let seated = Seated::new(ctx, &identity, &settings).await?;
            let panel = seated.panel(&settings, &[]);
            let compares = eval.row_compare_with().is_some()
                || eval.case.compare_with.is_some()
                || settings.compare_with.is_some();
            // One verdict each (sample 0): a good answer that is the function's output is then
            // the row's own first request, judged once for both.
            let (good_score, worse_score) = if compares {
                // Both orders, as the comparison technique asks: the good answer's win score.
                let (verdict, _) = panel.verdict(ctx, &good, Some(&worse.answer), 0).await?;
                (verdict.normalized(), 1.0 - verdict.normalized())
            } else {
                let (good, worse) = futures::future::try_join(
                    panel.verdict(ctx, &good, None, 0),
                    panel.verdict(ctx, &worse.answer, None, 0),
                )
                .await?;
                (good.0.normalized(), worse.0.normalized())
            };
            Ok(JudgedPair {
                id: id.clone(),
                instruction: worse.instruction.clone(),
                good: good_score,
                worse: worse_score,
            })
        }
    };
    Ok(RowPair { id, task, good, generated, judged })
}

/// What the snapshot of the pairs holds: per row, the task, the good answer, the generated
/// instruction and worse answer, and a dropped pair's reason; not the judges' scores, which the
/// reports carry (a changed judge does not change the pairs).
fn snapshot_body(pairs: &[RowPair]) -> String {
    let mut body = String::new();
    for (i, pair) in pairs.iter().enumerate() {
        if i > 0 {
            body.push('\n');
        }
        let _ = writeln!(body, "## row {}", pair.id);
        let _ = writeln!(body, "task: {}", pair.task.trim());
        let _ = writeln!(body, "good answer: {}", pair.good.trim());
        match &pair.generated {
            Generated::Pair(generated) => {
                let _ = writeln!(body, "generated instruction: {}", generated.instruction.trim());
                let _ = writeln!(body, "worse answer: {}", generated.answer.trim());
            }
            Generated::Unreadable(reason) => {
                let _ = writeln!(body, "generator's reply unreadable: {reason}");
            }
        }
        if let Err(unusable) = &pair.judged {
            let _ = writeln!(body, "dropped: {}", unusable_word(*unusable));
        }
    }
    body
}

/// The report's word for why a pair was dropped.
fn unusable_word(unusable: Unusable) -> &'static str {
    match unusable {
        Unusable::Identical => "identical",
        Unusable::Empty => "empty",
        Unusable::Refused => "refused",
        Unusable::Unreadable => "unreadable",
    }
}

/// The message of a missed `min_accuracy`: the miss, then the first failing pairs.
fn failed_message(record: &SyntheticRecord, missed: &str) -> String {
    let mut message = format!("synthetic pairs of {}: {missed}", record.file);
    for pair in record.failing.iter().take(FAILING_SHOWN) {
        let _ = write!(
            message,
            "\n  row `{}`: good answer {:.2}, worse answer {:.2} (it answers: {})",
            pair.id, pair.good, pair.worse, pair.instruction
        );
    }
    let failing = record.pairs - (record.accuracy * record.pairs as f64).round() as usize;
    if failing > FAILING_SHOWN {
        let _ = write!(message, "\n  … and {} more in the reports", failing - FAILING_SHOWN);
    }
    message
}
