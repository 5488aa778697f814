"""Example ``chain_rule``: one update at lr 1 of the 2-3-1 network, by finite differences and by the chain rule.

Source: 001_b373d019e6023af9.txt, "Implementing backpropagation using the chain rule" (the
derivation, shown for w11 and extended to all 13 parameters) and "Gradient descent in code"
(the finite-difference ``update_weights``, step 0.0001). The network, input and initial
weights are those of "Putting feedforward propagation and backpropagation together".

Both updates subtract ``lr * grad`` (float64) from the float32 weights and round on store.
"""

import numpy as np

from ..backprop import gradients_231
from ..finite_differences import update_weights
from ..networks import loss_231
from ._toy_network import INPUTS, TARGETS, initial_weights

LEARNING_RATE = 1.0


def run():
    weights = initial_weights()
    fd = update_weights(loss_231, INPUTS, TARGETS, weights, LEARNING_RATE)
    analytic = gradients_231(INPUTS, TARGETS, weights)
    analytic_updated = [
        (w.astype(np.float64) - LEARNING_RATE * g).astype(w.dtype) for w, g in zip(weights, analytic)
    ]
    out = {"loss": np.float64(fd.loss)}
    for k in range(len(weights)):
        out[f"fd_gradients.{k}"] = fd.gradients[k]
        out[f"analytic_gradients.{k}"] = analytic[k]
        out[f"fd_updated_weights.{k}"] = fd.weights[k]
        out[f"analytic_updated_weights.{k}"] = analytic_updated[k]
    return out
