//! One eval per judging technique (docs/techniques/), on the example app. They need a judge that
//! writes text, not the embedded one:
//!
//! ```sh
//! JUDGE_MODEL=openai:gpt-4.1-mini OPENAI_API_KEY=... cargo test -p judge-examples --test techniques
//! ```
//!
//! `clock_hands_panel` also asks Anthropic (`ANTHROPIC_API_KEY`). The end-to-end tests run this file
//! against the fake judge server.

use judge_runtime::llm_eval;

const CLOCK: &str = "How many times a day do the hour and minute hands of a clock overlap?";

/// Rubric levels: the judge names the band before the score (docs/techniques/rubric-levels.md).
#[llm_eval(
    input = "How many times a day do the hour and minute hands of a clock overlap?",
    expected = "22 times a day",
    rubric = "Says 22 and justifies it.",
    levels = [
        "0-2: A wrong count, or no count.",
        "3-5: The right count, no justification.",
        "6-8: The right count with a partial justification.",
        "9-10: The right count, justified by the hands' relative speed.",
    ]
)]
fn clock_hands_levels() -> String {
    judge_examples::answer(CLOCK)
}

/// Several criteria in one call, each reduced on its own; accuracy must reach 0.8 by itself
/// (docs/techniques/criteria.md).
#[llm_eval(
    input = "Can I get a refund?",
    expected = "Unused items can be returned within 30 days of delivery for a full refund",
    rubric = "Answers a customer's refund question.",
    criteria = {
        accuracy = { rubric = "States the 30-day window and the full refund, inventing no condition.", weight = 2, threshold = 0.8 },
        completeness = "Says who pays the return shipping.",
        tone = { rubric = "Plain and friendly.", weight = 0.5 },
    },
    threshold = 0.6
)]
fn refund_criteria() -> String {
    judge_examples::answer("Can I get a refund?")
}

/// What the app answered before its last change.
fn previous_capital_answer() -> String {
    "Sydney is the capital of Australia.".to_owned()
}

/// Compared with the previous answer in both orders; the score is the win rate
/// (docs/techniques/pairwise.md).
#[llm_eval(
    input = "What is the capital of Australia?",
    expected = "Canberra",
    rubric = "Names Canberra as the capital.",
    compare_with = previous_capital_answer,
    threshold = 0.5
)]
fn capital_vs_previous() -> String {
    judge_examples::answer("What is the capital of Australia?")
}

/// G-Eval: the judge writes its evaluation steps once (cached), then follows them; scores weighted
/// by token probabilities where the provider returns them (docs/techniques/g-eval.md).
#[llm_eval(
    input = "How many times a day do the hour and minute hands of a clock overlap?",
    expected = "22 times a day",
    rubric = "Says 22 and justifies it; a wrong count scores 0-2.",
    steps = "auto",
    scoring = "weighted",
    samples = 3
)]
fn clock_hands_steps() -> String {
    judge_examples::answer(CLOCK)
}

/// Two judges of different families, combined by their median; a gap above 0.3 is flagged
/// (docs/techniques/ensembles.md).
#[llm_eval(
    input = "How many times a day do the hour and minute hands of a clock overlap?",
    expected = "22 times a day",
    rubric = "Says 22 and justifies it.",
    judges = ["openai:gpt-4.1-mini", "anthropic:claude-haiku-4-5"],
    combine = "median",
    max_spread = 0.3
)]
fn clock_hands_panel() -> String {
    judge_examples::answer(CLOCK)
}

/// At least two of three samples must pass (docs/techniques/reducers.md).
#[llm_eval(
    input = "What is the capital of Australia?",
    expected = "Canberra",
    rubric = "Names Canberra as the capital.",
    samples = 3,
    reduce = "at_least(2)"
)]
fn capital_at_least_two() -> String {
    judge_examples::answer("What is the capital of Australia?")
}

judge_runtime::main!();
