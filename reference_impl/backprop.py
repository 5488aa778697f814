"""Analytic (chain-rule) gradients of the chapter's 2-3-1 network.

Source: 001_b373d019e6023af9.txt, "Implementing backpropagation using the chain rule": the
chapter derives dC/dw11 = dC/dpred * dpred/da11 * da11/dh11 * dh11/dw11 and leaves the rest
of the 13 parameters as an exercise; this module does all of them with the same factors.
"""

import numpy as np

from .activations import sigmoid

__all__ = ["gradients_231"]


def gradients_231(inputs, outputs, weights):
    """Chain-rule gradients of the chapter's MSE loss for the 2-3-1 network.

    inputs: (m, 2); outputs: (m, 1); weights: [W0 (2, 3), b0 (3,), W2 (3, 1), b2 (1,)].
    Returns float64 arrays of the weights' shapes, in the same order.
    """
    x = np.asarray(inputs, dtype=np.float64)
    w0, b0, w2, b2 = (np.asarray(w, dtype=np.float64) for w in weights)
    hidden = sigmoid(x @ w0 + b0)                       # a = S(h), shape (m, 3)
    pred = hidden @ w2 + b2                             # linear output, shape (m, 1)
    d_pred = 2.0 * (pred - outputs) / np.size(pred)     # dC/dpred of mean((pred - y)^2)
    d_hidden_pre = (d_pred @ w2.T) * hidden * (1.0 - hidden)   # through S'(h) = S(h)(1 - S(h))
    return [
        x.T @ d_hidden_pre,          # dC/dW0
        d_hidden_pre.sum(axis=0),    # dC/db0
        hidden.T @ d_pred,           # dC/dW2
        d_pred.sum(axis=0),          # dC/db2
    ]
