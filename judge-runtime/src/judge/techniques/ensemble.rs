//! Ensembles of judges (`judges = ["openai:…", "anthropic:…"]`): every judge scores every sample,
//! and their scores combine into the sample's (seeds 000/001: several judges dilute one model's
//! self-enhancement and style biases). How far apart they were is kept, so that disagreement can
//! be flagged or fail the eval, and measured over the suite (`crate::agreement`).

use crate::judge::techniques::verdict::{CriterionVerdict, PanelVerdict, ScoreMethod, Usage, Verdict};
use crate::settings::criteria::Criteria;

pub(crate) use judge_rules::words::Combine;

/// What a `combine` rule does to a sample's scores, one per judge.
pub(crate) trait CombineScores {
    /// Combines `scores` (each in 0..=1, one per judge); `threshold` is the pass mark a majority
    /// vote counts against.
    fn apply(self, scores: &[f64], threshold: f64) -> f64;
}

impl CombineScores for Combine {
    fn apply(self, scores: &[f64], threshold: f64) -> f64 {
        match self {
            Self::Mean => scores.iter().sum::<f64>() / scores.len() as f64,
            Self::Median => {
                let mut sorted = scores.to_vec();
                sorted.sort_by(f64::total_cmp);
                let k = sorted.len();
                if k % 2 == 1 { sorted[k / 2] } else { (sorted[k / 2 - 1] + sorted[k / 2]) / 2.0 }
            }
            Self::Majority => {
                let passing = scores.iter().filter(|s| crate::aggregate::reaches(**s, threshold)).count();
                if 2 * passing > scores.len() { 1.0 } else { 0.0 }
            }
        }
    }
}

/// The ensemble's verdict on one sample from each judge's (`verdicts`, in the order of `judges`):
/// the combined score on the first verdict's scale, every judge's part in `panel`, criteria
/// combined criterion by criterion. Usage is the sum.
pub(crate) fn combine(
    judges: &[String],
    verdicts: Vec<Verdict>,
    combine: Combine,
    threshold: f64,
    criteria: Option<&Criteria>,
) -> Verdict {
    let scale = verdicts[0].scale;
    let scores: Vec<f64> = verdicts.iter().map(Verdict::normalized).collect();
    let criteria = (0..verdicts[0].criteria.len())
        .map(|i| {
            let scores: Vec<f64> = verdicts.iter().map(|v| v.scale.normalize(v.criteria[i].score)).collect();
            // A majority votes against the criterion's own threshold, where it has one.
            let threshold = criteria.and_then(|c| c.iter().nth(i)).and_then(|c| c.threshold).unwrap_or(threshold);
            CriterionVerdict {
                name: verdicts[0].criteria[i].name.clone(),
                score: scale.denormalize(combine.apply(&scores, threshold)),
                rationale: judges
                    .iter()
                    .zip(&verdicts)
                    .map(|(judge, v)| format!("[{judge}] {}", v.criteria[i].rationale))
                    .collect::<Vec<_>>()
                    .join(" "),
            }
        })
        .collect();
    let mut usage = Usage::default();
    for verdict in &verdicts {
        usage += verdict.usage;
    }
    let rationale = judges
        .iter()
        .zip(&verdicts)
        .map(|(judge, v)| format!("{judge} ({}): {}", v.show(), v.rationale))
        .collect::<Vec<_>>()
        .join("\n");
    let panel = judges
        .iter()
        .zip(verdicts)
        .map(|(judge, v)| PanelVerdict {
            judge: judge.clone(),
            score: v.normalized(),
            comparison: v.comparison,
            rationale: v.rationale,
        })
        .collect();
    Verdict {
        score: scale.denormalize(combine.apply(&scores, threshold)),
        scale,
        method: ScoreMethod::Ensemble,
        rationale,
        level: None,
        criteria,
        comparison: None,
        panel,
        usage,
    }
}

/// How far apart the judges of one verdict were: the highest score minus the lowest, on 0..=1.
pub(crate) fn spread(panel: &[PanelVerdict]) -> f64 {
    let max = panel.iter().map(|p| p.score).fold(f64::MIN, f64::max);
    let min = panel.iter().map(|p| p.score).fold(f64::MAX, f64::min);
    if panel.is_empty() { 0.0 } else { max - min }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::techniques::verdict::Scale;

    fn verdict(score: f64) -> Verdict {
        Verdict {
            score,
            scale: Scale::default(),
            method: ScoreMethod::Stated,
            rationale: format!("r{score}"),
            level: None,
            criteria: Vec::new(),
            comparison: None,
            panel: Vec::new(),
            usage: Usage { prompt_tokens: 10, completion_tokens: 1 },
        }
    }

    #[test]
    fn combines_by_mean_median_and_majority() {
        let scores = [0.9, 0.2, 0.8];
        assert!((Combine::Mean.apply(&scores, 0.7) - 19.0 / 30.0).abs() < 1e-12);
        assert_eq!(Combine::Median.apply(&scores, 0.7), 0.8);
        assert_eq!(Combine::Majority.apply(&scores, 0.7), 1.0);
        assert_eq!(Combine::Majority.apply(&[0.9, 0.2], 0.7), 0.0, "one of two is no majority");
        assert!(Combine::parse("vote").unwrap_err().contains("mean (the default), median, majority"));
    }

    #[test]
    fn the_panel_keeps_every_judge_and_the_spread() {
        let judges = ["openai:a".to_owned(), "anthropic:b".to_owned()];
        let v = combine(&judges, vec![verdict(9.0), verdict(3.0)], Combine::Mean, 0.7, None);
        assert_eq!((v.score, v.method), (6.0, ScoreMethod::Ensemble));
        let expected =
            PanelVerdict { judge: "anthropic:b".into(), score: 0.3, comparison: None, rationale: "r3".into() };
        assert_eq!(v.panel[1], expected);
        assert!((spread(&v.panel) - 0.6).abs() < 1e-12);
        assert_eq!(v.usage.prompt_tokens, 20);
        assert_eq!(v.rationale, "openai:a (9/10): r9\nanthropic:b (3/10): r3");
    }
}
