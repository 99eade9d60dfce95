#!/usr/bin/env python3
"""The length-controlled win rate of judge (AlpacaEval 2's), as the reference libraries compute
it: statsmodels' maximum-likelihood logistic regression, numpy for the rest.

Reads JSON on stdin:

    {"comparisons": [[delta, outcome], ...]}

delta the output's length minus the compared text's, in characters; outcome 1 a win, 0 a loss,
0.5 a tie (any share from 0 to 1 counts as that share of a win). Fits, unregularized,
P(win) = sigmoid(intercept + slope * x) with x = tanh(delta / sd), sd the sample standard
deviation of the deltas (ddof=1, as pandas' std, which AlpacaEval uses): each comparison is
split into a win of weight outcome and a loss of weight 1 - outcome (a tie into two of weight
1/2), and statsmodels.api.GLM with family Binomial() and those freq_weights fits them. Where x
is the same for every comparison (every delta equal, or only one comparison) the slope is not
identifiable: the intercept is fitted alone and the slope is 0.

Prints, as JSON, the keys of the report's length control:

    {"n": ..., "win_rate": ..., "intercept": ..., "slope": ..., "length_controlled_win_rate": ...}

win_rate the mean outcome, length_controlled_win_rate = sigmoid(intercept), the win rate at
equal length. Where there is no estimate (no comparisons, an invalid one, every comparison a win
or every one a loss, outcomes separated by length so that the fit diverges, or a fit that does
not converge) it prints {"error": "..."}, the sentence judge gives for it.

The end-to-end test tests/tests/e2e/length_control.rs compares a run's report with it
(pip install -r tests/requirements-stats.txt).
"""

import json
import math
import sys
import warnings

import numpy as np
import statsmodels.api as sm

EMPTY = "there are no comparisons to fit"
UNANIMOUS_WIN = "every comparison is a win, so there is no win rate at equal length to estimate"
UNANIMOUS_LOSS = "every comparison is a loss, so there is no win rate at equal length to estimate"
SEPARATED = (
    "the outcomes are separated by length (no win is shorter than a loss, or none is longer), "
    "so the fit diverges and has no maximum-likelihood estimate"
)
NOT_CONVERGED = "the fit did not converge to a finite estimate"


class NoFit(Exception):
    """Why there is no length-controlled win rate: its message is judge's sentence for it."""


def invalid(index):
    return (
        f"comparison {index} (counting from 0) is not a finite length difference "
        "with an outcome from 0 to 1"
    )


def sigmoid(z):
    """The logistic function, without overflow for large |z|."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def validated(comparisons):
    """The deltas and outcomes as arrays, or NoFit for an empty or invalid list."""
    if not comparisons:
        raise NoFit(EMPTY)
    for index, comparison in enumerate(comparisons):
        delta, outcome = (float(value) for value in comparison)
        if not (math.isfinite(delta) and 0.0 <= outcome <= 1.0):
            raise NoFit(invalid(index))
    deltas = np.array([float(delta) for delta, _ in comparisons])
    outcomes = np.array([float(outcome) for _, outcome in comparisons])
    if not np.any(outcomes < 1.0):
        raise NoFit(UNANIMOUS_WIN)
    if not np.any(outcomes > 0.0):
        raise NoFit(UNANIMOUS_LOSS)
    return deltas, outcomes


def lengths(deltas):
    """x = tanh(delta / sd), or None where it does not vary (the slope is not identifiable)."""
    if len(deltas) < 2:
        return None
    with np.errstate(all="ignore"):
        sd = np.std(deltas, ddof=1)
        if not (np.isfinite(sd) and sd > 0.0):
            return None
        x = np.tanh(deltas / sd)
    return x if np.unique(x).size > 1 else None


def separated(x, outcomes):
    """Whether no win (outcome > 0) lies below a loss (outcome < 1) in x, or none above one:
    then the log-likelihood grows without bound along the slope and there is no estimate."""
    wins, losses = x[outcomes > 0.0], x[outcomes < 1.0]
    return wins.min() >= losses.max() or wins.max() <= losses.min()


def glm(design, outcomes):
    """The coefficients of statsmodels' Binomial GLM, each comparison a weighted win and loss."""
    endog = np.concatenate([np.ones(len(outcomes)), np.zeros(len(outcomes))])
    exog = np.concatenate([design, design])
    weights = np.concatenate([outcomes, 1.0 - outcomes])
    keep = weights > 0.0
    model = sm.GLM(endog[keep], exog[keep], family=sm.families.Binomial(), freq_weights=weights[keep])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.fit(tol=1e-13, rtol=1e-10, tol_criterion="params", maxiter=1000)
    params = np.asarray(result.params, dtype=float)
    if not (result.converged and np.all(np.isfinite(params))):
        raise NoFit(NOT_CONVERGED)
    return params


def length_control(comparisons):
    deltas, outcomes = validated(comparisons)
    x = lengths(deltas)
    ones = np.ones((len(deltas), 1))
    if x is None:
        intercept, slope = glm(ones, outcomes)[0], 0.0
    elif separated(x, outcomes):
        raise NoFit(SEPARATED)
    else:
        intercept, slope = glm(np.column_stack([ones, x]), outcomes)
    return {
        "n": len(deltas),
        "win_rate": float(np.mean(outcomes)),
        "intercept": float(intercept),
        "slope": float(slope),
        "length_controlled_win_rate": sigmoid(float(intercept)),
    }


def main():
    request = json.load(sys.stdin)
    try:
        result = length_control(request["comparisons"])
    except NoFit as no_fit:
        result = {"error": str(no_fit)}
    json.dump(result, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
