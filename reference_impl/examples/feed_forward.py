"""Example ``feed_forward``: the chapter's worked feed-forward pass.

Source: 001_b373d019e6023af9.txt, "Implementing feedforward propagation" (the subsections
"Calculating the hidden layer unit values" to "Calculating loss values"). The weights were in
the chapter's lost figures; docs/documents.md restores them: input (1, 1),
input-to-hidden [[0.8, 0.4, 0.3], [0.2, 0.9, 0.5]] (row = input node), hidden-to-output
[0.3, 0.5, 0.9], no biases, target 0, sigmoid hidden layer, linear output, MSE.
float64 throughout (the chapter computes it by hand).
"""

import numpy as np

from ..activations import sigmoid
from ..losses import mse

INPUTS = np.array([1.0, 1.0])
W_INPUT_HIDDEN = np.array([[0.8, 0.4, 0.3], [0.2, 0.9, 0.5]])
W_HIDDEN_OUTPUT = np.array([0.3, 0.5, 0.9])
TARGET = 0.0


def run():
    hidden = sigmoid(INPUTS @ W_INPUT_HIDDEN)
    prediction = hidden @ W_HIDDEN_OUTPUT
    return {
        "hidden": hidden,
        "prediction": np.float64(prediction),
        "loss": np.float64(mse(prediction, TARGET)),
    }


# --- declarations (backprop_repro.core.spec) -------------------------------------------------------------------
from backprop_repro.core.spec import REASONS, Policy, Printed, Source  # noqa: E402

from ._documents import D001  # noqa: E402

SOURCE = Source((D001,), "Implementing feedforward propagation",
                "worked 2-3-1 forward pass (the weights of the chapter's lost figures, docs/documents.md)")
POLICIES = (
    Policy("hidden", "ulp:4", REASONS.one_exp),
    Policy("*", "ulp:16", "three sigmoids (<= 4 ULP each) through a 3-term BLAS dot, squared for the loss"),
)
PRINTED = (
    Printed("prediction", (), "1.235", D001,
            "Calculating the output layer values; Implementing backpropagation using the chain rule",
            expected="not-reproduced",
            note="exact arithmetic gives 1.2332; the chapter rounded the hidden activations to two decimals "
                 "(0.73, 0.79, 0.69) before the output sum, which gives 1.235"),
)
