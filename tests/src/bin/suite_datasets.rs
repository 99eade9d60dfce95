//! A harness binary like a user's suite driven by datasets (tests/data/datasets), run by the
//! end-to-end tests against the fake judge. Markers in outputs script the fake judge: `[score:N]`.
//! The datasets are read when the binary runs, so the tests edit rows without rebuilding it.

use judge_runtime::{Case, llm_eval};

/// The app's answer to a support question; `weak-answer` scores 3.
fn answer(case: &Case) -> String {
    let score = if case.id == "weak-answer" { 3 } else { 9 };
    format!("[score:{score}] An answer to: {}", case.input)
}

/// An answer scored by the row's `score` variable (9 without one).
fn scripted(case: &Case) -> anyhow::Result<String> {
    let score = if case.vars.contains_key("score") { case.var::<u32>("score")? } else { 9 };
    Ok(format!("[score:{score}] An answer to: {}", case.input))
}

/// One test per row. No threshold of its own, so that judge.toml's sections for the dataset and
/// for a row apply (the default, 0.7, otherwise).
#[llm_eval(dataset = "data/datasets/support.jsonl", rubric = "Answers {{input}} correctly.")]
fn support(case: &Case) -> String {
    answer(case)
}

/// One test for the dataset: 4 of its 5 rows pass.
#[llm_eval(dataset = "data/datasets/support.jsonl", rubric = "Answers correctly.", min_pass_rate = 0.8)]
async fn support_gate(case: &Case) -> anyhow::Result<String> {
    Ok(answer(case))
}

/// The same gate, set higher than the rows reach.
#[llm_eval(dataset = "data/datasets/support.jsonl", rubric = "Answers correctly.", min_pass_rate = 0.9)]
fn support_strict_gate(case: &Case) -> String {
    answer(case)
}

/// A ticket, read from a CSV row of the user's own shape.
#[derive(serde::Deserialize)]
struct Ticket {
    subject: String,
    priority: String,
    body: String,
}

#[llm_eval(dataset = "data/datasets/tickets.csv", rubric = "Triage of ticket {{id}} names its priority.")]
fn tickets(ticket: Ticket) -> String {
    format!("[score:8] {} (priority {}): {}", ticket.subject, ticket.priority, ticket.body)
}

/// A `.json` dataset: an array of objects, each on the line it starts on.
#[llm_eval(dataset = "data/datasets/faq.json", rubric = "Answers the FAQ {{input}}.")]
fn faq(case: &Case) -> anyhow::Result<String> {
    scripted(case)
}

/// A dataset eval that runs only when asked for (`--ignored`).
#[llm_eval(dataset = "data/datasets/faq.json", rubric = "Answers the FAQ in depth.")]
#[ignore]
fn faq_in_depth(case: &Case) -> anyhow::Result<String> {
    scripted(case)
}

/// Rows that set their own threshold, samples, rubric and comparison over the attribute's; the
/// attribute's rubric asks for each row's `audience`.
#[llm_eval(
    dataset = "data/datasets/overrides.jsonl",
    rubric = "Answers {{input}} for a {{audience}} customer.",
    threshold = 0.7
)]
fn overrides(case: &Case) -> anyhow::Result<String> {
    scripted(case)
}

/// The same rows behind a gate every row must pass: one test, whose failure lists the rows that
/// fail, those that could not be judged included.
#[llm_eval(
    dataset = "data/datasets/overrides.jsonl",
    rubric = "Answers {{input}} for a {{audience}} customer.",
    threshold = 0.7,
    min_pass_rate = 1.0
)]
fn overrides_gate(case: &Case) -> anyhow::Result<String> {
    scripted(case)
}

/// `min_pass_rate = 0.0`: one test for the dataset, with no pass rate to reach; its rows are still
/// judged and reported.
#[llm_eval(
    dataset = "data/datasets/overrides.jsonl",
    rubric = "Answers {{input}} for a {{audience}} customer.",
    threshold = 0.7,
    min_pass_rate = 0.0
)]
fn overrides_ungated(case: &Case) -> anyhow::Result<String> {
    scripted(case)
}

/// A git-ignored scratch file the end-to-end tests write and grow between runs of this same
/// binary. While it is absent, the eval is one failing test that says so.
#[llm_eval(dataset = "data/datasets/scratch/growing.jsonl", rubric = "Answers {{input}}.")]
fn growing(case: &Case) -> anyhow::Result<String> {
    scripted(case)
}

/// Rows whose verdicts are snapshotted with insta, one snapshot per row, named `<fn>@<id>` (the id
/// percent-encoded). `SUITE_CHANGED_ROW` names a row whose answer scores lower, so that a test can
/// change one row's snapshot between runs.
#[llm_eval(dataset = "data/datasets/snapshots.jsonl", rubric = "Answers {{input}}.", threshold = 0.5, snapshot = true)]
fn snapshotted(case: &Case) -> anyhow::Result<String> {
    changeable(case)
}

/// The same rows, where a changed snapshot fails the row.
#[llm_eval(
    dataset = "data/datasets/snapshots.jsonl",
    rubric = "Answers {{input}}.",
    threshold = 0.5,
    snapshot = "strict"
)]
fn snapshotted_strict(case: &Case) -> anyhow::Result<String> {
    changeable(case)
}

/// [`scripted`], except for the row `SUITE_CHANGED_ROW` names, which scores 5.
fn changeable(case: &Case) -> anyhow::Result<String> {
    if std::env::var("SUITE_CHANGED_ROW").is_ok_and(|id| id == case.id) {
        return Ok(format!("[score:5] Another answer to: {}", case.input));
    }
    scripted(case)
}

/// A git-ignored scratch file a test writes, then rewrites with other scores, to compare a run
/// with the score baseline of the one before. While it is absent, the eval is one failing test.
#[llm_eval(dataset = "data/datasets/scratch/drifting.jsonl", rubric = "Answers {{input}}.", threshold = 0.5)]
fn drifting(case: &Case) -> anyhow::Result<String> {
    scripted(case)
}

/// The judging techniques of the attribute over the rows of techniques.jsonl, whose variables
/// script each technique's markers.
mod techniques {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use judge_runtime::{Case, llm_eval};

    /// Accuracy is right (10); clarity is the row's `clarity`. `moon`'s clarity (3) misses its own
    /// threshold though its weighted score is above the eval's.
    #[llm_eval(
        dataset = "data/datasets/techniques.jsonl",
        rubric = "Answers {{input}} well.",
        criteria = {
            accuracy = { rubric = "States the right number.", weight = 3 },
            clarity = { rubric = "Says it plainly.", threshold = 0.5 },
        },
    )]
    fn criteria(case: &Case) -> anyhow::Result<String> {
        let clarity: u32 = case.var("clarity")?;
        Ok(format!("[accuracy:10] [clarity:{clarity}] An answer to: {}", case.input))
    }

    /// The judge names the band of the row's `score`.
    #[llm_eval(
        dataset = "data/datasets/techniques.jsonl",
        rubric = "Answers {{input}}.",
        threshold = 0.5,
        levels = ["0-4: Wrong or missing.", "5-7: Partly right.", "8-10: Right and complete."]
    )]
    fn levels(case: &Case) -> anyhow::Result<String> {
        super::scripted(case)
    }

    /// Two judges, each scripted by the row's `panel`: `[judge-a, judge-b]`.
    #[llm_eval(
        dataset = "data/datasets/techniques.jsonl",
        rubric = "Answers {{input}}.",
        threshold = 0.5,
        judges = ["openai:judge-a", "openai:judge-b"]
    )]
    fn judges(case: &Case) -> anyhow::Result<String> {
        let [a, b]: [u32; 2] = case.var("panel")?;
        Ok(format!("[score@judge-a:{a}] [score@judge-b:{b}] An answer to: {}", case.input))
    }

    /// Three samples of a row score its `scores` in turn; the median decides.
    #[llm_eval(
        dataset = "data/datasets/techniques.jsonl",
        rubric = "Answers {{input}}.",
        reduce = "median",
        samples = 3
    )]
    fn median(case: &Case) -> anyhow::Result<String> {
        static CALLS: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
        let scores: Vec<u32> = case.var("scores")?;
        let call = {
            let mut calls = CALLS.lock().unwrap_or_else(|e| e.into_inner());
            let call = calls.entry(case.id.clone()).or_default();
            *call += 1;
            *call - 1
        };
        Ok(format!("[score:{}] Answer {} to: {}", scores[call % scores.len()], call + 1, case.input))
    }

    /// The author's evaluation steps, for every row.
    #[llm_eval(
        dataset = "data/datasets/techniques.jsonl",
        rubric = "Answers {{input}}.",
        threshold = 0.5,
        steps = ["Find the number the output states.", "Check it against the reference answer."]
    )]
    fn steps(case: &Case) -> anyhow::Result<String> {
        super::scripted(case)
    }
}

/// Datasets whose rows carry a person's label (`human`), and the judge against them: labelled.jsonl
/// (scores 0–10) and labelled_pass.jsonl (true/false). A row's `score` scripts the judge, its
/// `dist` the judge's distribution over scores (weighted scoring). The rows pass their threshold
/// (0.0) unless a test needs them not to, so that a run's outcome is the calibration's. Other
/// tests that run the whole suite skip `calibration::`.
mod calibration {
    use judge_runtime::{Case, llm_eval};

    /// `[score:N]` from the row's `score`, with `[dist:…]` from its `dist` when it has one. Fails
    /// the row if its label reached the function: a label is not a variable.
    fn labelled(case: &Case) -> anyhow::Result<String> {
        anyhow::ensure!(!case.vars.contains_key("human"), "the row's human label is one of its variables");
        let score: u32 = case.var("score")?;
        let dist = case.var::<Option<String>>("dist")?.map(|d| format!(" [dist:{d}]")).unwrap_or_default();
        Ok(format!("[score:{score}]{dist} An answer to: {}", case.input))
    }

    /// Weighted scoring (the default): the rows with a `dist` score between whole points. No gate:
    /// the calibration is a test of its own, `scores::calibration`, that passes.
    #[llm_eval(dataset = "data/datasets/labelled.jsonl", rubric = "Answers {{input}}.", threshold = 0.0)]
    fn scores(case: &Case) -> anyhow::Result<String> {
        labelled(case)
    }

    /// Stated scoring, one sample: every judge score is a whole number.
    #[llm_eval(
        dataset = "data/datasets/labelled.jsonl",
        rubric = "Answers {{input}}.",
        threshold = 0.0,
        scoring = "stated"
    )]
    fn stated(case: &Case) -> anyhow::Result<String> {
        labelled(case)
    }

    /// Every calibration gate, each met.
    #[llm_eval(
        dataset = "data/datasets/labelled.jsonl",
        rubric = "Answers {{input}}.",
        threshold = 0.0,
        min_agreement = 0.2,
        min_kappa = 0.1,
        min_spearman = 0.8,
        max_mae = 1.5
    )]
    fn lenient(case: &Case) -> anyhow::Result<String> {
        labelled(case)
    }

    /// A Spearman correlation the judge does not reach.
    #[llm_eval(
        dataset = "data/datasets/labelled.jsonl",
        rubric = "Answers {{input}}.",
        threshold = 0.0,
        min_spearman = 0.99
    )]
    fn strict_spearman(case: &Case) -> anyhow::Result<String> {
        labelled(case)
    }

    /// A mean absolute error the judge exceeds.
    #[llm_eval(dataset = "data/datasets/labelled.jsonl", rubric = "Answers {{input}}.", threshold = 0.0, max_mae = 0.1)]
    fn strict_mae(case: &Case) -> anyhow::Result<String> {
        labelled(case)
    }

    /// A pass-rate gate every row reaches, and a kappa the judge does not: one test, failed by
    /// the calibration.
    #[llm_eval(
        dataset = "data/datasets/labelled.jsonl",
        rubric = "Answers {{input}}.",
        threshold = 0.0,
        min_pass_rate = 0.5,
        min_kappa = 0.95
    )]
    fn gated(case: &Case) -> anyhow::Result<String> {
        labelled(case)
    }

    /// The same pass-rate gate, with a kappa the judge reaches: one test, passed.
    #[llm_eval(
        dataset = "data/datasets/labelled.jsonl",
        rubric = "Answers {{input}}.",
        threshold = 0.0,
        min_pass_rate = 0.5,
        min_kappa = 0.1
    )]
    fn gated_lenient(case: &Case) -> anyhow::Result<String> {
        labelled(case)
    }

    /// No gate of its own, so that judge.toml's apply.
    #[llm_eval(dataset = "data/datasets/labelled.jsonl", rubric = "Answers {{input}}.", threshold = 0.0)]
    fn configured(case: &Case) -> anyhow::Result<String> {
        labelled(case)
    }

    /// A rubric that asks for the label: every row fails, the judge asked nothing.
    #[llm_eval(
        dataset = "data/datasets/labelled.jsonl",
        rubric = "Answers {{input}} as well as a person scored it: {{human}}.",
        threshold = 0.0
    )]
    fn peeking(case: &Case) -> anyhow::Result<String> {
        labelled(case)
    }

    /// Pass/fail labels: a row passes the judge at 0.7 (a score of 7), the person's as labelled.
    #[llm_eval(dataset = "data/datasets/labelled_pass.jsonl", rubric = "Answers {{input}}.", threshold = 0.7)]
    fn pass_fail(case: &Case) -> anyhow::Result<String> {
        labelled(case)
    }

    /// Pass/fail labels behind a gate of no pass rate: an agreement the judge misses, and two
    /// gates that need score labels.
    #[llm_eval(
        dataset = "data/datasets/labelled_pass.jsonl",
        rubric = "Answers {{input}}.",
        threshold = 0.7,
        min_pass_rate = 0.0,
        min_agreement = 0.9,
        min_spearman = 0.5,
        max_mae = 1.0
    )]
    fn pass_fail_gated(case: &Case) -> anyhow::Result<String> {
        labelled(case)
    }

    /// A calibration gate on a dataset without labels, and without a pass-rate gate.
    #[llm_eval(dataset = "data/datasets/faq.json", rubric = "Answers the FAQ {{input}}.", min_kappa = 0.4)]
    fn unlabelled(case: &Case) -> anyhow::Result<String> {
        super::scripted(case)
    }
}

/// Datasets that cannot be read, or rows that cannot be judged: each fails with a message that
/// starts `PATH:LINE:` (`PATH:` for the file as a whole), never a panic.
mod bad {
    use judge_runtime::{Case, llm_eval};

    use super::{Ticket, scripted};

    #[llm_eval(dataset = "data/datasets/bad/missing.jsonl", rubric = "Answers.")]
    fn missing(case: &Case) -> anyhow::Result<String> {
        scripted(case)
    }

    #[llm_eval(dataset = "data/datasets/bad/malformed.jsonl", rubric = "Answers.")]
    fn malformed(case: &Case) -> anyhow::Result<String> {
        scripted(case)
    }

    /// Its second row has no `input`, which a `&Case` needs; its first is judged.
    #[llm_eval(dataset = "data/datasets/bad/no_input.jsonl", rubric = "Answers.")]
    fn no_input(case: &Case) -> anyhow::Result<String> {
        scripted(case)
    }

    #[llm_eval(dataset = "data/datasets/bad/wrong_type.jsonl", rubric = "Answers.")]
    fn wrong_type(case: &Case) -> anyhow::Result<String> {
        scripted(case)
    }

    #[llm_eval(dataset = "data/datasets/bad/cases.txt", rubric = "Answers.")]
    fn unknown_extension(case: &Case) -> anyhow::Result<String> {
        scripted(case)
    }

    #[llm_eval(dataset = "data/datasets/bad/empty.jsonl", rubric = "Answers.")]
    fn empty(case: &Case) -> anyhow::Result<String> {
        scripted(case)
    }

    #[llm_eval(dataset = "data/datasets/bad/out_of_range.jsonl", rubric = "Answers.")]
    fn out_of_range(case: &Case) -> anyhow::Result<String> {
        scripted(case)
    }

    /// Its second row's `human` label, 12, is off the judge's scale 0–10: that row fails alone.
    #[llm_eval(dataset = "data/datasets/bad/off_scale.jsonl", rubric = "Answers.")]
    fn off_scale(case: &Case) -> anyhow::Result<String> {
        scripted(case)
    }

    /// An id that would make a test name of several segments.
    #[llm_eval(dataset = "data/datasets/bad/id.jsonl", rubric = "Answers.")]
    fn path_in_id(case: &Case) -> anyhow::Result<String> {
        scripted(case)
    }

    #[llm_eval(dataset = "data/datasets/bad/duplicate.jsonl", rubric = "Answers.")]
    fn duplicate(case: &Case) -> anyhow::Result<String> {
        scripted(case)
    }

    #[llm_eval(dataset = "data/datasets/bad/fields.csv", rubric = "Answers.")]
    fn wrong_field_count(case: &Case) -> anyhow::Result<String> {
        scripted(case)
    }

    /// Its second row lacks a field the user's type needs.
    #[llm_eval(dataset = "data/datasets/bad/tickets.jsonl", rubric = "Triages the ticket.")]
    fn not_a_ticket(ticket: &Ticket) -> String {
        format!("[score:8] {} (priority {}): {}", ticket.subject, ticket.priority, ticket.body)
    }
}

judge_runtime::main!();
