//! Evals that use the judging techniques of the seeds, from the attribute. Run by the end-to-end
//! tests against the fake judge.

use std::sync::atomic::{AtomicUsize, Ordering};

use judge_runtime::llm_eval;

/// Seven scripted scores, one per call of the eval function that owns `calls`: 9, 2, 6, 7, 10, 5, 8
/// (sorted: 2, 5, 6, 7, 8, 9, 10; mean 47/70; median 7; trimmed mean 7).
fn seven(calls: &AtomicUsize) -> String {
    let score = [9, 2, 6, 7, 10, 5, 8][calls.fetch_add(1, Ordering::SeqCst) % 7];
    format!("[score:{score}]")
}

/// Declares an eval over the seven scripted scores with the given attribute arguments.
macro_rules! seven_eval {
    ($name:ident, $($args:tt)*) => {
        #[llm_eval(rubric = "Scripted.", input = "Say a number.", expected = "number", samples = 7, $($args)*)]
        fn $name() -> String {
            static CALLS: AtomicUsize = AtomicUsize::new(0);
            seven(&CALLS)
        }
    };
}

// The median, 0.7, reaches 0.7.
seven_eval!(median_seven, reduce = "median");
// The plain mean, 0.67, does not.
seven_eval!(mean_seven, reduce = "mean");
// The lowest, 0.2, reaches 0.2.
seven_eval!(min_seven, reduce = "min", threshold = 0.2);
// Three samples (10, 9, 8) reach 0.8.
seven_eval!(at_least_three, reduce = "at_least(3)", threshold = 0.8);
// A fourth does not.
seven_eval!(at_least_four, reduce = "at_least(4)", threshold = 0.8);
// Not every sample reaches 0.5.
seven_eval!(pass_all_seven, reduce = "pass_all", threshold = 0.5);
// No `reduce`: the environment or judge.toml decides; the default trimmed mean gives 0.7.
seven_eval!(reduce_unset, threshold = 0.7);

/// The judge writes 7, with its token probabilities split evenly between 7 and 9: G-Eval weighs
/// them to 8 (the default).
#[llm_eval(rubric = "Scripted.", input = "i", expected = "e")]
fn weighted_scoring() -> String {
    "[score:7] [dist:7=0.5,9=0.5] scoring".to_owned()
}

/// The same reply, taken at its word.
#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", scoring = "stated")]
fn stated_scoring() -> String {
    "[score:7] [dist:7=0.5,9=0.5] scoring".to_owned()
}

/// Seed 002's bands; the reference-word score of "24 times" is 0: level 0-2.
#[llm_eval(
    rubric = "Says the hands overlap 22 times a day.",
    input = "How many times a day do the hands overlap?",
    expected = "22",
    levels = [
        "0-2: Expected output requirements completely unmet or contradicted.",
        "3-4: Expected output requirements mostly unmet with significant gaps.",
        "5-6: Expected output requirements partially met.",
        "7-8: Expected output requirements mostly met.",
        "9-10: Expected output requirements fully met.",
    ]
)]
fn levelled() -> String {
    "They overlap 24 times a day.".to_owned()
}

/// Accuracy from the reference's words (10/10), clarity from the scripted marker: 8, 2, 9 over three
/// samples. Each criterion is reduced on its own (median: accuracy 1.0, clarity 0.8); the score is
/// their weighted mean, (3 × 1.0 + 1 × 0.8) / 4 = 0.95.
#[llm_eval(
    rubric = "Answers the question well.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times",
    samples = 3,
    reduce = "median",
    criteria = {
        accuracy = { rubric = "States the right number.", weight = 3 },
        clarity = { rubric = "Says it plainly.", threshold = 0.7 },
    },
)]
fn criteria_pass() -> String {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let clarity = [8, 2, 9][CALLS.fetch_add(1, Ordering::SeqCst) % 3];
    format!("22 times [clarity:{clarity}]")
}

/// Samples (accuracy, clarity): (10, 2), (2, 10), (10, 10); weighted 0.6, 0.6, 1.0. `at_least(2)`
/// asks about single samples, so it decides on those: the second highest is 0.6, a failure (each
/// criterion alone would have two samples at 1.0).
#[llm_eval(
    rubric = "Answers the question well.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times",
    samples = 3,
    reduce = "at_least(2)",
    criteria = { accuracy = "States the right number.", clarity = "Says it plainly." },
)]
fn criteria_at_least_two() -> String {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let (accuracy, clarity) = [(10, 2), (2, 10), (10, 10)][CALLS.fetch_add(1, Ordering::SeqCst) % 3];
    format!("[accuracy:{accuracy}] [clarity:{clarity}]")
}

/// Well above the eval's threshold overall, (3 × 1.0 + 0.4) / 4 = 0.85, but clarity (0.4) misses
/// its own threshold of 0.7: the eval fails and the message names clarity.
#[llm_eval(
    rubric = "Answers the question well.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times",
    criteria = {
        accuracy = { rubric = "States the right number.", weight = 3 },
        clarity = { rubric = "Says it plainly.", threshold = 0.7 },
    },
)]
fn criteria_fail_on_one() -> String {
    "22 times [clarity:4]".to_owned()
}

/// "22 times" has every word of the reference, the baseline "24 times" half: a win in both orders,
/// three samples, a win rate of 1.0.
#[llm_eval(
    rubric = "Says how many times a day the hands overlap.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times",
    samples = 3,
    compare_with = "They overlap 24 times."
)]
fn beats_baseline() -> String {
    "They overlap 22 times.".to_owned()
}

/// As good as its baseline: a tie, whichever order; a judge biased to the first position names
/// a different winner in each order, which is also a tie. Win rate 0.5.
#[llm_eval(
    rubric = "Says how many times a day the hands overlap.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times",
    threshold = 0.5,
    compare_with = "22 times, as the hands meet every 12/11 hours."
)]
fn ties_baseline() -> String {
    "22 times.".to_owned()
}

/// The same tie, where every comparison being a tie fails the eval: the judge could not tell the
/// outputs apart (`on_tie = "fail"`, read by its kind).
#[llm_eval(
    rubric = "Says how many times a day the hands overlap.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times",
    samples = 2,
    threshold = 0.5,
    on_tie = "fail",
    compare_with = "22 times, as the hands meet every 12/11 hours."
)]
fn ties_fail() -> String {
    "22 times.".to_owned()
}

/// The baseline, from another function (a `Result`, as an app's call would be).
fn current_answer() -> Result<String, std::io::Error> {
    Ok("The hands overlap 22 times a day.".to_owned())
}

/// Worse than the baseline function's answer: a loss in both orders, win rate 0.
#[llm_eval(
    rubric = "Says how many times a day the hands overlap.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times",
    compare_with = current_answer,
)]
fn loses_to_baseline_fn() -> String {
    "Twice an hour.".to_owned()
}

/// Two providers that agree: OpenAI's and Anthropic's wire formats, both scoring 8.
#[llm_eval(
    rubric = "Scripted.",
    input = "i",
    expected = "e",
    judges = ["openai:judge-a", "anthropic:judge-b"],
    scoring = "stated"
)]
fn ensemble_agrees() -> String {
    "[score:8] ensemble".to_owned()
}

/// Three judges: 9, 8 and 2. The median, 0.8, passes; but the spread, 0.7, is above max_spread
/// and fails the eval.
#[llm_eval(
    rubric = "Scripted.",
    input = "i",
    expected = "e",
    judges = ["openai:judge-a", "openai:judge-b", "openai:judge-c"],
    combine = "median",
    max_spread = 0.3,
    on_disagreement = "fail",
    scoring = "stated"
)]
fn ensemble_disagrees() -> String {
    "[score@judge-a:9] [score@judge-b:8] [score@judge-c:2]".to_owned()
}

/// The same three judges vote: two of three reach 0.7, so the sample scores 1.
#[llm_eval(
    rubric = "Scripted.",
    input = "i",
    expected = "e",
    judges = ["openai:judge-a", "openai:judge-b", "openai:judge-c"],
    combine = "majority",
    scoring = "stated"
)]
fn ensemble_majority() -> String {
    "[score@judge-a:9] [score@judge-b:8] [score@judge-c:2]".to_owned()
}

/// No `judges`: an ensemble from the environment or judge.toml scores 9 and 5 (mean 0.7).
#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", scoring = "stated")]
fn ensemble_unset() -> String {
    "[score@judge-a:9] [score@judge-b:5]".to_owned()
}

/// G-Eval: the judge writes the evaluation steps once, then follows them for both samples.
#[llm_eval(
    rubric = "Says the hands overlap 22 times a day.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times",
    samples = 2,
    steps = "auto"
)]
fn auto_steps() -> String {
    "They overlap 22 times.".to_owned()
}

/// The author's own steps.
#[llm_eval(
    rubric = "Says the hands overlap 22 times a day.",
    input = "How many times a day do the hands overlap?",
    expected = "22 times",
    steps = ["Find the number the output states.", "Check it against the reference answer."]
)]
fn given_steps() -> String {
    "They overlap 22 times.".to_owned()
}

judge_runtime::main!();
