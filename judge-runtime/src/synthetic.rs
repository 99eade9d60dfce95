//! A dataset's synthetic validation (`validate = "synthetic"`): over the pairs of a row's good
//! answer and a generated worse one, how often the judge orders them right. What is recorded and
//! gated (`min_accuracy`); the pairs themselves come from `judge/techniques/contrast.rs`.

use serde::{Deserialize, Serialize};

use crate::judge::techniques::contrast::Unusable;

/// The failing pairs a record keeps, at most.
const FAILING_KEPT: usize = 50;

/// One judged pair: the row, and the scores (0..=1) of its good and worse answers (for a
/// comparison, the good answer's win score and its complement).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JudgedPair {
    pub id: String,
    pub instruction: String,
    pub good: f64,
    pub worse: f64,
}

/// A pair the judge did not order right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FailingPair {
    /// The row's id.
    pub id: String,
    /// The generated instruction the worse answer answers.
    pub instruction: String,
    /// The good answer's score, 0..=1.
    pub good: f64,
    /// The worse answer's score, 0..=1.
    pub worse: f64,
}

/// Pairs dropped before judging, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Dropped {
    pub identical: usize,
    pub empty: usize,
    pub refused: usize,
    pub unreadable: usize,
}

impl Dropped {
    /// Every pair dropped.
    pub fn total(&self) -> usize {
        self.identical + self.empty + self.refused + self.unreadable
    }
}

/// A dataset's synthetic validation, as the reports keep it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SyntheticRecord {
    /// The dataset file, as the attribute names it.
    pub file: String,
    /// The pairs judged.
    pub pairs: usize,
    /// The share judged right: the good answer scored above the worse one.
    pub accuracy: f64,
    /// Pairs scored the same (not right).
    pub ties: usize,
    /// Pairs dropped before judging.
    pub dropped: Dropped,
    /// The pairs not judged right, the first [`FAILING_KEPT`].
    pub failing: Vec<FailingPair>,
    /// The gate, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_accuracy: Option<f64>,
}

impl SyntheticRecord {
    /// The record of `judged` pairs of the dataset `file` and the `dropped` reasons, gated by
    /// `min_accuracy`.
    pub fn of(file: &str, judged: &[JudgedPair], dropped: &[Unusable], min_accuracy: Option<f64>) -> Self {
        let right = judged.iter().filter(|p| p.good > p.worse + 1e-9).count();
        let ties = judged.iter().filter(|p| (p.good - p.worse).abs() <= 1e-9).count();
        let count = |reason| dropped.iter().filter(|d| **d == reason).count();
        Self {
            file: file.to_owned(),
            pairs: judged.len(),
            accuracy: if judged.is_empty() { 0.0 } else { right as f64 / judged.len() as f64 },
            ties,
            dropped: Dropped {
                identical: count(Unusable::Identical),
                empty: count(Unusable::Empty),
                refused: count(Unusable::Refused),
                unreadable: count(Unusable::Unreadable),
            },
            failing: judged
                .iter()
                .filter(|p| p.good <= p.worse + 1e-9)
                .take(FAILING_KEPT)
                .map(|p| FailingPair {
                    id: p.id.clone(),
                    instruction: p.instruction.clone(),
                    good: p.good,
                    worse: p.worse,
                })
                .collect(),
            min_accuracy,
        }
    }

    /// One line: "accuracy 0.90 on 20 pairs (1 tie), 3 dropped (2 identical, 1 refused)".
    pub fn summary_line(&self) -> String {
        let mut line = format!("accuracy {:.2} on {} pairs", self.accuracy, self.pairs);
        if self.ties > 0 {
            line.push_str(&format!(" ({} {})", self.ties, if self.ties == 1 { "tie" } else { "ties" }));
        }
        let dropped = self.dropped;
        if dropped.total() > 0 {
            let reasons = [
                (dropped.identical, "identical"),
                (dropped.empty, "empty"),
                (dropped.refused, "refused"),
                (dropped.unreadable, "unreadable"),
            ];
            let reasons: Vec<String> =
                reasons.iter().filter(|(n, _)| *n > 0).map(|(n, why)| format!("{n} {why}")).collect();
            line.push_str(&format!(", {} dropped ({})", dropped.total(), reasons.join(", ")));
        }
        if let Some(min) = self.min_accuracy {
            line.push_str(&format!(", min_accuracy {min:.2}"));
        }
        line
    }

    /// The gate's miss, if it is missed: the accuracy below `min_accuracy` and by how much; no
    /// pair judged misses any gate.
    pub fn missed(&self) -> Option<String> {
        let min = self.min_accuracy?;
        if self.pairs == 0 {
            return Some(format!("no synthetic pair could be judged, so `min_accuracy` {min:.2} cannot be met"));
        }
        (self.accuracy + 1e-9 < min).then(|| {
            format!(
                "the judge ordered {:.0}% of {} synthetic pairs right (accuracy {:.2}), below `min_accuracy` {min:.2} \
                 (by {:.2})",
                100.0 * self.accuracy,
                self.pairs,
                self.accuracy,
                min - self.accuracy
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(id: &str, good: f64, worse: f64) -> JudgedPair {
        JudgedPair { id: id.into(), instruction: format!("instruction of {id}"), good, worse }
    }

    #[test]
    fn accuracy_counts_right_orders_and_ties_are_not_right() {
        let judged = [pair("a", 0.9, 0.1), pair("b", 0.5, 0.5), pair("c", 0.2, 0.8), pair("d", 0.7, 0.6)];
        let dropped = [Unusable::Identical, Unusable::Refused, Unusable::Refused];
        let record = SyntheticRecord::of("cases.jsonl", &judged, &dropped, Some(0.8));
        assert_eq!((record.pairs, record.accuracy, record.ties), (4, 0.5, 1));
        assert_eq!(record.dropped, Dropped { identical: 1, empty: 0, refused: 2, unreadable: 0 });
        assert_eq!(
            record.summary_line(),
            "accuracy 0.50 on 4 pairs (1 tie), 3 dropped (1 identical, 2 refused), min_accuracy 0.80"
        );
        assert_eq!(record.failing.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["b", "c"]);
        assert_eq!(
            record.missed().unwrap(),
            "the judge ordered 50% of 4 synthetic pairs right (accuracy 0.50), below `min_accuracy` 0.80 (by 0.30)"
        );
        assert_eq!(SyntheticRecord::of("f", &judged, &[], Some(0.5)).missed(), None);
        assert_eq!(SyntheticRecord::of("f", &judged, &[], None).missed(), None);
        assert!(SyntheticRecord::of("f", &[], &[], Some(0.5)).missed().unwrap().contains("no synthetic pair"));
    }
}
