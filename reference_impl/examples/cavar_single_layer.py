"""Example ``cavar_single_layer``: the 3-1 sigmoid network without hidden layer, 10000 iterations.

Source: 004_f58117f23d7db6a4.txt, cells In [21] to In [31]: targets y = (0, 0, 1, 1), the
global legacy RNG seeded with ``np.random.seed(1)``, Wo = random((3, 1)) * sqrt(2/3), and
full-batch updates ``Wo += X.T @ (error * l1 (1 - l1))``. The printed ``l1`` is the output of
the last forward pass, made before the last update.
"""

import numpy as np

from ..activations import sigmoid
from ..activations import sigmoid_prime_from_output as sigmoid_prime

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
Y = np.array([[0, 0, 1, 1]]).T
ITERATIONS = 10000
N_INPUTS, N_OUTPUTS = 3, 1


def run():
    # The document seeds NumPy's global legacy RNG here (cell In [27]); we do the same, once.
    np.random.seed(1)
    wo = np.random.random((N_INPUTS, N_OUTPUTS)) * np.sqrt(2.0 / N_INPUTS)
    initial = wo.copy()
    for _ in range(ITERATIONS):
        l1 = sigmoid(np.dot(X, wo))
        l1_delta = (Y - l1) * sigmoid_prime(l1)
        wo += np.dot(X.T, l1_delta)
    return {"initial_weights": initial, "output": l1, "final_weights": wo}


# --- declarations (backprop_repro.core.spec) -------------------------------------------------------------------
from backprop_repro.core.spec import REASONS, Claim, GradientProblem, Mutation, Policy, Source  # noqa: E402

from ._documents import D004  # noqa: E402

SOURCE = Source((D004,), "cells In [21] to In [31]", "3-1 sigmoid network, np.random.seed(1), 10000 iterations")
POLICIES = (
    Policy("initial_weights", "exact", REASONS.draw),
    Policy("*", "close:rtol=1e-12,atol=1e-15", REASONS.f64_trace),
)


def _derivative_misuse():
    """max |z (1 - z) - sigmoid'(z)| when z is the input, as the text's "for any given z" reads."""
    z = np.linspace(-4, 4, 81)
    return float(np.max(np.abs(sigmoid_prime(z) - sigmoid(z) * (1 - sigmoid(z)))))


def _misuse(_q):
    error = _derivative_misuse()
    return error, error < 1e-12


CLAIMS = (
    Claim("sigmoid_prime", D004, "cell In [24] and the text before it",
          "sigmoid_prime \"returns the derivative of the sigmoid for any given z\"",
          "max |z (1 - z) - sigmoid'(z)| on z in [-4, 4] below 1e-12 (measured: that maximum)", _misuse,
          "not-reproduced",
          explanation="z (1 - z) is the derivative only when z is the sigmoid's output; the code always passes "
                      "outputs (l1, l2), where it is exact, so training is unaffected"),
    Claim("learns", D004, "cells In [28] to In [31]", "the single-layer network learns the table (outputs 0, 0, 1, 1)",
          "every output of the last pass within 0.05 of its target (measured: max error)",
          lambda q: (float(np.max(np.abs(q["output"].ravel() - [0, 0, 1, 1]))),
                     float(np.max(np.abs(q["output"].ravel() - [0, 0, 1, 1]))) <= 0.05), "reproduced"),
)
# 004's network without hidden layer, at the document's seed-1 draws (the global RNG's stream, drawn afresh).
GRADIENT_PROBLEM = GradientProblem(
    "31", (N_INPUTS, N_OUTPUTS), bias=False, output="sigmoid",
    parameters=lambda: [np.random.RandomState(1).random_sample((N_INPUTS, N_OUTPUTS)) * np.sqrt(2.0 / N_INPUTS)],
    inputs=X, targets=Y)
MUTATIONS = (
    Mutation("cavar-seed", "    np.random.seed(1)\n", "    np.random.seed(2)\n", "seed changed (004 single layer)"),
)
