"""Example ``activations``: the chapter's tanh, relu, linear and softmax on a fixed grid.

Source: 001_b373d019e6023af9.txt, "Activation functions in code". The grid is ours (the
chapter plots the functions without printing values): x = -5, -4.5, ..., 5 in float64.

Findings (variant ``large_input/``): on x = [1000, 10, -1000] the chapter's softmax and tanh
return nan (exp overflows to inf, inf/inf); the shifted softmax and ``np.tanh`` are finite.
Running this example therefore raises NumPy's overflow/invalid RuntimeWarnings, as the
chapter's code does.
"""

import numpy as np

from .. import activations as act

GRID = np.linspace(-5.0, 5.0, 21)
LARGE_INPUT = np.array([1000.0, 10.0, -1000.0])


def run():
    return {
        "tanh": act.tanh_chapter(GRID),
        "relu": act.relu(GRID),
        "linear": act.linear(GRID),
        "softmax": act.softmax_chapter(GRID),
        "sigmoid": act.sigmoid(GRID),
        "sound/tanh": np.tanh(GRID),
        "sound/softmax": act.softmax_stable(GRID),
        "large_input/softmax_chapter_is_nan": np.isnan(act.softmax_chapter(LARGE_INPUT)),
        "large_input/tanh_chapter_is_nan": np.isnan(act.tanh_chapter(LARGE_INPUT)),
        "large_input/softmax_stable": act.softmax_stable(LARGE_INPUT),
        "large_input/tanh_numpy": np.tanh(LARGE_INPUT),
    }
