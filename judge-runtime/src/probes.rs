//! Bias probes (`probes = ["position", "verbosity"]`): extra judge calls, beside each sample's
//! verdict, that measure two biases the literature warns of, and the gates on them
//! (`max_position_bias`, `max_verbosity_bias`; a gate runs its probe).
//!
//! - **position**: does the judge prefer the output shown first? An eval that compares
//!   (`compare_with`) already judges both orders, so the probe reads its comparisons and costs no
//!   call; any other eval's output is compared with itself in both orders, two calls per sample and
//!   judge, where a fair judge ties. Reported: the share of comparisons whose winner flips with the
//!   order (`flip_rate`, gated by `max_position_bias`), and the chance that the output shown first
//!   is preferred (`first_preferred`, a tie counting half; 0.5 is fair).
//! - **verbosity**: does padding raise the score? Each output is judged again with [`PADDING`]
//!   appended (inside the output's fence, as any output): one call per sample and judge, two for an
//!   eval that compares. Reported: the mean change of the 0..=1 score (`mean_delta`, gated by
//!   `max_verbosity_bias`) and the share of outputs whose score rose (`raised`).

use judge_rules::words::Probe;
use serde::{Deserialize, Serialize};

use crate::judge::techniques::verdict::{Comparison, Preference};

/// The content-free padding the verbosity probe appends to an output: the same every time, so
/// that its verdicts are cached like any other.
pub const PADDING: &str = "\n\nTo restate the answer above in other words: it is the answer to the question as it \
was asked, and it is complete as it stands. Nothing needs to be added to it, and nothing in it needs to be taken \
back. If any part of it seems unclear, reading it again from the beginning will make it clear.";

/// An output with the verbosity probe's padding appended.
pub(crate) fn padded(output: &str) -> String {
    format!("{output}{PADDING}")
}

/// The probes an eval runs: those it names, and those its gates need.
pub(crate) fn wanted(named: &[Probe], max_position_bias: Option<f64>, max_verbosity_bias: Option<f64>) -> Vec<Probe> {
    let mut probes = named.to_vec();
    for (probe, gated) in [(Probe::Position, max_position_bias), (Probe::Verbosity, max_verbosity_bias)] {
        if gated.is_some() && !probes.contains(&probe) {
            probes.push(probe);
        }
    }
    probes.sort();
    probes
}

/// What the probes found on one sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SampleProbes {
    /// The position probe's comparisons, one per judge: the eval's own (`compare_with`), or the
    /// output against itself. Empty without the probe.
    pub position: Vec<Comparison>,
    /// The judge requests the position probe made for this sample.
    pub position_calls: u64,
    /// The verbosity probe: the sample's score (0..=1) and its score with the padding appended.
    pub verbosity: Option<(f64, f64)>,
    /// The judge requests the verbosity probe made for this sample.
    pub verbosity_calls: u64,
}

/// What the probes found over an eval's samples (or, pooled, a dataset's rows), with their gates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Probes {
    /// The position probe, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<PositionBias>,
    /// The verbosity probe, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<VerbosityBias>,
}

/// The position probe's findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PositionBias {
    /// The comparisons: one per sample and judge.
    pub comparisons: usize,
    /// Those whose winner flipped when the order was swapped.
    pub flips: usize,
    /// `flips / comparisons`, 0..=1: 0 for a judge that the order never sways.
    pub flip_rate: f64,
    /// The chance that the output shown first is preferred, a tie counting half: 0.5 is fair.
    pub first_preferred: f64,
    /// The judge requests the probe added (answered by the judge or the cache); 0 for an eval that
    /// compares, whose comparisons already swap the order.
    pub calls: u64,
    /// The gate on `flip_rate`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_position_bias: Option<f64>,
}

/// The verbosity probe's findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VerbosityBias {
    /// The outputs judged again with the padding: one per sample.
    pub outputs: usize,
    /// The mean change of the 0..=1 score that the padding made: above 0, padding paid.
    pub mean_delta: f64,
    /// The share of outputs whose score the padding raised.
    pub raised: f64,
    /// The judge requests the probe added (answered by the judge or the cache).
    pub calls: u64,
    /// The gate on `mean_delta`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_verbosity_bias: Option<f64>,
}

/// Points, out of 2, that a comparison gives the output shown first: one per order, a tie half.
fn first_points(comparison: &Comparison) -> f64 {
    let points = |preference, first| match preference {
        Preference::Tie => 0.5,
        p if p == first => 1.0,
        _ => 0.0,
    };
    points(comparison.output_first, Preference::Output) + points(comparison.baseline_first, Preference::Baseline)
}

impl PositionBias {
    /// The findings of `comparisons` comparisons: `flips` of them flipped, `first` is the sum over
    /// them of the share (0..=1) each gave the output shown first.
    fn new(comparisons: usize, flips: usize, first: f64, calls: u64, max_position_bias: Option<f64>) -> Self {
        Self {
            comparisons,
            flips,
            flip_rate: ratio(flips as f64, comparisons),
            first_preferred: if comparisons == 0 { 0.5 } else { first / comparisons as f64 },
            calls,
            max_position_bias,
        }
    }
}

impl VerbosityBias {
    /// The findings over `outputs` outputs: `delta` the sum of their score changes, `raised` how
    /// many (or, pooled, what share-weighted count) the padding raised.
    fn new(outputs: usize, delta: f64, raised: f64, calls: u64, max_verbosity_bias: Option<f64>) -> Self {
        Self { outputs, mean_delta: ratio(delta, outputs), raised: ratio(raised, outputs), calls, max_verbosity_bias }
    }
}

impl Probes {
    /// The findings over an eval's samples; `None` when no probe ran.
    pub(crate) fn of<'a>(
        samples: impl IntoIterator<Item = &'a SampleProbes> + Clone,
        probes: &[Probe],
        max_position_bias: Option<f64>,
        max_verbosity_bias: Option<f64>,
    ) -> Option<Self> {
        if probes.is_empty() {
            return None;
        }
        let position = probes.contains(&Probe::Position).then(|| {
            let comparisons: Vec<&Comparison> = samples.clone().into_iter().flat_map(|s| &s.position).collect();
            let flips = comparisons.iter().filter(|c| !c.consistent()).count();
            let first: f64 = comparisons.iter().map(|c| first_points(c) / 2.0).sum();
            let calls = samples.clone().into_iter().map(|s| s.position_calls).sum();
            PositionBias::new(comparisons.len(), flips, first, calls, max_position_bias)
        });
        let verbosity = probes.contains(&Probe::Verbosity).then(|| {
            let deltas: Vec<f64> =
                samples.clone().into_iter().filter_map(|s| s.verbosity).map(|(plain, padded)| padded - plain).collect();
            let raised = deltas.iter().filter(|d| **d > 1e-9).count() as f64;
            let calls = samples.into_iter().map(|s| s.verbosity_calls).sum();
            VerbosityBias::new(deltas.len(), deltas.iter().sum(), raised, calls, max_verbosity_bias)
        });
        Some(Self { position, verbosity })
    }

    /// Pools the findings of several evals (a dataset's rows): each weighed by its comparisons or
    /// outputs. The gates are each eval's own, so the pool has none.
    pub fn pool<'a>(each: impl IntoIterator<Item = &'a Probes>) -> Option<Self> {
        let each: Vec<&Probes> = each.into_iter().collect();
        let positions: Vec<&PositionBias> = each.iter().filter_map(|p| p.position.as_ref()).collect();
        let verbosities: Vec<&VerbosityBias> = each.iter().filter_map(|p| p.verbosity.as_ref()).collect();
        let position = (!positions.is_empty()).then(|| {
            PositionBias::new(
                positions.iter().map(|p| p.comparisons).sum(),
                positions.iter().map(|p| p.flips).sum(),
                positions.iter().map(|p| p.first_preferred * p.comparisons as f64).sum(),
                positions.iter().map(|p| p.calls).sum(),
                None,
            )
        });
        let verbosity = (!verbosities.is_empty()).then(|| {
            VerbosityBias::new(
                verbosities.iter().map(|v| v.outputs).sum(),
                verbosities.iter().map(|v| v.mean_delta * v.outputs as f64).sum(),
                verbosities.iter().map(|v| v.raised * v.outputs as f64).sum(),
                verbosities.iter().map(|v| v.calls).sum(),
                None,
            )
        });
        (position.is_some() || verbosity.is_some()).then_some(Self { position, verbosity })
    }

    /// The judge requests the probes added.
    pub fn calls(&self) -> u64 {
        self.position.as_ref().map_or(0, |p| p.calls) + self.verbosity.as_ref().map_or(0, |v| v.calls)
    }

    /// The gates missed, each in one line that says by how much.
    pub fn missed(&self) -> Vec<String> {
        let mut missed = Vec::new();
        if let Some(p) = &self.position
            && let Some(max) = p.max_position_bias
            && p.flip_rate > max + 1e-9
        {
            missed.push(format!(
                "position bias: {} of {} comparisons flip with the order (flip rate {:.2}), above max_position_bias \
                 {max:.2} (by {:.2})",
                p.flips,
                p.comparisons,
                p.flip_rate,
                p.flip_rate - max
            ));
        }
        if let Some(v) = &self.verbosity
            && let Some(max) = v.max_verbosity_bias
            && v.mean_delta > max + 1e-9
        {
            missed.push(format!(
                "verbosity bias: padding raised the score by {:+.3} on average ({:.0}% of {} outputs rose), above \
                 max_verbosity_bias {max:.3} (by {:.3})",
                v.mean_delta,
                100.0 * v.raised,
                v.outputs,
                v.mean_delta - max
            ));
        }
        missed
    }

    /// One line for the terminal: what each probe found, and its calls.
    pub fn summary_line(&self) -> String {
        format!("bias probes: {}", self.findings())
    }

    /// What each probe found, and the calls they added, in one line.
    pub fn findings(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.position {
            parts.push(format!(
                "position: flip rate {:.2} ({} of {}), first preferred {:.2}",
                p.flip_rate, p.flips, p.comparisons, p.first_preferred
            ));
        }
        if let Some(v) = &self.verbosity {
            parts.push(format!(
                "verbosity: mean change {:+.3}, raised {:.0}% of {}",
                v.mean_delta,
                100.0 * v.raised,
                v.outputs
            ));
        }
        let calls = self.calls();
        format!("{}; {calls} extra judge call{}", parts.join("; "), if calls == 1 { "" } else { "s" })
    }
}

/// `part / n`, 0 when `n` is 0.
fn ratio(part: f64, n: usize) -> f64 {
    if n == 0 { 0.0 } else { part / n as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison(output_first: Preference, baseline_first: Preference) -> Comparison {
        Comparison { output_first, baseline_first }
    }

    #[test]
    fn gates_run_their_probes() {
        assert_eq!(wanted(&[], None, None), []);
        assert_eq!(wanted(&[Probe::Verbosity], Some(0.1), None), [Probe::Position, Probe::Verbosity]);
        assert_eq!(wanted(&[], None, Some(0.0)), [Probe::Verbosity]);
    }

    #[test]
    fn a_judge_that_always_picks_the_first_flips_every_comparison() {
        use Preference::*;
        let biased =
            SampleProbes { position: vec![comparison(Output, Baseline)], position_calls: 2, ..Default::default() };
        let fair = SampleProbes { position: vec![comparison(Tie, Tie)], position_calls: 2, ..Default::default() };
        let probes = Probes::of([&biased, &biased], &[Probe::Position], Some(0.2), None).unwrap();
        let p = probes.position.as_ref().unwrap();
        assert_eq!((p.comparisons, p.flips, p.flip_rate, p.first_preferred, p.calls), (2, 2, 1.0, 1.0, 4));
        assert_eq!(probes.missed().len(), 1);
        assert!(probes.missed()[0].contains("2 of 2 comparisons flip"), "{:?}", probes.missed());
        let probes = Probes::of([&fair, &biased], &[Probe::Position], Some(0.5), None).unwrap();
        let p = probes.position.as_ref().unwrap();
        assert_eq!((p.flip_rate, p.first_preferred), (0.5, 0.75));
        assert!(probes.missed().is_empty());
        // A consistent preference for the output is no bias of position.
        let consistent = SampleProbes { position: vec![comparison(Output, Output)], ..Default::default() };
        let p = Probes::of([&consistent], &[Probe::Position], None, None).unwrap().position.unwrap();
        assert_eq!((p.flip_rate, p.first_preferred), (0.0, 0.5));
    }

    #[test]
    fn padding_that_pays_is_found() {
        let raised = SampleProbes { verbosity: Some((0.5, 0.8)), verbosity_calls: 1, ..Default::default() };
        let same = SampleProbes { verbosity: Some((0.7, 0.7)), verbosity_calls: 1, ..Default::default() };
        let probes = Probes::of([&raised, &same], &[Probe::Verbosity], None, Some(0.1)).unwrap();
        let v = probes.verbosity.as_ref().unwrap();
        assert!((v.mean_delta - 0.15).abs() < 1e-12 && v.raised == 0.5 && v.calls == 2, "{v:?}");
        assert!(probes.missed()[0].starts_with("verbosity bias: padding raised the score by +0.150"));
        assert_eq!(
            probes.summary_line(),
            "bias probes: verbosity: mean change +0.150, raised 50% of 2; 2 extra judge calls"
        );
        assert_eq!(Probes::of([&same], &[], None, None), None);
    }

    #[test]
    fn pooling_weighs_each_eval_by_its_size() {
        let one = Probes {
            position: Some(PositionBias {
                comparisons: 1,
                flips: 1,
                flip_rate: 1.0,
                first_preferred: 1.0,
                calls: 2,
                max_position_bias: Some(0.1),
            }),
            verbosity: None,
        };
        let three = Probes {
            position: Some(PositionBias {
                comparisons: 3,
                flips: 0,
                flip_rate: 0.0,
                first_preferred: 0.5,
                calls: 6,
                max_position_bias: None,
            }),
            verbosity: Some(VerbosityBias {
                outputs: 3,
                mean_delta: 0.2,
                raised: 1.0,
                calls: 3,
                max_verbosity_bias: None,
            }),
        };
        let pooled = Probes::pool([&one, &three]).unwrap();
        let p = pooled.position.as_ref().unwrap();
        assert_eq!((p.comparisons, p.flips, p.flip_rate, p.first_preferred, p.calls), (4, 1, 0.25, 0.625, 8));
        assert_eq!(p.max_position_bias, None);
        let v = pooled.verbosity.as_ref().unwrap();
        assert!((v.outputs, v.raised) == (3, 1.0) && (v.mean_delta - 0.2).abs() < 1e-12, "{v:?}");
        assert_eq!(pooled.calls(), 11);
        assert_eq!(Probes::pool([]), None);
        let json = serde_json::to_value(&pooled).unwrap();
        assert_eq!(json["position"]["flip_rate"], 0.25);
        assert!(json["position"].get("max_position_bias").is_none());
    }
}
