"""The chapter's forward passes, returning the loss the way its ``feed_forward`` does.

Source: 001_b373d019e6023af9.txt, "Feedforward propagation in code" (2-3-1 network with
biases, sigmoid hidden layer, linear output, MSE) and "Understanding the impact of the
learning rate" (the 1-1 linear model ``x @ w + b``).

dtype note: the chapter's inputs are integer arrays (``np.array([[1,1]])``) or Python lists
of ints, and its weights are float32. ``np.dot(int64, float32)`` promotes to float64 under
NumPy 1.x and 2.x alike, so the forward pass and the loss are float64 while the weights
stay float32. We keep that: it is what makes the documents' numbers reproduce.
"""

import numpy as np

from .activations import sigmoid

__all__ = ["hidden_layer", "predict_231", "loss_231", "predict_linear", "loss_linear"]


def hidden_layer(inputs, weights):
    """Sigmoid activations of the hidden layer: ``sigmoid(inputs @ W0 + b0)``."""
    pre_hidden = np.dot(inputs, weights[0]) + weights[1]
    return sigmoid(pre_hidden)


def predict_231(inputs, weights):
    """Output of the 2-3-1 network: ``hidden @ W2 + b2`` (linear output)."""
    return np.dot(hidden_layer(inputs, weights), weights[2]) + weights[3]


def loss_231(inputs, outputs, weights):
    """The chapter's ``feed_forward``: mean squared error of the 2-3-1 network."""
    return np.mean(np.square(predict_231(inputs, weights) - outputs))


def predict_linear(inputs, weights):
    """The learning-rate section's model: ``inputs @ w + b``, no hidden layer."""
    return np.dot(inputs, weights[0]) + weights[1]


def loss_linear(inputs, outputs, weights):
    """The learning-rate section's ``feed_forward``: mean squared error of the linear model."""
    return np.mean(np.square(predict_linear(inputs, weights) - outputs))
