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
