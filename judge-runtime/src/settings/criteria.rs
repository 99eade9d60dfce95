//! Multi-criteria grading as a setting: named rubrics, each with a weight and an optional
//! threshold, from the attribute or judge.toml's `[criteria]`, checked with judge-rules' rules. How a
//! judge scores them and how their scores reduce are the technique's (judge/techniques/criteria.rs).

/// One criterion as written: `accuracy = "…"` or `accuracy = { rubric = "…", weight = 2,
/// threshold = 0.6 }`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Criterion {
    /// The criterion's name: a field of the verdict, so a simple identifier.
    pub name: String,
    /// What the criterion asks of the output.
    pub rubric: String,
    /// Its weight in the eval's score (1 unless given).
    pub weight: f64,
    /// The reduced score the criterion must reach on its own, if any.
    pub threshold: Option<f64>,
}

/// An eval's criteria: in the order the attribute wrote them, or in name order from judge.toml.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Criteria(Vec<Criterion>);

/// A criterion as the macro expansion registers it. Built only by `#[llm_eval]`.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct CriterionDef {
    /// The criterion's name.
    pub name: &'static str,
    /// What it asks of the output.
    pub rubric: &'static str,
    /// Its weight, if given.
    pub weight: Option<f64>,
    /// Its threshold, if given.
    pub threshold: Option<f64>,
}

impl Criteria {
    /// Checks `criteria`: at least two, names that are identifiers and unique, non-empty rubrics,
    /// weights > 0 and thresholds in 0..=1. An error names the offending criterion.
    pub fn new(criteria: Vec<Criterion>) -> Result<Self, String> {
        use judge_rules::criteria as rules;
        rules::count(criteria.len())?;
        for (i, c) in criteria.iter().enumerate() {
            let at = |reason: String| format!("criterion `{}`: {reason}", c.name);
            rules::name(&c.name).map_err(at)?;
            if criteria[..i].iter().any(|other| other.name == c.name) {
                return Err(at("named twice".to_owned()));
            }
            if c.rubric.trim().is_empty() {
                return Err(at("its rubric is empty".to_owned()));
            }
            rules::weight(c.weight).map_err(at)?;
            if let Some(t) = c.threshold {
                rules::threshold(t).map_err(at)?;
            }
        }
        Ok(Self(criteria))
    }

    /// The criteria the attribute registered.
    pub fn from_defs(defs: &[CriterionDef]) -> Result<Self, String> {
        Self::new(
            defs.iter()
                .map(|d| Criterion {
                    name: d.name.to_owned(),
                    rubric: d.rubric.to_owned(),
                    weight: d.weight.unwrap_or(1.0),
                    threshold: d.threshold,
                })
                .collect(),
        )
    }

    /// Reads judge.toml's `[criteria]` table: `name = "rubric"` or `name = { rubric = "…", weight
    /// = 2, threshold = 0.6 }`.
    pub fn from_toml(table: &toml::Table) -> Result<Self, String> {
        let mut criteria = Vec::with_capacity(table.len());
        for (name, value) in table {
            let at = |reason: &str| format!("criterion `{name}`: {reason}");
            let criterion = match value {
                toml::Value::String(rubric) => {
                    Criterion { name: name.clone(), rubric: rubric.clone(), weight: 1.0, threshold: None }
                }
                toml::Value::Table(fields) => {
                    let number = |key: &str| match fields.get(key) {
                        None => Ok(None),
                        Some(toml::Value::Float(f)) => Ok(Some(*f)),
                        Some(toml::Value::Integer(i)) => Ok(Some(*i as f64)),
                        Some(_) => Err(at(&format!("`{key}` must be a number"))),
                    };
                    if let Some(unknown) =
                        fields.keys().find(|k| !["rubric", "weight", "threshold"].contains(&k.as_str()))
                    {
                        return Err(at(&format!("unknown field `{unknown}`; fields: rubric, weight, threshold")));
                    }
                    let rubric = fields
                        .get("rubric")
                        .and_then(toml::Value::as_str)
                        .ok_or_else(|| at("needs `rubric = \"…\"`"))?;
                    Criterion {
                        name: name.clone(),
                        rubric: rubric.to_owned(),
                        weight: number("weight")?.unwrap_or(1.0),
                        threshold: number("threshold")?,
                    }
                }
                _ => return Err(at("is a rubric string or { rubric = \"…\", weight = 2, threshold = 0.6 }")),
            };
            criteria.push(criterion);
        }
        Self::new(criteria)
    }

    /// The criteria in order.
    pub fn iter(&self) -> impl Iterator<Item = &Criterion> {
        self.0.iter()
    }

    /// The weighted mean of `scores` (one per criterion, in order).
    pub fn weighted_mean(&self, scores: impl IntoIterator<Item = f64>) -> f64 {
        let (sum, weights) = self
            .0
            .iter()
            .zip(scores)
            .fold((0.0, 0.0), |(sum, weights), (c, s)| (sum + c.weight * s, weights + c.weight));
        sum / weights
    }
}
