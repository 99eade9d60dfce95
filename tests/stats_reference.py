#!/usr/bin/env python3
"""The calibration statistics of judge (a dataset's judge against its `human` labels), as the
reference libraries compute them: scipy.stats and scikit-learn, numpy for the rest.

Reads JSON on stdin:

    {"kind": "scores", "pairs": [[judge, human], ...]}     judge and human in scale points
    {"kind": "pass_fail", "pairs": [[judge, human], ...]}  whether each passes (true/false)

and prints the statistics as JSON, with exactly the keys of the JSON report's
`datasets[].calibration`. Scores: the judge's score rounded to the nearest point, halves away
from zero, for exact agreement, within one and the kappas (the labels likewise, whole numbers in
practice); the correlations and the mean absolute error on the unrounded score. A statistic the
libraries give as NaN (a constant side, perfect chance agreement) is null.

The end-to-end test tests/tests/e2e/calibration.rs compares a run's report with it
(pip install -r tests/requirements-stats.txt).
"""

import json
import math
import sys
import warnings

import numpy as np
from scipy import stats
from sklearn.metrics import cohen_kappa_score


def nearest(x):
    """x rounded to the nearest whole number, halves away from zero (Rust's f64::round)."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def number(value):
    """A float for JSON: NaN (or infinity) as null."""
    value = float(value)
    return value if math.isfinite(value) else None


def scores(pairs):
    judge = np.array([float(j) for j, _ in pairs])
    human = np.array([float(h) for _, h in pairs])
    judge_points = np.array([nearest(j) for j in judge], dtype=np.int64)
    human_points = np.array([nearest(h) for h in human], dtype=np.int64)
    n = len(pairs)
    if n >= 2:
        spearman = stats.spearmanr(judge, human).statistic
        pearson = stats.pearsonr(judge, human).statistic
        kendall = stats.kendalltau(judge, human).statistic  # tau-b, the default variant
    else:
        spearman = pearson = kendall = math.nan
    return {
        "n": n,
        "exact_agreement": number(np.mean(judge_points == human_points)),
        "within_one": number(np.mean(np.abs(judge_points - human_points) <= 1)),
        "cohen_kappa": number(cohen_kappa_score(judge_points, human_points)),
        "quadratic_kappa": number(cohen_kappa_score(judge_points, human_points, weights="quadratic")),
        "spearman": number(spearman),
        "pearson": number(pearson),
        "kendall_tau": number(kendall),
        "mae": number(np.mean(np.abs(judge - human))),
    }


def pass_fail(pairs):
    judge = np.array([bool(j) for j, _ in pairs])
    human = np.array([bool(h) for _, h in pairs])
    return {
        "n": len(pairs),
        "exact_agreement": number(np.mean(judge == human)),
        "cohen_kappa": number(cohen_kappa_score(judge.astype(np.int64), human.astype(np.int64))),
        "confusion": {
            "tp": int(np.sum(judge & human)),
            "fp": int(np.sum(judge & ~human)),
            "fn": int(np.sum(~judge & human)),
            "tn": int(np.sum(~judge & ~human)),
        },
    }


def main():
    request = json.load(sys.stdin)
    kind, pairs = request["kind"], request["pairs"]
    if not pairs:
        sys.exit("no pairs: the statistics need at least one labelled row")
    # Constant inputs warn and give NaN, which is the answer (null) here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "scores":
            result = scores(pairs)
        elif kind == "pass_fail":
            result = pass_fail(pairs)
        else:
            sys.exit(f"kind is \"scores\" or \"pass_fail\", not {kind!r}")
    json.dump(result, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
