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


# --- declarations (backprop_repro.core.spec) -------------------------------------------------------------------
from backprop_repro.core.spec import REASONS, Claim, Mutation, Policy, Source  # noqa: E402

from ._documents import D001  # noqa: E402

SOURCE = Source((D001,), "Activation functions in code",
                "tanh, relu, linear, softmax (+ sigmoid, sound versions, large-input findings) on a fixed grid")
POLICIES = (
    Policy("relu", "exact", "a comparison and a select: no arithmetic"),
    Policy("linear", "exact", "the identity: no arithmetic"),
    Policy("*_is_nan", "exact", REASONS.boolean),
    Policy("large_input/softmax_stable", "exact",
           "exp(0) = 1 and exp(-990) underflows to 0 exactly on every platform; values near 0 need an absolute "
           "bound and 0 is the only one possible here"),
    Policy("large_input/tanh_numpy", "ulp:4", REASONS.one_exp),
    Policy("sigmoid", "ulp:4", REASONS.one_exp),
    Policy("sound/tanh", "ulp:4", REASONS.one_exp),
    Policy("tanh", "ulp:8", "four exp calls combined by a difference and a ratio: <= 4 ULP each, cancellation-free "
                            "on this grid"),
    Policy("*softmax", "ulp:8", "an exp per entry divided by a 21-term sum of exps"),
)
WARNINGS = ("overflow encountered in exp", "invalid value encountered in divide")
CLAIMS = (
    Claim("softmax_range", D001, "Activation functions in code",
          "the softmax code will \"force all the values to be in between 0 and 1\"",
          "every softmax value on the grid lies in [0, 1] (measured: NaN entries of the chapter's softmax at "
          "x = [1000, 10, -1000])",
          lambda q: (int(np.sum(q["large_input/softmax_chapter_is_nan"])),
                     bool(np.all((q["softmax"] >= 0) & (q["softmax"] <= 1)))),
          "reproduced-with-caveat",
          caveat="only while exp(x) does not overflow: for x > ~709 the chapter's softmax returns NaN; "
                 "subtracting max(x) first fixes it"),
)
MUTATIONS = (
    Mutation("softmax-no-shift", "z = np.exp(x - np.max(x))", "z = np.exp(x)", "the sound softmax without its max shift",
             module="reference_impl.activations"),
)
