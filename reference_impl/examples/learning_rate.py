"""Example ``learning_rate``: fitting y = 3x with the chapter's finite differences at lr 0.01, 0.1 and 1.

Source: 001_b373d019e6023af9.txt, "Understanding the impact of the learning rate": x = 1..4
as a Python list of lists, y = 3x, w and b float32 zeros of shape (1, 1), 1000 epochs of
``update_weights`` (step 0.0001), and the 10-epoch printout of the weight's value, loss,
perturbed loss and gradient. The forward pass is float64 (int list @ float32), the
parameters stay float32.

At lr 1 the weight and bias pass |x| >= 2048 within three epochs; there the float32 spacing
exceeds 0.0001, ``w + 0.0001 == w``, the forward difference is exactly 0 and training stops.
"""

import numpy as np

from ..finite_differences import update_weights
from ..networks import loss_linear

INPUTS = [[1], [2], [3], [4]]
TARGETS = [[3], [6], [9], [12]]
LEARNING_RATES = (0.01, 0.1, 1)
EPOCHS = 1000


def _initial_weights():
    return [np.array([[0]], dtype=np.float32), np.array([[0]], dtype=np.float32)]


def fit(lr, epochs=EPOCHS):
    """Traces of one fit: the weight and bias after each epoch; the weight's loss, perturbed loss and gradient in each."""
    weights = _initial_weights()
    traces = {name: [] for name in ("weight_trace", "bias_trace", "loss_trace", "loss_plus_trace", "gradient_trace")}
    for _ in range(epochs):
        step = update_weights(loss_linear, INPUTS, TARGETS, weights, lr)
        weights = step.weights
        traces["weight_trace"].append(weights[0][0, 0])
        traces["bias_trace"].append(weights[1][0, 0])
        traces["loss_trace"].append(step.loss)
        traces["loss_plus_trace"].append(step.loss_plus[0][0, 0])
        traces["gradient_trace"].append(step.gradients[0][0, 0])
    return {
        name: np.array(values, dtype=np.float32 if name in ("weight_trace", "bias_trace") else np.float64)
        for name, values in traces.items()
    }


def run():
    out = {}
    for lr in LEARNING_RATES:
        for name, trace in fit(lr).items():
            out[f"lr={lr}/{name}"] = trace
    return out
