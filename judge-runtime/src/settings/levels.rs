//! Rubric levels as a setting: bands of the scale (`"0-2: completely wrong"`, …) that cover it in
//! order, read with judge-rules' rule. How a judge is asked for a level and how its reply is read
//! are the technique's (judge/techniques/levels.rs).

use judge_rules::levels::Band;

use crate::settings::scale::Scale;

/// The levels of a rubric: bands that cover the scale, in ascending order, without gaps or overlaps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Levels(Vec<Band>);

impl Levels {
    /// Reads levels written as `"A-B: description"` or `"A: description"`, which must cover `scale`
    /// from its lowest score to its highest, in order. An error names the offending level.
    pub fn parse<S: AsRef<str>>(levels: &[S], scale: Scale) -> Result<Self, String> {
        let bands = judge_rules::levels::bands(levels, scale.min, scale.max).map_err(|e| match e.index {
            Some(i) => format!("level {} ({:?}): {}", i + 1, levels[i].as_ref().trim(), e.reason),
            None => e.reason,
        })?;
        Ok(Self(bands))
    }

    /// Bands built as values (`#[llm_eval]`'s), which must cover `scale` in order. An error names the
    /// offending band.
    pub fn new(bands: Vec<Band>, scale: Scale) -> Result<Self, String> {
        judge_rules::levels::check(&bands, scale.min, scale.max).map_err(|e| match e.index {
            Some(i) => format!("level {} ({:?}): {}", i + 1, bands[i].label(), e.reason),
            None => e.reason,
        })?;
        Ok(Self(bands))
    }

    /// The levels, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = &Band> {
        self.0.iter()
    }

    /// The level that holds `score` (rounded): the embedded judge's level.
    pub fn level_of(&self, score: f64) -> &Band {
        let score = score.round().max(0.0) as u32;
        self.0.iter().find(|l| (l.min..=l.max).contains(&score)).unwrap_or_else(|| {
            if score < self.0[0].min { &self.0[0] } else { self.0.last().expect("at least two levels") }
        })
    }

    /// The level named `label`, as the judge wrote it.
    pub fn named(&self, label: &str) -> Option<&Band> {
        let label = label.trim();
        self.0.iter().find(|l| l.label() == label || l.label().replace('-', "–") == label)
    }
}
