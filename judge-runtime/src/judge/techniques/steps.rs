//! G-Eval's evaluation steps (seed 002): a short list of checks the judge follows before it scores,
//! written by the eval's author (`steps = ["…", …]`) or generated once from the rubric by the judge
//! itself (`steps = "auto"`, G-Eval's auto chain-of-thought). Generated steps are cached like
//! verdicts (keyed by the request that asked for them), recorded in the reports and snapshotted, so
//! a change of the judge's steps is reviewable; the score prompt lists them either way.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::judge::techniques::prompt::{Message, Role, Task, task_sections};
use crate::judge::techniques::verdict::{Usage, json_objects};

use crate::settings::steps::check;
use judge_rules::steps::{MAX as MAX_STEPS, MIN_GENERATED};

/// Steps a judge generated, with what generating them cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GeneratedSteps {
    /// The steps, in order.
    pub steps: Vec<String>,
    /// Tokens the call used.
    pub usage: Usage,
}

const SYSTEM: &str = "You design evaluations of the outputs of an AI system. Given the rubric an output \
will be graded against, you write the evaluation steps a careful grader follows: short, concrete checks, \
in order, that decide the grade. You do not grade anything yourself.";

/// The request that asks a judge for evaluation steps for `task` (its rubric, input, reference,
/// levels and criteria; no output).
pub(crate) fn request(task: &Task) -> (Vec<Message>, Value) {
    let mut user = String::with_capacity(task.rubric.len() + 1024);
    // The task as the score prompt describes it, without steps of course: they are what is asked.
    task_sections(&mut user, &Task { steps: None, ..task.clone() });
    user.push_str("## Your task\n");
    user.push_str(&format!(
        "Write the evaluation steps for grading an output against this rubric: {MIN_GENERATED} to {MAX_STEPS} short, concrete \
         checks, in the order a grader should make them. Reply with a JSON object with one field, \"steps\", an \
         array of strings, one step each."
    ));
    let schema = json!({
        "type": "object",
        "properties": {
            "steps": {
                "type": "array",
                "items": { "type": "string" },
                // A grammar-constrained server (llama.cpp) otherwise lets a small model reply `[]`.
                "minItems": MIN_GENERATED,
                "maxItems": MAX_STEPS,
                "description": "The evaluation steps, in order."
            }
        },
        "required": ["steps"],
        "additionalProperties": false
    });
    (
        vec![Message { role: Role::System, content: SYSTEM.to_owned() }, Message { role: Role::User, content: user }],
        schema,
    )
}

/// Reads a reply as steps: `{"steps": ["…", …]}` with 2 to [`MAX_STEPS`] non-empty strings.
pub(crate) fn parse(reply: &str) -> Result<Vec<String>, String> {
    let mut last_problem = None;
    for object in json_objects(reply) {
        let Some(steps) = object.get("steps").and_then(Value::as_array) else {
            last_problem = Some("the JSON object has no \"steps\" array".to_owned());
            continue;
        };
        let texts: Option<Vec<String>> = steps.iter().map(|s| s.as_str().map(|s| s.trim().to_owned())).collect();
        let Some(texts) = texts else {
            last_problem = Some("\"steps\" holds something other than strings".to_owned());
            continue;
        };
        match check(texts, MIN_GENERATED) {
            Ok(steps) => return Ok(steps),
            Err(problem) => last_problem = Some(problem),
        }
    }
    Err(last_problem.unwrap_or_else(|| "it contains no JSON object".to_owned()))
}

/// The message that asks again after a reply that was not a list of steps.
pub(crate) fn reask(reason: &str) -> String {
    format!(
        "Your reply could not be read as evaluation steps: {reason}. Reply again with only a JSON object of the \
         form {{\"steps\": [\"...\", \"...\"]}} with {MIN_GENERATED} to {MAX_STEPS} steps."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::steps::Steps;

    #[test]
    fn steps_are_read_and_checked() {
        assert_eq!(parse(r#"{"steps": [" Read it. ", "Check 22."]}"#), Ok(vec!["Read it.".into(), "Check 22.".into()]));
        assert!(Steps::given::<&str>(&[]).unwrap_err().contains("1 to 10 steps are needed, found 0"));
        assert!(parse(r#"{"steps": ["one"]}"#).unwrap_err().contains("2 to 10 steps are needed, found 1"));
        assert!(parse(r#"{"steps": ["a", " "]}"#).unwrap_err().contains("step 2 is empty"));
        assert!(parse(r#"{"steps": [1, 2]}"#).unwrap_err().contains("other than strings"));
        assert!(parse("no json").unwrap_err().contains("no JSON object"));
        assert_eq!(Steps::given(&["a"]), Ok(Steps::Given(vec!["a".into()])));
    }

    #[test]
    fn the_request_holds_the_rubric_and_no_output() {
        let (messages, schema) = request(&Task::borrowed("Says 22.", Some("q"), Some("22")));
        assert!(messages[1].content.contains("## Rubric\nSays 22.\n") && !messages[1].content.contains("<output-"));
        assert_eq!(schema["required"], json!(["steps"]));
        let mut out = String::new();
        crate::judge::techniques::prompt::steps_section(&mut out, &["Read.".into(), "Check.".into()]);
        assert!(out.contains("1. Read.\n2. Check."), "{out}");
    }
}
