"""Loss functions: the chapter's code, faithfully, and the formulas its text states.

Source: 001_b373d019e6023af9.txt, section "Loss functions in code" (code) and
"Calculating loss during categorical variable prediction" (formulas: both cross-entropies
are averaged over the m data points). The chapter's cross-entropy *code* wraps a full
``np.sum`` in ``np.mean``: the mean of a scalar is that scalar, so the code returns the
**sum** over data points, m times the formula's value. It also takes ``log(0)`` = -inf for
a confident wrong prediction. ``*_formula`` below is what the text describes, with
probabilities clipped away from 0 and 1.
"""

import numpy as np

__all__ = [
    "mse",
    "mae",
    "binary_cross_entropy_chapter",
    "categorical_cross_entropy_chapter",
    "binary_cross_entropy_formula",
    "categorical_cross_entropy_formula",
]


def mse(p, y):
    """Mean squared error as the chapter codes it: ``mean(square(p - y))``."""
    return np.mean(np.square(p - y))


def mae(p, y):
    """Mean absolute error as the chapter codes it: ``mean(abs(p - y))``."""
    return np.mean(np.abs(p - y))


def binary_cross_entropy_chapter(p, y):
    """The chapter's code: ``-mean(sum(y log p + (1-y) log(1-p)))``, i.e. the *sum* over points."""
    return -np.mean(np.sum((y * np.log(p) + (1 - y) * np.log(1 - p))))


def categorical_cross_entropy_chapter(p, y):
    """The chapter's code: ``-mean(sum(y log p))``, i.e. the *sum* over rows and classes."""
    return -np.mean(np.sum(y * np.log(p)))


def _clip(p, eps):
    return np.clip(p, eps, 1 - eps)


def binary_cross_entropy_formula(p, y, eps=1e-12):
    """The text's formula: mean over the m points of -(y log p + (1-y) log(1-p)), p clipped."""
    p = _clip(p, eps)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def categorical_cross_entropy_formula(p, y, eps=1e-12):
    """The text's formula: mean over the m rows of -sum_c y_c log p_c, p clipped."""
    p = _clip(p, eps)
    return -np.mean(np.sum(y * np.log(p), axis=-1))
