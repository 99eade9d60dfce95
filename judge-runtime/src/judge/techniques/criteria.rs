//! Multi-criteria grading: one judge call scores the output on several named criteria (accuracy,
//! completeness, clarity, …), each with its own rationale written before its score (seed 001's
//! multi-criteria rubric). The sample's score is the weighted mean of the criteria's scores; over
//! samples, each criterion is reduced on its own and may carry its own threshold.

use serde_json::{Value, json};

use crate::aggregate::{Reducer, Summary};
use crate::judge::techniques::verdict::{CriterionVerdict, Scale};
use crate::settings::criteria::Criteria;
#[cfg(test)]
use crate::settings::criteria::Criterion;

impl Criteria {
    /// The verdict's JSON schema: one object per criterion, in order, each a rationale then an
    /// integer score within `scale`.
    pub fn schema(&self, scale: Scale) -> Value {
        let one = crate::judge::techniques::verdict::schema(scale);
        let properties: serde_json::Map<String, Value> = self.iter().map(|c| (c.name.clone(), one.clone())).collect();
        let names: Vec<&str> = self.iter().map(|c| c.name.as_str()).collect();
        json!({
            "type": "object",
            "properties": properties,
            "required": names,
            "additionalProperties": false
        })
    }

    /// Reads a reply: an object with one verdict object per criterion. Every criterion must be
    /// there; each is read as a verdict (score within `scale`, non-empty rationale).
    pub fn parse(&self, reply: &str, scale: Scale) -> Result<Vec<CriterionVerdict>, String> {
        let mut last_problem = None;
        for object in crate::judge::techniques::verdict::json_objects(reply) {
            let read = self
                .iter()
                .map(|c| {
                    let field =
                        object.get(&c.name).ok_or_else(|| format!("the JSON object has no {:?} field", c.name))?;
                    let field = field.as_object().ok_or_else(|| format!("{:?} is not an object", c.name))?;
                    let verdict = crate::judge::techniques::verdict::from_object(field, scale)
                        .map_err(|problem| format!("in {:?}: {problem}", c.name))?;
                    Ok(CriterionVerdict {
                        name: c.name.clone(),
                        score: f64::from(verdict.score),
                        rationale: verdict.rationale,
                    })
                })
                .collect::<Result<Vec<_>, String>>();
            match read {
                Ok(verdicts) => return Ok(verdicts),
                Err(problem) => last_problem = Some(problem),
            }
        }
        Err(last_problem.unwrap_or_else(|| "it contains no JSON object".to_owned()))
    }
}

/// One criterion over an eval's samples: its scores reduced as the eval's are.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CriterionSummary {
    /// The criterion's name.
    pub name: String,
    /// Its weight in the eval's score.
    pub weight: f64,
    /// Its own threshold, if it has one.
    pub threshold: Option<f64>,
    /// Its scores over the samples, reduced with the eval's reducer.
    pub summary: Summary,
}

impl CriterionSummary {
    /// Whether the criterion reaches its own threshold (always, when it has none).
    pub fn passes(&self) -> bool {
        self.threshold.is_none_or(|t| self.summary.passes(t))
    }
}

impl Criteria {
    /// Reduces each criterion's scores over `verdicts` (one per sample, each with every criterion)
    /// with `reducer`.
    pub fn summarize<'a>(
        &self,
        verdicts: impl Iterator<Item = &'a crate::judge::techniques::verdict::Verdict> + Clone,
        reducer: Reducer,
    ) -> Vec<CriterionSummary> {
        self.iter()
            .enumerate()
            .map(|(i, c)| {
                let scores: Vec<f64> = verdicts.clone().map(|v| v.scale.normalize(v.criteria[i].score)).collect();
                CriterionSummary {
                    name: c.name.clone(),
                    weight: c.weight,
                    threshold: c.threshold,
                    summary: reducer.summarize(&scores),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criteria() -> Criteria {
        Criteria::new(vec![
            Criterion { name: "accuracy".into(), rubric: "Facts are right.".into(), weight: 3.0, threshold: Some(0.8) },
            Criterion { name: "clarity".into(), rubric: "Reads well.".into(), weight: 1.0, threshold: None },
        ])
        .unwrap()
    }

    #[test]
    fn schema_has_one_verdict_per_criterion_in_order() {
        let s = criteria().schema(Scale::default());
        let keys: Vec<&String> = s["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["accuracy", "clarity"]);
        assert_eq!(s["required"], json!(["accuracy", "clarity"]));
        assert_eq!(s["properties"]["clarity"]["required"], json!(["rationale", "score"]));
    }

    #[test]
    fn replies_are_read_per_criterion() {
        let reply =
            r#"{"accuracy": {"rationale": "right", "score": 9}, "clarity": {"rationale": "terse", "score": 5}}"#;
        let v = criteria().parse(reply, Scale::default()).unwrap();
        assert_eq!((v[0].score, v[1].score, v[1].rationale.as_str()), (9.0, 5.0, "terse"));
        assert_eq!(criteria().weighted_mean(v.iter().map(|c| c.score)), 8.0);
        let missing = criteria().parse(r#"{"accuracy": {"rationale": "r", "score": 9}}"#, Scale::default());
        assert!(missing.unwrap_err().contains("no \"clarity\" field"));
        let bad = r#"{"accuracy": {"rationale": "r", "score": 11}, "clarity": {"rationale": "r", "score": 1}}"#;
        assert!(criteria().parse(bad, Scale::default()).unwrap_err().contains("in \"accuracy\": \"score\" is 11"));
    }

    #[test]
    fn criteria_are_checked() {
        let c = |name: &str, weight: f64| Criterion { name: name.into(), rubric: "r".into(), weight, threshold: None };
        assert!(Criteria::new(vec![c("a", 1.0)]).unwrap_err().contains("at least two"));
        assert!(Criteria::new(vec![c("a", 1.0), c("a", 1.0)]).unwrap_err().contains("named twice"));
        assert!(Criteria::new(vec![c("a", 1.0), c("b c", 1.0)]).unwrap_err().contains("ASCII letters"));
        assert!(Criteria::new(vec![c("a", 1.0), c("b", 0.0)]).unwrap_err().contains("`weight` must be above 0"));
        let table: toml::Table = "accuracy = { rubric = \"r\", weight = 2 }\nclarity = \"s\"".parse().unwrap();
        let parsed = Criteria::from_toml(&table).unwrap();
        assert_eq!(parsed.iter().map(|c| c.weight).collect::<Vec<_>>(), [2.0, 1.0]);
        let table: toml::Table = "accuracy = { rubric = \"r\", wieght = 2 }\nclarity = \"s\"".parse().unwrap();
        assert!(Criteria::from_toml(&table).unwrap_err().contains("unknown field `wieght`"));
    }
}
