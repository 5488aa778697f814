"""Example ``toy_backprop``: the 2-3-1 network trained 100 epochs with the chapter's finite differences.

Source: 000_ea17d77324d96e4c.txt (whole excerpt) and 001_b373d019e6023af9.txt, "Putting
feedforward propagation and backpropagation together": lr 0.01, 100 calls of
``update_weights``, the loss recorded before each update, then one prediction for (1, 1).
"""

import numpy as np

from ..finite_differences import update_weights
from ..networks import loss_231, predict_231
from ._toy_network import INPUTS, TARGETS, initial_weights

LEARNING_RATE = 0.01
EPOCHS = 100
MORE_EPOCHS = 200  # for the text's "as we train for more epochs" claim


def train(weights, epochs):
    """``epochs`` calls of the chapter's ``update_weights``; returns the weights and the losses before each."""
    losses = []
    for _ in range(epochs):
        step = update_weights(loss_231, INPUTS, TARGETS, weights, LEARNING_RATE)
        weights = step.weights
        losses.append(step.loss)
    return weights, np.array(losses)


def run():
    weights, losses = train(initial_weights(), EPOCHS)
    out = {"losses": losses}
    out.update({f"final_weights.{k}": w for k, w in enumerate(weights)})
    out["prediction"] = predict_231(INPUTS, weights)
    more_weights, _ = train(weights, MORE_EPOCHS - EPOCHS)
    out["more_epochs/prediction"] = predict_231(INPUTS, more_weights)
    return out
