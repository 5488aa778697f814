"""Activation functions: the chapter's definitions, faithfully, and sound versions beside them.

Source: 001_b373d019e6023af9.txt, section "Activation functions in code" (tanh, relu,
linear, softmax) and "Implementing feedforward propagation" (sigmoid as ``1/(1+np.exp(-x))``).
The faithful versions keep the chapter's operation order, including where it breaks:
``tanh_chapter`` and ``softmax_chapter`` overflow (inf/inf = nan) for large |x|.
"""

import numpy as np

__all__ = [
    "sigmoid",
    "sigmoid_prime_from_output",
    "ONE_F64",
    "tanh_chapter",
    "relu",
    "linear",
    "softmax_chapter",
    "softmax_stable",
]


#: The constant 1 as a 0-d float64 array, for float64 arithmetic in hot loops (see :func:`sigmoid`).
ONE_F64 = np.array(1.0)


def sigmoid(x, one=1):
    """Logistic sigmoid written as the documents write it: ``1 / (1 + exp(-x))``.

    ``one`` is the constant 1: a caller with float64 ``x`` in a hot loop passes :data:`ONE_F64`, the same value
    without NumPy's conversion of a Python scalar on every call (the same bits; a plain 1 keeps float32 float32).
    """
    return one / (one + np.exp(-x))


def sigmoid_prime_from_output(s, one=1):
    """Sigmoid derivative expressed through the sigmoid's *output* s: ``s * (1 - s)`` (``one`` as in
    :func:`sigmoid`).

    The notebooks (002, 003, 004) call this ``sigmoid_derivative`` / ``sigmoid_prime`` and
    pass it the activation, not the pre-activation.
    """
    return s * (one - s)


def tanh_chapter(x):
    """The chapter's tanh: ``(e^x - e^-x) / (e^x + e^-x)``; nan once e^|x| overflows (|x| > ~710)."""
    return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))


def relu(x):
    """The chapter's ReLU: ``where(x > 0, x, 0)``."""
    return np.where(x > 0, x, 0)


def linear(x):
    """The identity activation."""
    return x


def softmax_chapter(x):
    """The chapter's softmax: ``exp(x) / sum(exp(x))``; nan once any exp overflows (x > ~709)."""
    return np.exp(x) / np.sum(np.exp(x))


def softmax_stable(x):
    """Numerically sound softmax: shift by the maximum first (same value wherever the chapter's is finite)."""
    z = np.exp(x - np.max(x))
    return z / np.sum(z)
