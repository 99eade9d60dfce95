//! How well the judges of ensembles agree over a suite: Krippendorff's alpha with the interval
//! metric, over every sample an ensemble scored (a unit), with each judge a coder. Judges that did
//! not score a sample (another eval's panel) are missing values, which alpha allows.
//!
//! α = 1 − D_o / D_e: the disagreement observed within samples over the disagreement expected
//! from all the scores pooled. 1 is perfect agreement, 0 is agreement by chance, below 0 is
//! systematic disagreement. Krippendorff advises relying on α ≥ 0.8, and tentative conclusions at
//! α ≥ 0.667.

use serde::{Deserialize, Serialize};

/// The judges' agreement over a suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Agreement {
    /// Krippendorff's alpha (interval); `None` when every score was the same, so no disagreement
    /// could be expected.
    pub alpha: Option<f64>,
    /// The samples scored by two judges or more.
    pub samples: usize,
    /// The judges that took part, sorted.
    pub judges: Vec<String>,
}

/// The agreement over `units`: each the scores (on 0..=1) the judges gave one sample, by judge.
/// `None` when no unit has two scores.
pub(crate) fn krippendorff_alpha<'a>(units: impl IntoIterator<Item = &'a [(String, f64)]>) -> Option<Agreement> {
    let units: Vec<&[(String, f64)]> = units.into_iter().filter(|u| u.len() >= 2).collect();
    if units.is_empty() {
        return None;
    }
    let n: usize = units.iter().map(|u| u.len()).sum();
    // Observed: squared differences of ordered pairs within each unit, weighted by 1 / (m_u − 1).
    let observed: f64 = units
        .iter()
        .map(|u| {
            let pairs: f64 = u.iter().flat_map(|a| u.iter().map(move |b| (a.1 - b.1).powi(2))).sum();
            pairs / (u.len() - 1) as f64
        })
        .sum::<f64>()
        / n as f64;
    // Expected: squared differences of ordered pairs over all pairable values.
    let values: Vec<f64> = units.iter().flat_map(|u| u.iter().map(|(_, v)| *v)).collect();
    let expected: f64 =
        values.iter().flat_map(|a| values.iter().map(move |b| (a - b).powi(2))).sum::<f64>() / (n * (n - 1)) as f64;
    let mut judges: Vec<String> = units.iter().flat_map(|u| u.iter().map(|(j, _)| j.clone())).collect();
    judges.sort();
    judges.dedup();
    Some(Agreement { alpha: (expected > 0.0).then(|| 1.0 - observed / expected), samples: units.len(), judges })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(rows: &[&[f64]]) -> Vec<Vec<(String, f64)>> {
        rows.iter().map(|row| row.iter().enumerate().map(|(j, v)| (format!("judge{j}"), *v)).collect()).collect()
    }

    fn alpha(rows: &[&[f64]]) -> Option<f64> {
        let units = units(rows);
        krippendorff_alpha(units.iter().map(Vec::as_slice)).and_then(|a| a.alpha)
    }

    #[test]
    fn perfect_agreement_is_one_and_none_is_below_zero() {
        assert_eq!(alpha(&[&[0.2, 0.2], &[0.9, 0.9], &[0.5, 0.5]]), Some(1.0));
        assert!(alpha(&[&[0.0, 1.0], &[1.0, 0.0]]).unwrap() < 0.0);
        assert_eq!(alpha(&[&[0.5, 0.5], &[0.5, 0.5]]), None, "no variation: nothing expected");
        assert!(krippendorff_alpha(std::iter::empty()).is_none());
    }

    #[test]
    fn matches_a_hand_computed_example() {
        // Two judges, three samples: (1, 2), (3, 3), (5, 4) on a 0..=1 scale of tenths.
        // n = 6; observed = (2·0.01 + 0 + 2·0.01) / 6 = 0.04 / 6.
        // values 0.1 0.2 0.3 0.3 0.5 0.4: squared differences over ordered pairs sum to 1.2,
        // expected = 1.2 / 30. alpha = 1 − (0.04 / 6) / (1.2 / 30) = 1 − 1/6.
        let a = alpha(&[&[0.1, 0.2], &[0.3, 0.3], &[0.5, 0.4]]).unwrap();
        assert!((a - 5.0 / 6.0).abs() < 1e-12, "{a}");
    }

    #[test]
    fn samples_with_one_judge_are_left_out() {
        let units = units(&[&[0.1, 0.2], &[0.3], &[0.5, 0.4]]);
        let agreement = krippendorff_alpha(units.iter().map(Vec::as_slice)).unwrap();
        assert_eq!((agreement.samples, agreement.judges.len()), (2, 2));
    }
}
