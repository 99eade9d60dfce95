//! Registration: every `#[llm_eval]` submits an [`EvalCase`] to a link-time collection, so an eval
//! that is written is an eval that runs; there is no list to forget.

use std::future::Future;
use std::pin::Pin;

use crate::dataset::Row;
use crate::settings::criteria::CriterionDef;
use crate::settings::steps::StepsDef;
use crate::settings::{AttributeSettings, AttributeValue};
use crate::snapshot::{SnapshotHook, SnapshotMode};
use judge_rules::judge::JudgeSpec;
use judge_rules::levels::Band;

/// An eval as `#[llm_eval]` registers it. Built only by the macro's expansion.
#[doc(hidden)]
#[derive(Debug)]
pub struct EvalCase {
    /// `module_path!()` where the eval is written.
    pub module_path: &'static str,
    /// The function's name, or the attribute's `name`.
    pub name: &'static str,
    /// The rubric the output is graded against.
    pub rubric: &'static str,
    /// The attribute's `dataset`: a file of cases, relative to the crate's manifest directory.
    pub dataset: Option<&'static str>,
    /// The attribute's `min_pass_rate`: the dataset is one test, passing when this share of its
    /// rows pass.
    pub min_pass_rate: Option<f64>,
    /// The input the output answers, shown to the judge.
    pub input: Option<&'static str>,
    /// A reference answer, for reference-guided grading.
    pub expected: Option<&'static str>,
    /// The attribute's `threshold`.
    pub threshold: Option<f64>,
    /// The attribute's `samples`: a number, or adaptive.
    pub samples: Option<judge_rules::Samples>,
    /// The attribute's `trim`.
    pub trim: Option<f64>,
    /// The attribute's `judge`.
    pub judge: Option<JudgeSpec>,
    /// The attribute's `temperature`.
    pub temperature: Option<f64>,
    /// The attribute's `max_tokens`.
    pub max_tokens: Option<u32>,
    /// The attribute's `seed`.
    pub seed: Option<u64>,
    /// The attribute's `timeout`, in seconds.
    pub timeout: Option<f64>,
    /// The attribute's `levels`: bands of the 0–10 scale, lowest first.
    pub levels: Option<&'static [Band]>,
    /// The attribute's `criteria`: scored separately, each with its rationale.
    pub criteria: Option<&'static [CriterionDef]>,
    /// The attribute's `compare_with` (or its old name, `baseline`): what each sample's output is
    /// compared with, in both orders.
    pub compare_with: Option<CompareWith>,
    /// The attribute's `judges`: an ensemble.
    pub judges: Option<&'static [JudgeSpec]>,
    /// The attribute's `combine`.
    pub combine: Option<judge_rules::words::Combine>,
    /// The attribute's `max_spread`.
    pub max_spread: Option<f64>,
    /// The attribute's `on_disagreement`.
    pub on_disagreement: Option<judge_rules::words::OnDisagreement>,
    /// The attribute's `steps`: G-Eval's evaluation steps, given or `"auto"`.
    pub steps: Option<StepsDef>,
    /// The attribute's `scoring`: true for `"weighted"`.
    pub scoring: Option<bool>,
    /// The attribute's settings read by their kind alone (a number in its range, one of its
    /// words, a text), by key.
    pub by_kind: &'static [(&'static str, AttributeValue)],
    /// The attribute's `reduce`.
    pub reduce: Option<judge_rules::Reduce>,
    /// The attribute's `snapshot`.
    pub snapshot: Option<SnapshotMode>,
    /// Asserts the eval's snapshot with insta; expanded in the eval's crate, so that the snapshot
    /// lands beside the eval's file.
    pub snapshot_hook: SnapshotHook,
    /// Whether the function carries `#[ignore]`.
    pub ignore: bool,
    /// The source file of the eval.
    pub file: &'static str,
    /// The line of the function in `file`.
    pub line: u32,
    /// Produces one output.
    pub output: OutputFn,
}

/// The future of an `async` eval function, with its output converted.
#[doc(hidden)]
pub type OutputFuture = Pin<Box<dyn Future<Output = Result<String, String>>>>;

/// How to call the eval function once; `Err` carries the function's error, formatted.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum OutputFn {
    /// A plain function: called on the blocking pool.
    Sync(fn() -> Result<String, String>),
    /// An `async fn`: polled on the eval's own task (it need not be `Send`).
    Async(fn() -> OutputFuture),
    /// A plain function that takes a dataset's row: called on the blocking pool. The outer `Err`
    /// says why the row cannot be read as the function's parameter.
    SyncRow(fn(&Row) -> Result<Result<String, String>, String>),
    /// An `async fn` that takes a dataset's row, read before the future is made.
    AsyncRow(fn(&Row) -> Result<OutputFuture, String>),
}

/// What an eval's outputs are compared with (`compare_with = "…"` or `compare_with = path::to::fn`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum CompareWith {
    /// A fixed text.
    Text(&'static str),
    /// Another output function, called once per sample.
    Function(OutputFn),
}

inventory::collect!(EvalCase);

impl EvalCase {
    /// The trial name: `module::path::name`.
    pub fn full_name(&self) -> String {
        format!("{}::{}", self.module_path, self.name)
    }

    pub(crate) fn attribute_settings(&self) -> AttributeSettings<'_> {
        AttributeSettings {
            judge: self.judge.as_ref(),
            threshold: self.threshold,
            samples: self.samples,
            trim: self.trim,
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            seed: self.seed,
            timeout: self.timeout,
            snapshot: self.snapshot,
            reduce: self.reduce,
            scoring: self.scoring,
            levels: self.levels,
            criteria: self.criteria,
            compares: self.compare_with.is_some(),
            judges: self.judges,
            combine: self.combine,
            max_spread: self.max_spread,
            on_disagreement: self.on_disagreement,
            steps: self.steps,
            by_kind: self.by_kind,
        }
    }
}

/// Every registered eval, sorted by name.
pub(crate) fn cases() -> Vec<&'static EvalCase> {
    let mut cases: Vec<&'static EvalCase> = inventory::iter::<EvalCase>.into_iter().collect();
    cases.sort_by_cached_key(|case| case.full_name());
    cases
}
