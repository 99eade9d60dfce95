//! The length-controlled win rate (AlpacaEval 2's): the win rate a judge would give an output
//! against a compared text of the same length.
//!
//! Each comparison is a length difference Δ (the output's length minus the compared text's, in
//! characters) and an outcome y: 1 a win, 0 a loss, ½ a tie (any share from 0 to 1 counts as that
//! share of a win). The fit is the unregularized maximum-likelihood logistic regression
//! P(win) = σ(θ₀ + θ₁·x), x = tanh(Δ / sd), sd the sample standard deviation of the deltas (n − 1
//! in the denominator, as pandas' `std`, which AlpacaEval uses), with the log-likelihood
//! Σ y·ln p + (1 − y)·ln(1 − p): a tie counts as a win and a loss of weight ½ each. The
//! length-controlled win rate is σ(θ₀), the win rate at Δ = 0.
//!
//! Where x is the same for every comparison (every delta equal, or a single comparison) the slope
//! cannot be told from the intercept: the intercept is fitted alone, the slope is 0 and σ(θ₀) is
//! the raw win rate. Where the maximum-likelihood estimate does not exist (every comparison a win
//! or every one a loss, or outcomes separated by length, so that θ diverges) there is no result,
//! and the error says why.
//!
//! The fit is Newton's method with step halving, to the precision of `f64`. It agrees with
//! statsmodels' `GLM(..., family=Binomial(), freq_weights=...)` (the reference script
//! `tests/length_control_reference.py`) to about 1e-12, relative where θ is large.

use std::fmt;

/// The Newton iterations after which the fit gives up.
const MAX_ITERATIONS: usize = 1000;

/// The halvings of one Newton step after which the fit gives up.
const MAX_HALVINGS: usize = 64;

/// The Newton step, relative to 1 + the largest coefficient, below which the fit has converged.
const STEP_TOLERANCE: f64 = 1e-12;

/// The decrease of the log-likelihood, relative to 1 + its size, that a step may make and still
/// be taken: rounding, near the maximum.
const ROUNDING_SLACK: f64 = 1e-12;

/// A length-controlled win rate and the logistic fit it comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// The comparisons fitted.
    pub n: usize,
    /// The mean outcome, a tie counting as half a win.
    pub win_rate: f64,
    /// θ₀, the log-odds of a win at equal length.
    pub intercept: f64,
    /// θ₁, by how much the log-odds of a win grow with x = tanh(Δ / sd); 0 where x is the same for
    /// every comparison.
    pub slope: f64,
    /// σ(θ₀), the win rate at equal length.
    pub length_controlled_win_rate: f64,
}

/// Why there is no length-controlled win rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoFit {
    /// There are no comparisons.
    Empty,
    /// A comparison's length difference is not a finite number, or its outcome is not from 0 to 1
    /// (or is NaN).
    Invalid {
        /// The position of the first such comparison, counting from 0.
        index: usize,
    },
    /// Every comparison is a win (`win_rate` 1) or every one a loss (`win_rate` 0): the log-odds
    /// of a win are infinite.
    Unanimous {
        /// The win rate, 1 or 0.
        win_rate: f64,
    },
    /// No win is shorter than a loss, or none is longer (a tie counting as both): the slope
    /// diverges and there is no maximum-likelihood estimate.
    Separated,
    /// Newton's method did not reach a finite maximum, which only extreme rounding can cause.
    NotConverged,
}

impl fmt::Display for NoFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("there are no comparisons to fit"),
            Self::Invalid { index } => write!(
                f,
                "comparison {index} (counting from 0) is not a finite length difference \
                 with an outcome from 0 to 1"
            ),
            Self::Unanimous { win_rate } => write!(
                f,
                "every comparison is a {}, so there is no win rate at equal length to estimate",
                if *win_rate >= 1.0 { "win" } else { "loss" }
            ),
            Self::Separated => f.write_str(
                "the outcomes are separated by length (no win is shorter than a loss, or none is longer), \
                 so the fit diverges and has no maximum-likelihood estimate",
            ),
            Self::NotConverged => f.write_str("the fit did not converge to a finite estimate"),
        }
    }
}

impl std::error::Error for NoFit {}

/// The length-controlled win rate of comparisons `(delta, outcome)`: `delta` the output's length
/// minus the compared text's, in characters; `outcome` 1 a win, 0 a loss, 0.5 a tie.
pub fn fit(comparisons: &[(f64, f64)]) -> Result<Fit, NoFit> {
    if comparisons.is_empty() {
        return Err(NoFit::Empty);
    }
    if let Some(index) = comparisons.iter().position(|&(delta, outcome)| !valid(delta, outcome)) {
        return Err(NoFit::Invalid { index });
    }
    let deltas: Vec<f64> = comparisons.iter().map(|&(delta, _)| delta).collect();
    let outcomes: Vec<f64> = comparisons.iter().map(|&(_, outcome)| outcome).collect();
    unanimous(&outcomes)?;
    let win_rate = mean(&outcomes);
    let (intercept, slope) = match lengths(&deltas) {
        None => (logit(win_rate), 0.0),
        Some(xs) if separated(&xs, &outcomes) => return Err(NoFit::Separated),
        Some(xs) => newton(&xs, &outcomes, [logit(win_rate), 0.0])?,
    };
    let length_controlled_win_rate = sigmoid(intercept);
    if !(intercept.is_finite() && slope.is_finite() && length_controlled_win_rate.is_finite()) {
        return Err(NoFit::NotConverged);
    }
    Ok(Fit { n: comparisons.len(), win_rate, intercept, slope, length_controlled_win_rate })
}

/// Whether a comparison can be fitted: a finite delta, an outcome from 0 to 1.
fn valid(delta: f64, outcome: f64) -> bool {
    delta.is_finite() && (0.0..=1.0).contains(&outcome)
}

/// An error where there is no win (outcome above 0) or no loss (outcome below 1).
fn unanimous(outcomes: &[f64]) -> Result<(), NoFit> {
    if !outcomes.iter().any(|&y| y < 1.0) {
        return Err(NoFit::Unanimous { win_rate: 1.0 });
    }
    if !outcomes.iter().any(|&y| y > 0.0) {
        return Err(NoFit::Unanimous { win_rate: 0.0 });
    }
    Ok(())
}

/// The arithmetic mean of a non-empty slice.
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample standard deviation (n − 1 in the denominator); `None` for fewer than two values.
fn sample_sd(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let mean = mean(values);
    let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    Some((squares / (values.len() - 1) as f64).sqrt())
}

/// x = tanh(Δ / sd) for each delta, or `None` where it does not vary (the slope is not
/// identifiable): a single delta, equal deltas, or a standard deviation that is 0 or not finite.
fn lengths(deltas: &[f64]) -> Option<Vec<f64>> {
    let sd = sample_sd(deltas).filter(|sd| *sd > 0.0 && sd.is_finite())?;
    let xs: Vec<f64> = deltas.iter().map(|delta| (delta / sd).tanh()).collect();
    let first = *xs.first()?;
    xs.iter().any(|&x| x != first).then_some(xs)
}

/// Whether no win (outcome above 0) lies below a loss (outcome below 1) in x, or none above one:
/// then the log-likelihood grows without bound along the slope. Both kinds must be present.
fn separated(xs: &[f64], outcomes: &[f64]) -> bool {
    let (win_min, win_max) = range(xs.iter().zip(outcomes).filter(|&(_, &y)| y > 0.0).map(|(&x, _)| x));
    let (loss_min, loss_max) = range(xs.iter().zip(outcomes).filter(|&(_, &y)| y < 1.0).map(|(&x, _)| x));
    win_min >= loss_max || win_max <= loss_min
}

/// The smallest and largest of some numbers (∞ and −∞ for none).
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| (low.min(v), high.max(v)))
}

/// The maximum-likelihood [θ₀, θ₁] by Newton's method with step halving, from `start`.
fn newton(xs: &[f64], outcomes: &[f64], start: [f64; 2]) -> Result<(f64, f64), NoFit> {
    let mut theta = start;
    for _ in 0..MAX_ITERATIONS {
        let step = newton_step(xs, outcomes, theta).ok_or(NoFit::NotConverged)?;
        let size = step[0].abs().max(step[1].abs());
        if size <= STEP_TOLERANCE * (1.0 + theta[0].abs().max(theta[1].abs())) {
            return Ok((theta[0] + step[0], theta[1] + step[1]));
        }
        theta = line_search(xs, outcomes, theta, step).ok_or(NoFit::NotConverged)?;
    }
    Err(NoFit::NotConverged)
}

/// The Newton step at θ: the information matrix's inverse times the score, with x centred on its
/// information-weighted mean so that nearly constant x loses no precision. `None` where the
/// information is singular or not finite.
fn newton_step(xs: &[f64], outcomes: &[f64], theta: [f64; 2]) -> Option<[f64; 2]> {
    let points = || xs.iter().zip(outcomes).map(|(&x, &y)| (x, y, theta[0] + theta[1] * x));
    let (mut weight, mut weighted_x, mut score) = (0.0, 0.0, 0.0);
    for (x, y, z) in points() {
        let w = sigmoid(z) * sigmoid(-z);
        weight += w;
        weighted_x += w * x;
        score += residual(y, z);
    }
    let centre = weighted_x / weight;
    let (mut spread, mut slope_score) = (0.0, 0.0);
    for (x, y, z) in points() {
        spread += sigmoid(z) * sigmoid(-z) * (x - centre) * (x - centre);
        slope_score += residual(y, z) * (x - centre);
    }
    let slope = slope_score / spread;
    let step = [score / weight - centre * slope, slope];
    (spread > 0.0 && step.iter().all(|s| s.is_finite())).then_some(step)
}

/// The first of θ + step, θ + step/2, θ + step/4, … whose log-likelihood is not below θ's (but
/// for rounding); `None` if none of [`MAX_HALVINGS`] is.
fn line_search(xs: &[f64], outcomes: &[f64], theta: [f64; 2], step: [f64; 2]) -> Option<[f64; 2]> {
    let current = log_likelihood(xs, outcomes, theta);
    let floor = current - ROUNDING_SLACK * (1.0 + current.abs());
    let mut t = 1.0;
    for _ in 0..MAX_HALVINGS {
        let candidate = [theta[0] + t * step[0], theta[1] + t * step[1]];
        if log_likelihood(xs, outcomes, candidate) >= floor {
            return Some(candidate);
        }
        t /= 2.0;
    }
    None
}

/// Σ y·ln σ(z) + (1 − y)·ln σ(−z), z = θ₀ + θ₁·x.
fn log_likelihood(xs: &[f64], outcomes: &[f64], theta: [f64; 2]) -> f64 {
    xs.iter()
        .zip(outcomes)
        .map(|(&x, &y)| {
            let z = theta[0] + theta[1] * x;
            y * log_sigmoid(z) + (1.0 - y) * log_sigmoid(-z)
        })
        .sum()
}

/// y − σ(z), as y·σ(−z) − (1 − y)·σ(z), which keeps its precision where σ(z) is near 0 or 1.
fn residual(y: f64, z: f64) -> f64 {
    y * sigmoid(-z) - (1.0 - y) * sigmoid(z)
}

/// ln(p / (1 − p)).
fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// σ(z) = 1 / (1 + e^−z), without overflow for large |z|.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// ln σ(z) = −ln(1 + e^−z), without overflow or loss of precision for large |z|.
fn log_sigmoid(z: f64) -> f64 {
    if z >= 0.0 { -(-z).exp().ln_1p() } else { z - z.exp().ln_1p() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks a fit against statsmodels' intercept, slope and σ(intercept), to 1e-9.
    fn assert_fit(comparisons: &[(f64, f64)], intercept: f64, slope: f64, length_controlled: f64) {
        let fit = fit(comparisons).unwrap();
        assert_eq!(fit.n, comparisons.len());
        for (name, actual, expected) in [
            ("intercept", fit.intercept, intercept),
            ("slope", fit.slope, slope),
            ("length-controlled win rate", fit.length_controlled_win_rate, length_controlled),
        ] {
            assert!((actual - expected).abs() <= 1e-9, "{name} {actual} != {expected}");
        }
    }

    // The expected values are statsmodels 0.15.0's, from length_control_reference.py.

    #[test]
    fn small_set_with_ties() {
        let comparisons =
            [(10.0, 1.0), (20.0, 0.0), (-5.0, 0.5), (30.0, 1.0), (-40.0, 0.0), (0.0, 1.0), (-10.0, 0.5), (50.0, 0.0)];
        assert_fit(&comparisons, -0.05523212826874507, 0.3403474869516018, 0.4861954770803907);
        assert_eq!(fit(&comparisons).unwrap().win_rate, 0.5);
    }

    /// 40 comparisons where longer outputs win more often, 15% ties.
    const REALISTIC: [(f64, f64); 40] = [
        (66.0, 1.0),
        (-57.0, 0.5),
        (210.0, 0.5),
        (-566.0, 0.0),
        (264.0, 0.0),
        (21.0, 0.0),
        (-140.0, 0.0),
        (189.0, 0.5),
        (-631.0, 0.5),
        (87.0, 1.0),
        (-143.0, 1.0),
        (314.0, 1.0),
        (327.0, 1.0),
        (-221.0, 1.0),
        (-223.0, 0.0),
        (-438.0, 0.0),
        (-165.0, 1.0),
        (278.0, 0.5),
        (493.0, 0.0),
        (242.0, 0.0),
        (164.0, 1.0),
        (-197.0, 0.0),
        (228.0, 1.0),
        (-176.0, 0.0),
        (246.0, 0.5),
        (69.0, 1.0),
        (492.0, 1.0),
        (231.0, 1.0),
        (698.0, 0.5),
        (-13.0, 0.0),
        (452.0, 1.0),
        (240.0, 1.0),
        (829.0, 1.0),
        (-635.0, 0.0),
        (500.0, 1.0),
        (-259.0, 0.0),
        (-197.0, 0.0),
        (143.0, 1.0),
        (-454.0, 0.0),
        (-328.0, 0.5),
    ];

    #[test]
    fn realistic_set_where_longer_outputs_win() {
        assert_fit(&REALISTIC, -0.040883449161371536, 1.5403151487099254, 0.48978056111556195);
        assert!((fit(&REALISTIC).unwrap().win_rate - 0.525).abs() <= 1e-15);
    }

    #[test]
    fn fractional_outcomes() {
        let comparisons =
            [(-120.0, 0.2), (35.0, 0.65), (300.0, 0.9), (-15.0, 0.4), (80.0, 0.55), (-260.0, 0.1), (5.0, 0.5)];
        assert_fit(&comparisons, -0.16203859477864424, 2.1341927102626106, 0.45957875601288584);
    }

    #[test]
    fn nearly_separated_set_has_a_steep_but_finite_slope() {
        let comparisons = [
            (-400.0, 0.0),
            (-300.0, 0.0),
            (-200.0, 0.0),
            (-100.0, 0.0),
            (-1.0, 1.0),
            (1.0, 0.0),
            (100.0, 1.0),
            (200.0, 1.0),
            (300.0, 1.0),
        ];
        assert_fit(&comparisons, -1.1402000679836557e-05, 12.819104723952321, 0.4999971494998301);
    }

    #[test]
    fn nearly_constant_x_converges() {
        // x = tanh(Δ / sd) is between −0.99983 and −0.98267, so σ(θ₀) extrapolates far: θ is
        // large and ill-conditioned. The expected values are a 50-digit Newton's (mpmath).
        let fit = fit(&[(-320.0, 0.0), (-333.0, 1.0), (-189.0, 1.0), (-373.0, 0.0)]).unwrap();
        assert!((fit.intercept / 1528.2461304230556 - 1.0).abs() <= 1e-11, "{fit:?}");
        assert!((fit.slope / 1529.617959398976 - 1.0).abs() <= 1e-11, "{fit:?}");
        assert_eq!(fit.length_controlled_win_rate, 1.0);
    }

    #[test]
    fn equal_deltas_fit_the_intercept_alone() {
        let comparisons = [(12.0, 1.0), (12.0, 0.0), (12.0, 0.5), (12.0, 1.0), (12.0, 1.0)];
        assert_fit(&comparisons, 0.8472978603872034, 0.0, 0.7);
    }

    #[test]
    fn a_single_comparison_fits_the_intercept_alone() {
        assert_fit(&[(-7.0, 0.5)], 0.0, 0.0, 0.5);
    }

    #[test]
    fn no_comparisons_is_empty() {
        assert_eq!(fit(&[]), Err(NoFit::Empty));
    }

    #[test]
    fn all_wins_or_all_losses_is_unanimous() {
        assert_eq!(fit(&[(3.0, 1.0), (-8.0, 1.0)]), Err(NoFit::Unanimous { win_rate: 1.0 }));
        assert_eq!(fit(&[(3.0, 0.0), (3.0, 0.0)]), Err(NoFit::Unanimous { win_rate: 0.0 }));
        assert_eq!(fit(&[(5.0, 1.0)]), Err(NoFit::Unanimous { win_rate: 1.0 }));
    }

    #[test]
    fn outcomes_split_by_length_are_separated() {
        // Every win longer than every loss, and every win shorter.
        assert_eq!(fit(&[(1.0, 1.0), (2.0, 1.0), (-1.0, 0.0), (-3.0, 0.0)]), Err(NoFit::Separated));
        assert_eq!(fit(&[(1.0, 0.0), (2.0, 0.0), (-1.0, 1.0), (-3.0, 1.0)]), Err(NoFit::Separated));
        // Quasi-complete: a tie (a win and a loss) where the wins and losses meet.
        assert_eq!(fit(&[(1.0, 1.0), (2.0, 1.0), (-1.0, 0.0), (0.0, 0.5)]), Err(NoFit::Separated));
        // Wins and a loss at the same length: quasi-complete too.
        assert_eq!(fit(&[(1.0, 1.0), (2.0, 1.0), (1.0, 0.0), (-2.0, 0.0)]), Err(NoFit::Separated));
    }

    #[test]
    fn ties_alone_are_not_separated() {
        let fit = fit(&[(-10.0, 0.5), (0.0, 0.5), (25.0, 0.5)]).unwrap();
        assert!(fit.intercept.abs() <= 1e-12 && fit.slope.abs() <= 1e-12);
        assert!((fit.length_controlled_win_rate - 0.5).abs() <= 1e-12);
    }

    #[test]
    fn invalid_comparisons_are_errors() {
        assert_eq!(fit(&[(1.0, 1.0), (f64::NAN, 0.0)]), Err(NoFit::Invalid { index: 1 }));
        assert_eq!(fit(&[(f64::INFINITY, 0.0), (1.0, 1.0)]), Err(NoFit::Invalid { index: 0 }));
        assert_eq!(fit(&[(1.0, 1.0), (2.0, 1.5)]), Err(NoFit::Invalid { index: 1 }));
        assert_eq!(fit(&[(1.0, -0.5)]), Err(NoFit::Invalid { index: 0 }));
        assert_eq!(fit(&[(1.0, f64::NAN)]), Err(NoFit::Invalid { index: 0 }));
    }

    #[test]
    fn huge_deltas_do_not_panic() {
        let comparisons = [(1e300, 1.0), (-1e300, 0.0), (1e300, 0.0), (-1e300, 1.0), (f64::MAX, 0.5)];
        if let Ok(fit) = fit(&comparisons) {
            assert!(fit.intercept.is_finite() && fit.slope.is_finite());
        }
    }

    #[test]
    fn every_result_is_finite_or_an_error() {
        // A small linear congruential generator: many odd sets, none may panic or give a non-finite fit.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for round in 0..2000 {
            let n = 1 + round % 12;
            let scale = [1e-300, 1e-3, 1.0, 1e3, 1e150][round % 5];
            let comparisons: Vec<(f64, f64)> = (0..n)
                .map(|_| (((next() * 20.0).floor() - 10.0) * scale, [0.0, 0.5, 1.0][(next() * 3.0) as usize % 3]))
                .collect();
            if let Ok(fit) = fit(&comparisons) {
                let values = [fit.win_rate, fit.intercept, fit.slope, fit.length_controlled_win_rate];
                assert!(values.iter().all(|v| v.is_finite()), "{comparisons:?} gave {fit:?}");
            }
        }
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(NoFit::Empty.to_string(), "there are no comparisons to fit");
        assert_eq!(
            NoFit::Unanimous { win_rate: 0.0 }.to_string(),
            "every comparison is a loss, so there is no win rate at equal length to estimate"
        );
        assert!(NoFit::Invalid { index: 3 }.to_string().starts_with("comparison 3 (counting from 0)"));
    }
}
