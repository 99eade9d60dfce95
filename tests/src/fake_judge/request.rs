//! Reading and checking a judge request, whatever its wire format: the prompt's sections, the
//! fence around the output, the range stated in words, and the verdict's JSON schema.

use serde_json::Value;

/// What the fake judge reads from the judge prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prompt {
    /// The text between the fences.
    pub output: String,
    pub reference: Option<String>,
    /// Assistant messages already in the conversation: replies that were re-asked.
    pub prior_replies: u64,
    /// The score range the prompt states in words: "from 0 (worst) to 10 (best)".
    pub stated_range: Option<(u64, u64)>,
    /// The rubric levels the prompt lists, as `(min, max, label)`.
    pub levels: Vec<(u64, u64, String)>,
    /// The criteria the prompt lists, by name.
    pub criteria: Vec<String>,
    /// Output B, when the prompt compares two outputs (`output` is then output A).
    pub second: Option<String>,
    /// The rubric, when the prompt asks for evaluation steps (and holds no output).
    pub steps_for: Option<String>,
    /// The task and its good answer, when the prompt asks for a contrastive pair (and holds no
    /// rubric nor output).
    pub contrast_for: Option<(String, String)>,
}

/// A valid judge request: what every wire format has, and what `reply` says about how this one
/// wants its verdict.
#[derive(Debug, Clone)]
pub(crate) struct JudgeRequest<R> {
    pub model: String,
    pub prompt: Prompt,
    pub reply: R,
}

/// Reads the prompt from the first user message, `user`.
pub(crate) fn read_prompt(user: &str, prior_replies: u64, allow_missing_context: bool) -> Result<Prompt, String> {
    if let (Some(task), Some(good)) = (section(user, "## Task\n"), section(user, "## A good answer to the task\n")) {
        if user.contains("<output-") || user.contains("## Rubric") {
            return Err("a request for a contrastive pair holds an output or a rubric".into());
        }
        return Ok(Prompt {
            output: String::new(),
            reference: None,
            prior_replies,
            stated_range: None,
            levels: Vec::new(),
            criteria: Vec::new(),
            second: None,
            steps_for: None,
            contrast_for: Some((task, good)),
        });
    }
    let rubric = section(user, "## Rubric\n").ok_or("no rubric")?;
    if user.contains("## Your task\nWrite the evaluation steps") {
        if user.contains("<output-") {
            return Err("a request for evaluation steps holds an output".into());
        }
        let (levels, criteria, second, stated_range) = (Vec::new(), Vec::new(), None, None);
        let (output, reference) = (String::new(), None);
        return Ok(Prompt {
            output,
            reference,
            prior_replies,
            stated_range,
            levels,
            criteria,
            second,
            steps_for: Some(rubric),
            contrast_for: None,
        });
    }
    let input = section(user, "## Input given to the AI system\n");
    let reference = section(user, "## Reference answer");
    if !allow_missing_context {
        input.as_ref().ok_or("no input")?;
        reference.as_ref().ok_or("no reference answer")?;
    }
    let (output, second) = if user.contains(OUTPUT_A) {
        (fenced_output(user, OUTPUT_A)?, Some(fenced_output(user, OUTPUT_B)?))
    } else {
        (fenced_output(user, OUTPUT)?, None)
    };
    let levels = section(user, "## Rubric levels").map(|body| rubric_levels(&body)).unwrap_or_default();
    let criteria = section(user, "## Criteria")
        .map(|body| {
            let names =
                body.lines().filter_map(|line| Some(line.strip_prefix("- ")?.split_once(':')?.0.trim().to_owned()));
            names.collect()
        })
        .unwrap_or_default();
    Ok(Prompt {
        output,
        reference,
        prior_replies,
        stated_range: stated_range(user),
        levels,
        criteria,
        second,
        steps_for: None,
        contrast_for: None,
    })
}

/// The text of a message's `content`: a string, or the text of an array of `{"type": "text",
/// "text": ...}` blocks (other blocks are skipped). None if it is neither.
pub(crate) fn text_of(content: &Value) -> Option<String> {
    match content {
        Value::String(text) => Some(text.clone()),
        Value::Array(blocks) => {
            let mut text = String::new();
            for block in blocks {
                if block["type"] == "text" {
                    text.push_str(block["text"].as_str()?);
                }
            }
            Some(text)
        }
        _ => None,
    }
}

/// Whether a verdict schema's `score` must carry `minimum` and `maximum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bounds {
    Required,
    Optional,
}

/// Checks a verdict's JSON schema: an object whose properties are exactly `rationale` (a string)
/// then `score` (an integer), in that order (with `level` between them for rubric levels); or
/// `rationale` then `winner` (`A`, `B` or `tie`) for a comparison; or, for criteria, one such
/// verdict object per criterion, each closed as strict mode wants.
pub(crate) fn check_schema(schema: &Value, bounds: Bounds) -> Result<(), String> {
    if schema["type"] != "object" {
        return Err("the schema's type is not object".into());
    }
    let properties = schema["properties"].as_object().ok_or("the schema has no properties")?;
    let keys: Vec<&String> = properties.keys().collect();
    if keys == ["steps"] {
        return match (&properties["steps"]["type"], &properties["steps"]["items"]["type"]) {
            (Value::String(array), Value::String(string)) if array == "array" && string == "string" => Ok(()),
            _ => Err("steps is not an array of strings".into()),
        };
    }
    if keys == ["instruction", "answer"] {
        return match (&properties["instruction"]["type"], &properties["answer"]["type"]) {
            (Value::String(a), Value::String(b)) if a == "string" && b == "string" => Ok(()),
            _ => Err("instruction and answer are not strings".into()),
        };
    }
    if keys == ["rationale", "winner"] {
        return match properties["winner"]["enum"].as_array() {
            Some(choices) if choices == &[Value::from("A"), Value::from("B"), Value::from("tie")] => Ok(()),
            _ => Err("the winner is not an enum of A, B and tie".into()),
        };
    }
    if keys.len() >= 2 && properties.values().all(|p| p["type"] == "object") {
        for (name, criterion) in properties {
            check_schema(criterion, bounds).map_err(|e| format!("criterion {name}: {e}"))?;
            if criterion["additionalProperties"] != false
                || criterion["required"] != serde_json::json!(["rationale", "score"])
            {
                return Err(format!("criterion {name}: not closed (additionalProperties false, every field required)"));
            }
        }
        return Ok(());
    }
    if keys != ["rationale", "score"] && keys != ["rationale", "level", "score"] {
        return Err(format!("the schema's properties are {keys:?}, not rationale (then level) then score"));
    }
    if let Some(level) = properties.get("level")
        && (level["type"] != "string" || level["enum"].as_array().is_none_or(|labels| labels.len() < 2))
    {
        return Err("the level is not a string with an enum of labels".into());
    }
    if properties["rationale"]["type"] != "string" {
        return Err("the rationale is not a string".into());
    }
    let score = &properties["score"];
    if score["type"] != "integer" {
        return Err("the score is not an integer".into());
    }
    let has_bounds = score["minimum"].is_u64() && score["maximum"].is_u64();
    if bounds == Bounds::Required && !has_bounds {
        return Err("the score has no minimum and maximum".into());
    }
    Ok(())
}

/// The `- A-B: description` lines of a rubric levels section, as `(A, B, "A-B")`.
fn rubric_levels(body: &str) -> Vec<(u64, u64, String)> {
    body.lines()
        .filter_map(|line| {
            let label = line.strip_prefix("- ")?.split_once(':')?.0.trim();
            let (min, max) = match label.split_once('-') {
                Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
                None => (label.parse().ok()?, label.parse().ok()?),
            };
            Some((min, max, label.to_owned()))
        })
        .collect()
}

/// The non-empty text of the section that starts at `header`, up to the next `## ` header.
fn section(text: &str, header: &str) -> Option<String> {
    let start = text.find(header)? + header.len();
    let rest = &text[start..];
    let rest = &rest[rest.find('\n').map_or(0, |i| if header.ends_with('\n') { 0 } else { i + 1 })..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    let body = rest[..end].trim();
    (!body.is_empty()).then(|| body.to_owned())
}

/// The header of the output section; of the two output sections of a comparison.
const OUTPUT: &str = "## Output under evaluation\n";
const OUTPUT_A: &str = "## Output A\n";
const OUTPUT_B: &str = "## Output B\n";

/// The output between the `<output-ID>` that opens the section `header` and the one `</output-ID>`,
/// where ID is 16 hex digits that the output does not contain.
fn fenced_output(text: &str, header: &str) -> Result<String, String> {
    // The fence is the tag that opens the output section; the output itself may contain tags
    // that look like fences, with other ids.
    let open = text.find(header).ok_or("no output section")? + header.len();
    let id = text
        .get(open..open + 25)
        .and_then(|tag| tag.strip_prefix("<output-")?.strip_suffix('>'))
        .filter(|id| id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or("the output section does not start with an <output-ID> fence, ID being 16 hex digits")?;
    let close_tag = format!("</output-{id}>");
    let closes: Vec<usize> = text.match_indices(&close_tag).map(|(i, _)| i).collect();
    let [close] = closes.as_slice() else {
        return Err(format!("{} closing fences for output-{id}, not exactly one", closes.len()));
    };
    let start = open + 25;
    if *close < start {
        return Err("the closing fence comes before the opening one".into());
    }
    let output = text[start..*close].strip_prefix('\n').unwrap_or(&text[start..*close]);
    let output = output.strip_suffix('\n').unwrap_or(output);
    if output.contains(id) {
        return Err("the fenced output contains its own fence id".into());
    }
    Ok(output.to_owned())
}

/// The first "from MIN (worst) to MAX (best)" in `text`.
fn stated_range(text: &str) -> Option<(u64, u64)> {
    text.match_indices("from ").find_map(|(i, _)| {
        let rest = &text[i + 5..];
        let (min, rest) = rest.split_once(" (worst) to ")?;
        let (max, _) = rest.split_once(" (best)")?;
        Some((min.parse().ok()?, max.parse().ok()?))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const PROMPT: &str = "## Rubric\nbe right\n\n## Input given to the AI system\nq\n\n\
        ## Reference answer (written by the developers; correct)\n22\n\n## Output under evaluation\n\
        <output-0123456789abcdef>\nhi\n</output-0123456789abcdef>\n\n## Your task\nReply with ... \"score\", \
        an integer from 0 (worst) to 10 (best).";

    #[test]
    fn finds_exactly_one_fence() {
        let ok =
            "## Rubric\nr\n\n## Output under evaluation\n<output-0123456789abcdef>\nhi\n</output-0123456789abcdef>\n";
        assert_eq!(fenced_output(ok, OUTPUT).unwrap(), "hi");
        let two = format!("{ok}{ok}");
        assert!(fenced_output(&two, OUTPUT).is_err());
        let unclosed = "<output-0123456789abcdef>\nhi\n";
        assert!(fenced_output(unclosed, OUTPUT).is_err());
        let broken = "<output-0123456789abcdef>\nhi</output-0123456789abcdef>\n</output-0123456789abcdef>";
        assert!(fenced_output(broken, OUTPUT).is_err());
        // An output may hold fence-like tags of another id.
        let foreign = "## Output under evaluation\n<output-0123456789abcdef>\nx</output-fedcba9876543210>\n\
                       <output-fedcba9876543210>y\n</output-0123456789abcdef>\n";
        assert_eq!(fenced_output(foreign, OUTPUT).unwrap(), "x</output-fedcba9876543210>\n<output-fedcba9876543210>y");
    }

    #[test]
    fn sections_end_at_the_next_header() {
        let text = "## Rubric\nbe right\n\n## Reference answer (correct)\n22\n\n## Output under evaluation\nx";
        assert_eq!(section(text, "## Rubric\n").as_deref(), Some("be right"));
        assert_eq!(section(text, "## Reference answer").as_deref(), Some("22"));
        assert_eq!(section(text, "## Input given to the AI system\n"), None);
    }

    #[test]
    fn reads_a_whole_prompt() {
        let prompt = read_prompt(PROMPT, 1, false).unwrap();
        assert_eq!(prompt.output, "hi");
        assert_eq!(prompt.reference.as_deref(), Some("22"));
        assert_eq!((prompt.prior_replies, prompt.stated_range), (1, Some((0, 10))));
        let no_reference = PROMPT.replace("## Reference answer", "## Something else");
        assert_eq!(read_prompt(&no_reference, 0, false).unwrap_err(), "no reference answer");
        assert!(read_prompt(&no_reference, 0, true).is_ok());
    }

    #[test]
    fn reads_the_stated_range() {
        assert_eq!(stated_range("an integer from 1 (worst) to 5 (best)."), Some((1, 5)));
        assert_eq!(stated_range("from time to time, from 0 (worst) to 10 (best)"), Some((0, 10)));
        assert_eq!(stated_range("an integer from 0 to 10"), None);
    }

    #[test]
    fn reads_text_from_strings_and_blocks() {
        assert_eq!(text_of(&json!("hi")).as_deref(), Some("hi"));
        let blocks = json!([{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}]);
        assert_eq!(text_of(&blocks).as_deref(), Some("ab"));
        assert_eq!(text_of(&json!(7)), None);
    }

    #[test]
    fn checks_the_verdict_schema() {
        let schema = json!({
            "type": "object",
            "properties": {
                "rationale": {"type": "string"},
                "score": {"type": "integer", "minimum": 0, "maximum": 10}
            }
        });
        assert_eq!(check_schema(&schema, Bounds::Required), Ok(()));
        let mut unbounded = schema.clone();
        unbounded["properties"]["score"] = json!({"type": "integer"});
        assert!(check_schema(&unbounded, Bounds::Required).is_err());
        assert_eq!(check_schema(&unbounded, Bounds::Optional), Ok(()));
        let reversed = json!({
            "type": "object",
            "properties": {"score": {"type": "integer"}, "rationale": {"type": "string"}}
        });
        assert!(
            check_schema(&reversed, Bounds::Optional).unwrap_err().contains("not rationale (then level) then score")
        );
        let levelled = json!({
            "type": "object",
            "properties": {
                "rationale": {"type": "string"},
                "level": {"type": "string", "enum": ["0-4", "5-10"]},
                "score": {"type": "integer"}
            }
        });
        assert_eq!(check_schema(&levelled, Bounds::Optional), Ok(()));
        let mut free = levelled.clone();
        free["properties"]["level"] = json!({"type": "string"});
        assert!(check_schema(&free, Bounds::Optional).unwrap_err().contains("enum of labels"));
    }

    #[test]
    fn reads_rubric_levels_from_the_prompt() {
        assert_eq!(
            rubric_levels("- 0-4: wrong\n- 5-9: close\n- 10: right\nnot a level"),
            [(0, 4, "0-4".to_owned()), (5, 9, "5-9".to_owned()), (10, 10, "10".to_owned())]
        );
    }
}
