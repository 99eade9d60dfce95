//! The integer scale a judge scores on (0–10 by default, as in the G-Eval prompt), and how its
//! scores read and normalise. Rubric levels are bands of it.

use serde::{Deserialize, Serialize};

/// The integer scale the judge scores on. Scores are normalised to `0.0..=1.0` afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scale {
    /// The worst score.
    pub min: u32,
    /// The best score.
    pub max: u32,
}

impl Default for Scale {
    /// 0–10, as in the G-Eval prompt.
    fn default() -> Self {
        Self { min: 0, max: 10 }
    }
}

impl Scale {
    /// `score` as people read it on this scale: `7/10` (one decimal when fractional, `7.4/10`), or
    /// `4 on 1–5` for a scale that does not start at 0.
    pub fn show(self, score: f64) -> String {
        let score = if (score - score.round()).abs() < 0.05 { format!("{score:.0}") } else { format!("{score:.1}") };
        match self {
            Scale { min: 0, max } => format!("{score}/{max}"),
            Scale { min, max } => format!("{score} on {min}–{max}"),
        }
    }

    /// Maps a score on this scale to `0.0..=1.0`.
    pub fn normalize(self, score: f64) -> f64 {
        ((score - f64::from(self.min)) / f64::from(self.max - self.min)).clamp(0.0, 1.0)
    }

    /// Maps `0.0..=1.0` onto this scale.
    pub fn denormalize(self, unit: f64) -> f64 {
        f64::from(self.min) + unit.clamp(0.0, 1.0) * f64::from(self.max - self.min)
    }
}
