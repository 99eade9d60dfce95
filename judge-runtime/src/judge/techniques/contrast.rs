//! Synthetic contrastive pairs (the Self-Taught Evaluator recipe, seed 003): for a task with a good
//! answer, a generator writes an instruction that is similar to the task's but differs in a way
//! that matters, and answers *that* instruction. The answer is plausible but worse for the
//! original task, so a judge that deserves trust scores the good answer above it.
//!
//! This module holds the generator's request, the reading of its reply, and the rules that drop
//! an unusable pair (the "worse" answer identical to the good one, empty, or a refusal), which is
//! counted and never judged.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::judge::techniques::prompt::{Message, Role};
use crate::judge::techniques::verdict::json_objects;

const SYSTEM: &str = "You help test an automated grader. Given a task and a good answer to it, you write \
a second instruction that is similar to the task but differs from it in a way that matters (another \
object, another constraint, another condition), and then a good answer to YOUR instruction. That answer \
will be shown to the grader as an answer to the ORIGINAL task, where it must be worse than the good \
answer. Do not mention the original task in your answer.";

/// A generated contrastive pair for one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Contrast {
    /// The similar but different instruction the generator wrote.
    pub instruction: String,
    /// Its answer to that instruction: the "worse" answer to the original task.
    pub answer: String,
}

/// Why a generated pair is not judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unusable {
    /// The worse answer is the good answer (compared without surrounding whitespace and case).
    Identical,
    /// The worse answer is empty.
    Empty,
    /// The generator declined to write one.
    Refused,
    /// The generator's reply could not be read as a pair, even when asked again.
    Unreadable,
}

/// What a generator wrote for one task, as the cache keeps it: a pair, or a reply that could not
/// be read as one (kept too, so that a rerun does not ask again and CI can replay the drop).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Generated {
    /// The pair.
    Pair(Contrast),
    /// Why the last reply was not a pair.
    Unreadable(String),
}

/// The request that asks a generator for a contrastive pair for the task `input`, whose good
/// answer is `good`.
pub(crate) fn request(input: &str, good: &str) -> (Vec<Message>, Value) {
    let user = format!(
        "## Task\n{}\n\n## A good answer to the task\n{}\n\n## Your task\nWrite an instruction similar to the task \
         but different in a way that matters, then a good answer to your instruction. Reply with a JSON object \
         with two fields, in this order: \"instruction\", your instruction, then \"answer\", your answer to it.",
        input.trim(),
        good.trim()
    );
    let schema = json!({
        "type": "object",
        "properties": {
            "instruction": { "type": "string", "description": "The similar but different instruction." },
            "answer": { "type": "string", "description": "A good answer to that instruction." }
        },
        "required": ["instruction", "answer"],
        "additionalProperties": false
    });
    (
        vec![Message { role: Role::System, content: SYSTEM.to_owned() }, Message { role: Role::User, content: user }],
        schema,
    )
}

/// Reads a reply as a contrastive pair: `{"instruction": "…", "answer": "…"}`.
pub(crate) fn parse(reply: &str) -> Result<Contrast, String> {
    let mut last_problem = None;
    for object in json_objects(reply) {
        let field = |key: &str| object.get(key).and_then(Value::as_str).map(|s| s.trim().to_owned());
        match (field("instruction"), field("answer")) {
            (Some(instruction), Some(answer)) => return Ok(Contrast { instruction, answer }),
            _ => last_problem = Some("the JSON object lacks a string \"instruction\" or \"answer\"".to_owned()),
        }
    }
    Err(last_problem.unwrap_or_else(|| "it contains no JSON object".to_owned()))
}

/// The message that asks again after a reply that was not a pair.
pub(crate) fn reask(reason: &str) -> String {
    format!(
        "Your reply could not be read: {reason}. Reply again with only a JSON object of the form \
         {{\"instruction\": \"...\", \"answer\": \"...\"}}."
    )
}

/// Why `contrast` cannot stand against the good answer `good`, if it cannot.
pub(crate) fn unusable(good: &str, contrast: &Contrast) -> Option<Unusable> {
    let answer = contrast.answer.trim();
    if answer.is_empty() {
        return Some(Unusable::Empty);
    }
    if answer.to_lowercase() == good.trim().to_lowercase() {
        return Some(Unusable::Identical);
    }
    let opening = answer.to_lowercase();
    const REFUSALS: [&str; 6] = ["i can't", "i cannot", "i can not", "i'm sorry", "i am sorry", "i won't"];
    REFUSALS.iter().any(|r| opening.starts_with(r)).then_some(Unusable::Refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(answer: &str) -> Contrast {
        Contrast {
            instruction: "How many times do the hands of a clock overlap in 6 hours?".into(),
            answer: answer.into(),
        }
    }

    #[test]
    fn the_request_holds_the_task_and_the_good_answer() {
        let (messages, schema) = request("How many times a day do the hands overlap?", "22 times.");
        assert!(messages[1].content.contains("## Task\nHow many times a day do the hands overlap?\n"));
        assert!(messages[1].content.contains("## A good answer to the task\n22 times.\n"));
        assert_eq!(schema["required"], json!(["instruction", "answer"]));
    }

    #[test]
    fn replies_are_read_and_unusable_pairs_named() {
        let read = parse(r#"{"instruction": " In 6 hours? ", "answer": "11 times."}"#).unwrap();
        assert_eq!((read.instruction.as_str(), read.answer.as_str()), ("In 6 hours?", "11 times."));
        assert!(parse(r#"{"instruction": "x"}"#).unwrap_err().contains("\"answer\""));
        assert!(parse("prose").unwrap_err().contains("no JSON object"));
        assert_eq!(unusable("22 times.", &pair("11 times.")), None);
        assert_eq!(unusable("22 times.", &pair(" 22 Times. ")), Some(Unusable::Identical));
        assert_eq!(unusable("22 times.", &pair("  ")), Some(Unusable::Empty));
        assert_eq!(unusable("22 times.", &pair("I'm sorry, I can't help with that.")), Some(Unusable::Refused));
    }
}
