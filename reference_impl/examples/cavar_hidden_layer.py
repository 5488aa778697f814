"""Example ``cavar_hidden_layer``: the 3-4-1 XOR network of the tutorial, 100000 iterations.

Source: 004_f58117f23d7db6a4.txt, cells In [15] to In [19]: XOR targets y = (0, 1, 1, 0),
``np.random.seed(1)`` again, Wh = random((3, 4)) * sqrt(2/3), Wo = random((4, 1)) * sqrt(2/4),
no biases, 100000 full-batch iterations (the prose says 60,000), and the mean absolute error
printed every 10000 iterations (10 values, before that iteration's update).
"""

import numpy as np

from ..activations import ONE_F64 as ONE
from ..activations import sigmoid
from ..activations import sigmoid_prime_from_output as sigmoid_prime

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
Y = np.array([[0, 1, 1, 0]]).T
ITERATIONS = 100000
PRINT_EVERY = 10000
N_INPUTS, N_HIDDEN, N_OUTPUTS = 3, 4, 1


SEED = 1


def run(seed=SEED, iterations=ITERATIONS):
    # The document seeds NumPy's global legacy RNG here (cell In [17]); we do the same, once.
    np.random.seed(seed)
    wh = np.random.random((N_INPUTS, N_HIDDEN)) * np.sqrt(2.0 / N_INPUTS)
    wo = np.random.random((N_HIDDEN, N_OUTPUTS)) * np.sqrt(2.0 / N_HIDDEN)
    initial_wh, initial_wo = wh.copy(), wo.copy()
    # The document's integer X and y are cast to float64 by NumPy in every operation; cast once here (exact), with
    # the constant 1 as float64 too: the same bits, a quarter less time in `check`'s longest loop.
    x, y = X.astype(np.float64), Y.astype(np.float64)
    x_t = x.T.copy()  # hoisted out of the loop; the same values the document transposes each time
    errors = []
    for i in range(iterations):
        l1 = sigmoid(np.dot(x, wh), ONE)
        l2 = sigmoid(np.dot(l1, wo), ONE)
        l2_error = y - l2
        if i % PRINT_EVERY == 0:
            errors.append(np.mean(np.abs(l2_error)))
        l2_delta = l2_error * sigmoid_prime(l2, ONE)
        l1_delta = l2_delta.dot(wo.T) * sigmoid_prime(l1, ONE)
        wo += np.dot(l1.T, l2_delta)
        wh += np.dot(x_t, l1_delta)
    return {
        "initial_hidden_weights": initial_wh,
        "initial_output_weights": initial_wo,
        "errors": np.array(errors),
        "final_output_weights": wo,
        "final_hidden_weights": wh,
        "output": l2,
    }


# --- declarations (backprop_repro.core.spec) -------------------------------------------------------------------
from backprop_repro.core.spec import REASONS, Claim, Figure, Mutation, Policy, Source  # noqa: E402

from ._documents import D004  # noqa: E402

from ..sweeps import SweepSpec  # noqa: E402

SOURCE = Source((D004,), "cells In [15] to In [19]",
                "3-4-1 XOR network, np.random.seed(1), 100000 iterations, error printed every 10000")
POLICIES = (
    Policy("initial_*", "exact", REASONS.draw),
    Policy("*", "close:rtol=1e-12,atol=1e-15", REASONS.f64_trace),
)
FIGURES = (Figure("Mean absolute error every 10000 iterations (004, the lost printout)",
                  "cavar_hidden_layer: printed error", "print (x 10000 iterations)", "mean |error|",
                  (("error", "errors"),), logy=True),)
# 200 seeds by default; 100 seeds per chunk, since 100000 iterations make a long unit for Ctrl-C.
SWEEP = SweepSpec((N_INPUTS, N_HIDDEN, N_OUTPUTS), X, Y, ITERATIONS, factor=1.0,
                  hidden_scale=np.sqrt(2.0 / N_INPUTS), output_scale=np.sqrt(2.0 / N_HIDDEN), error_every=PRINT_EVERY,
                  default_seeds=200, chunk=100, pinned_seed=SEED)


def _learns(q):
    errors = q["errors"]
    return float(errors[-1]), bool(np.all(np.diff(errors) < 0)) and float(errors[-1]) < 0.01


CLAIMS = (
    Claim("iterations", D004, "cell In [19] and the text before it",
          "\"We will loop now 60,000 times to optimize the weights\"",
          "the hidden-layer training runs 60000 iterations (measured: printed errors x 10000)",
          lambda q: (PRINT_EVERY * len(q["errors"]), PRINT_EVERY * len(q["errors"]) == 60000), "not-reproduced",
          explanation="text/code mismatch: the cell loops range(100000)"),
    Claim("learns", D004, "cell In [19]",
          "the hidden layer lets the network learn XOR: the printed error falls (the printout is lost here)",
          "the 10 printed mean absolute errors fall monotonically, the last below 0.01 (measured: last)", _learns,
          "reproduced"),
)
MUTATIONS = (
    Mutation("cavar-hidden-update-order",
             "        wo += np.dot(l1.T, l2_delta)\n        wh += np.dot(x_t, l1_delta)",
             "        wo += np.dot(l1.T, l2_delta)\n        wh += np.dot(x_t, l2_delta.dot(wo.T) * sigmoid_prime(l1, ONE))",
             "hidden update computed from the already updated output weights"),
)
