//! The verdict and the parts every technique fills in (criteria, comparison, panel), its JSON schema
//! (rationale before score), and a tolerant parser of judge replies. Each technique reads its own
//! reply with these; none of them is imported here.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use crate::judge::transport::call_stats::Usage;

pub use crate::settings::scale::Scale;

/// How a verdict's score was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScoreMethod {
    /// The integer the judge wrote.
    Stated,
    /// The mean of the scale's scores weighted by the judge's next-token probabilities (G-Eval).
    ProbabilityWeighted,
    /// How much more likely the reference answer became to the judge model after the output.
    AnswerLikelihood,
    /// Compared with another output (`compare_with`) in both orders: 2 a win, 1 a tie, 0 a loss.
    Compared,
    /// Combined from the scores of several judges (`judges`).
    Ensemble,
}

/// One judge's verdict on one sample (or an ensemble's, combined).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Verdict {
    /// The score on `scale`: an integer when stated, fractional when derived from probabilities.
    pub score: f64,
    /// The scale of `score`.
    pub scale: Scale,
    /// How `score` was obtained.
    pub method: ScoreMethod,
    /// The judge's reasons, written before the score.
    pub rationale: String,
    /// The rubric level the judge named (its label, e.g. `7-8`), when the eval has levels. The
    /// embedded judge's is the band its score falls in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Each criterion's score and reasons, when the eval has `criteria`; `score` is then their
    /// weighted mean.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<CriterionVerdict>,
    /// Both orders of a comparison, when the eval has `compare_with`: `score` is
    /// then 2 (win), 1 (tie) or 0 (loss) on the scale 0–2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    /// Each judge's score and reasons, when an ensemble of judges (`judges`) gave the verdict;
    /// `score` is then their combination.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub panel: Vec<PanelVerdict>,
    /// Tokens used, summed over re-asks.
    pub usage: Usage,
}

impl Verdict {
    /// Each judge's comparison, when the verdict compares outputs (`compare_with`): its own, or
    /// for an ensemble each judge's.
    pub(crate) fn comparisons(&self) -> Vec<Comparison> {
        match self.panel.is_empty() {
            true => self.comparison.into_iter().collect(),
            false => self.panel.iter().filter_map(|p| p.comparison).collect(),
        }
    }

    /// The score as the reports write it: `7/10`, or `win`, `tie`, `loss` for a comparison.
    pub fn show(&self) -> String {
        show(self.scale, self.method, self.score)
    }

    /// The score mapped to `0.0..=1.0`.
    pub fn normalized(&self) -> f64 {
        self.scale.normalize(self.score)
    }
}

/// One criterion's part of a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CriterionVerdict {
    /// The criterion's name.
    pub name: String,
    /// Its score on the verdict's scale.
    pub score: f64,
    /// The judge's reasons for it.
    pub rationale: String,
}

/// Which output one order's verdict preferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Preference {
    /// The output under evaluation.
    Output,
    /// The output it is compared with (`compare_with`; the reports' word for it is `baseline`).
    Baseline,
    /// Neither.
    Tie,
}

impl Preference {
    /// The preference a comparison score (0, 1 or 2) stands for.
    pub(crate) fn of_score(score: f64) -> Self {
        match score {
            s if s >= 1.5 => Self::Output,
            s if s >= 0.5 => Self::Tie,
            _ => Self::Baseline,
        }
    }

    /// The comparison score (0, 1 or 2) it stands for.
    pub(crate) fn score(self) -> f64 {
        match self {
            Self::Output => 2.0,
            Self::Tie => 1.0,
            Self::Baseline => 0.0,
        }
    }

    /// How the report words it: `win`, `tie`, `loss` (from the output's side).
    pub fn word(self) -> &'static str {
        match self {
            Self::Output => "win",
            Self::Tie => "tie",
            Self::Baseline => "loss",
        }
    }
}

/// Both orders of one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Comparison {
    /// The verdict with the output shown first (as A).
    pub output_first: Preference,
    /// The verdict with the compared output (`compare_with`) shown first; named `baseline_first` in
    /// the reports, whose keys are stable.
    pub baseline_first: Preference,
}

impl Comparison {
    /// Whether both orders preferred the same output; if not, the judge preferred a position.
    pub fn consistent(&self) -> bool {
        self.output_first == self.baseline_first
    }

    /// The result: the orders' common preference, or a tie when they disagree.
    pub fn result(&self) -> Preference {
        if self.consistent() { self.output_first } else { Preference::Tie }
    }
}

/// One judge's part of an ensemble's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PanelVerdict {
    /// The judge, `provider:model`.
    pub judge: String,
    /// Its score mapped to 0..=1.
    pub score: f64,
    /// Both orders of its comparison, when the eval has `compare_with`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    /// Its reasons.
    pub rationale: String,
}

/// A score as the reports write it: on its scale, or as a comparison's `win`, `tie`, `loss`.
pub(crate) fn show(scale: Scale, method: ScoreMethod, score: f64) -> String {
    match method {
        ScoreMethod::Compared => Preference::of_score(score).word().to_owned(),
        _ => scale.show(score),
    }
}

/// The JSON schema of a verdict: a rationale, then an integer score within the scale.
pub(crate) fn schema(scale: Scale) -> Value {
    json!({
        "type": "object",
        "properties": {
            "rationale": {
                "type": "string",
                "description": "The reasons for the score, written before choosing it."
            },
            "score": {
                "type": "integer",
                "minimum": scale.min,
                "maximum": scale.max,
                "description": format!("The grade, from {} (worst) to {} (best).", scale.min, scale.max)
            }
        },
        "required": ["rationale", "score"],
        "additionalProperties": false
    })
}

/// A verdict read from a reply, before usage is attached.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParsedVerdict {
    pub score: u32,
    pub rationale: String,
}

/// Reads a verdict from a judge's reply. Tolerates code fences and prose around the JSON object, a
/// score written as `7`, `7.0` or `"7"`, and the field names `reason`/`reasoning`/`explanation`.
/// The score's range is always checked here, whatever the provider enforced.
pub(crate) fn parse(reply: &str, scale: Scale) -> Result<ParsedVerdict, String> {
    let mut last_problem = None;
    for object in json_objects(reply) {
        match from_object(&object, scale) {
            Ok(verdict) => return Ok(verdict),
            Err(problem) => last_problem = Some(problem),
        }
    }
    Err(last_problem.unwrap_or_else(|| "it contains no JSON object".to_owned()))
}

pub(crate) fn from_object(object: &serde_json::Map<String, Value>, scale: Scale) -> Result<ParsedVerdict, String> {
    let score = object.get("score").ok_or("the JSON object has no \"score\" field")?;
    let score = match score {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .ok_or_else(|| format!("\"score\" is {score}, not a number"))?;
    if score.fract() != 0.0 {
        return Err(format!("\"score\" is {score}, not an integer"));
    }
    if score < f64::from(scale.min) || score > f64::from(scale.max) {
        return Err(format!("\"score\" is {score}, outside {}..={}", scale.min, scale.max));
    }
    let rationale = ["rationale", "reason", "reasoning", "explanation"]
        .iter()
        .find_map(|key| object.get(*key))
        .ok_or("the JSON object has no \"rationale\" field")?;
    let rationale = rationale.as_str().ok_or("\"rationale\" is not a string")?.trim();
    if rationale.is_empty() {
        return Err("\"rationale\" is empty".to_owned());
    }
    Ok(ParsedVerdict { score: score as u32, rationale: rationale.to_owned() })
}

/// Every JSON object embedded in `text`, outermost first, in order of appearance.
pub(crate) fn json_objects(text: &str) -> impl Iterator<Item = serde_json::Map<String, Value>> + '_ {
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(offset) = text[from..].find('{') {
            let start = from + offset;
            let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
            match stream.next() {
                Some(Ok(Value::Object(object))) => {
                    from = start + stream.byte_offset();
                    return Some(object);
                }
                _ => from = start + 1,
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(reply: &str) -> ParsedVerdict {
        parse(reply, Scale::default()).unwrap_or_else(|e| panic!("{reply:?}: {e}"))
    }

    #[test]
    fn reads_plain_fenced_and_wrapped_json() {
        let v = ok(r#"{"rationale": "Correct and justified.", "score": 9}"#);
        assert_eq!(v, ParsedVerdict { score: 9, rationale: "Correct and justified.".into() });
        assert_eq!(ok("```json\n{\"rationale\": \"ok\", \"score\": 7}\n```").score, 7);
        assert_eq!(ok("Here is my verdict:\n{\"rationale\": \"a {brace} inside\", \"score\": 3} Thanks.").score, 3);
        assert_eq!(ok(r#"{"reason": "r", "score": "8"}"#).score, 8);
        assert_eq!(ok(r#"{"rationale": "r", "score": 6.0}"#).score, 6);
        assert_eq!(ok(r#"{"rationale": "r", "score": 0}"#).score, 0);
    }

    #[test]
    fn skips_objects_that_are_not_verdicts() {
        let reply = r#"The format is {"example": true}. Verdict: {"rationale": "fine", "score": 10}"#;
        assert_eq!(ok(reply).score, 10);
    }

    #[test]
    fn rejects_out_of_range_fractional_and_missing_fields() {
        let err = |reply: &str| parse(reply, Scale::default()).unwrap_err();
        assert!(err(r#"{"rationale": "r", "score": 11}"#).contains("outside 0..=10"));
        assert!(err(r#"{"rationale": "r", "score": -1}"#).contains("outside 0..=10"));
        assert!(err(r#"{"rationale": "r", "score": 7.5}"#).contains("not an integer"));
        assert!(err(r#"{"rationale": "r"}"#).contains("no \"score\""));
        assert!(err(r#"{"score": 5}"#).contains("no \"rationale\""));
        assert!(err(r#"{"rationale": " ", "score": 5}"#).contains("empty"));
        assert!(err("I give it a 7.").contains("no JSON object"));
        assert!(err(r#"{"rationale": "r", "score": "high"}"#).contains("not a number"));
    }

    #[test]
    fn schema_states_order_and_range() {
        let s = schema(Scale { min: 1, max: 5 });
        assert_eq!(s["properties"]["score"]["minimum"], 1);
        assert_eq!(s["properties"]["score"]["maximum"], 5);
        assert_eq!(s["required"], json!(["rationale", "score"]));
        let text = s.to_string();
        assert!(text.find("rationale").unwrap() < text.find("\"score\"").unwrap());
    }

    #[test]
    fn scores_show_on_their_scale() {
        assert_eq!(Scale::default().show(7.0), "7/10");
        assert_eq!(Scale::default().show(7.43), "7.4/10");
        assert_eq!(Scale { min: 1, max: 5 }.show(4.0), "4 on 1–5");
    }

    #[test]
    fn levels_are_named_before_the_score_and_checked_against_it() {
        use crate::judge::techniques::levels::{parse_with_levels, schema_with_levels};
        use crate::settings::levels::Levels;
        let levels = Levels::parse(&["0-4: wrong", "5-7: partly right", "8-10: right"], Scale::default()).unwrap();
        let s = schema_with_levels(Scale::default(), &levels);
        let keys: Vec<&String> = s["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["rationale", "level", "score"]);
        assert_eq!(s["properties"]["level"]["enum"], json!(["0-4", "5-7", "8-10"]));
        assert_eq!(s["required"], json!(["rationale", "level", "score"]));
        let parse = |reply: &str| parse_with_levels(reply, Scale::default(), &levels);
        let (v, level) = parse(r#"{"rationale": "r", "level": "8-10", "score": 9}"#).unwrap();
        assert_eq!((v.score, level.as_str()), (9, "8-10"));
        assert!(
            parse(r#"{"rationale": "r", "level": "8-10", "score": 6}"#).unwrap_err().contains("outside the level 8-10")
        );
        assert!(
            parse(r#"{"rationale": "r", "level": "high", "score": 9}"#)
                .unwrap_err()
                .contains("not one of 0-4, 5-7, 8-10")
        );
        assert!(parse(r#"{"rationale": "r", "score": 9}"#).unwrap_err().contains("no \"level\""));
    }

    #[test]
    fn normalizes_onto_zero_one() {
        assert_eq!(Scale::default().normalize(7.0), 0.7);
        assert_eq!(Scale { min: 1, max: 5 }.normalize(1.0), 0.0);
        assert_eq!(Scale { min: 1, max: 5 }.normalize(5.0), 1.0);
        assert_eq!(Scale { min: 1, max: 5 }.denormalize(0.5), 3.0);
    }
}
