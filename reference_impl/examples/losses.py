"""Example ``losses``: the chapter's four loss functions on fixed arrays, as its code computes them.

Source: 001_b373d019e6023af9.txt, "Loss functions in code" (code) and "Calculating loss
during categorical variable prediction" (formulas, and the Dog row: -log(0.88) = 0.128).
The arrays are ours; the chapter prints no loss values for them.

Findings: the chapter's cross-entropy code returns the *sum* over data points (``np.mean`` of
a scalar), m times the mean its text defines (variant ``formula/``); and a confident wrong
prediction (p = 0 where y = 1) gives ``-log(0)`` = inf, with NumPy's divide-by-zero RuntimeWarning,
where the clipped formula stays finite (variant
``confident_wrong/``).
"""

import numpy as np

from .. import losses

# Binary targets and predictions (m = 4 data points).
P_BINARY = np.array([0.9, 0.2, 0.7, 0.4])
Y_BINARY = np.array([1.0, 0.0, 1.0, 0.0])
# Categorical: 3 rows, 3 classes, one-hot targets.
P_CATEGORICAL = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
Y_CATEGORICAL = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
# A confident wrong prediction.
P_CONFIDENT_WRONG = np.array([0.0, 0.2])
Y_CONFIDENT_WRONG = np.array([1.0, 0.0])
# The chapter's Dog row: target Dog predicted with probability 0.88.
P_DOG = 0.88


def run():
    bce_chapter_wrong = losses.binary_cross_entropy_chapter(P_CONFIDENT_WRONG, Y_CONFIDENT_WRONG)
    return {
        "mse": losses.mse(P_BINARY, Y_BINARY),
        "mae": losses.mae(P_BINARY, Y_BINARY),
        "binary_cross_entropy": losses.binary_cross_entropy_chapter(P_BINARY, Y_BINARY),
        "categorical_cross_entropy": losses.categorical_cross_entropy_chapter(P_CATEGORICAL, Y_CATEGORICAL),
        "formula/binary_cross_entropy": losses.binary_cross_entropy_formula(P_BINARY, Y_BINARY),
        "formula/categorical_cross_entropy": losses.categorical_cross_entropy_formula(P_CATEGORICAL, Y_CATEGORICAL),
        "confident_wrong/binary_cross_entropy_chapter_is_finite": np.isfinite(bce_chapter_wrong),
        "confident_wrong/binary_cross_entropy_formula": losses.binary_cross_entropy_formula(
            P_CONFIDENT_WRONG, Y_CONFIDENT_WRONG),
        "dog_row_loss": -np.log(np.float64(P_DOG)),
    }


# --- declarations (backprop_repro.core.spec) -------------------------------------------------------------------
from backprop_repro.core.spec import REASONS, Claim, Mutation, Policy, Printed, Source  # noqa: E402

from ._documents import D001  # noqa: E402

SOURCE = Source((D001,), "Loss functions in code",
                "mse, mae, binary and categorical cross-entropy as the chapter codes them, and its formulas")
POLICIES = (
    Policy("mse", "exact", "squares and a 4-element mean: exp-free (numerics, policy 1)"),
    Policy("mae", "exact", "absolute values and a 4-element mean: exp-free (numerics, policy 1)"),
    Policy("*_is_finite", "exact", REASONS.boolean),
    Policy("*", "ulp:8", "sums of a few log terms, <= 1 ULP each between libm and SIMD log (numerics, policy 2)"),
)
WARNINGS = ("divide by zero encountered in log",)
PRINTED = (
    Printed("dog_row_loss", (), "0.128", D001,
            "Calculating loss during categorical variable prediction (the Dog row, -log 0.88)"),
)


def _code_over_formula(q, name):
    """(chapter code / text formula, whether they agree) for one of the cross-entropies."""
    code, formula = q[name], q[f"formula/{name}"]
    return float(code / formula), bool(np.isclose(code, formula))


_CE = "Loss functions in code / Calculating loss during categorical variable prediction"
CLAIMS = (
    Claim("bce_mean", D001, _CE,
          "binary cross-entropy is the mean over the m data points (the formula) and the code implements it",
          "chapter code / formula == 1 (measured: the ratio, with m = 4)",
          lambda q: _code_over_formula(q, "binary_cross_entropy"), "not-reproduced",
          explanation="the code takes np.mean of a full np.sum, a scalar: it returns the sum, m times the mean"),
    Claim("cce_mean", D001, _CE,
          "categorical cross-entropy is the mean over the m rows (the formula) and the code implements it",
          "chapter code / formula == 1 (measured: the ratio, with m = 3 rows)",
          lambda q: _code_over_formula(q, "categorical_cross_entropy"), "not-reproduced",
          explanation="the code takes np.mean of a full np.sum, a scalar: it returns the sum over rows, m times "
                      "the mean"),
    Claim("infinite_max", D001, "Calculating loss during categorical variable prediction",
          "\"the maximum loss can be infinity when the probability is 0\"",
          "the chapter's binary cross-entropy of a confident wrong prediction is not finite",
          lambda q: (bool(q["confident_wrong/binary_cross_entropy_chapter_is_finite"]),
                     not bool(q["confident_wrong/binary_cross_entropy_chapter_is_finite"])), "reproduced"),
)
MUTATIONS = (
    Mutation("bce-formula-sum", "return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))",
             "return -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))", "cross-entropy formula summing, not averaging",
             module="reference_impl.losses"),
)
