"""The 2-3-1 toy network shared by ``chain_rule`` and ``toy_backprop``.

Source: 000_ea17d77324d96e4c.txt and 001_b373d019e6023af9.txt, "Putting feedforward
propagation and backpropagation together": input (1, 1), target 0, and the "randomly
initialized" float32 weights the chapter lists (hidden weights written 3x2, then transposed).
"""

import numpy as np

from backprop_repro.core.spec import GradientProblem

INPUTS = np.array([[1, 1]])    # int64, as in the chapter: promotes the forward pass to float64
TARGETS = np.array([[0]])


def initial_weights():
    """A fresh copy of the chapter's initial weights [W0 (2,3), b0 (3,), W2 (3,1), b2 (1,)]."""
    return [
        np.array([[-0.0053, 0.3793],
                  [-0.5820, -0.5204],
                  [-0.2723, 0.1896]], dtype=np.float32).T,
        np.array([-0.0140, 0.5607, -0.0628], dtype=np.float32),
        np.array([[0.1528, -0.1745, -0.1135]], dtype=np.float32).T,
        np.array([-0.5516], dtype=np.float32),
    ]


#: The 2-3-1 network with biases and a linear output, at the chapter's weights (declared by toy_backprop).
PROBLEM = GradientProblem("231", (2, 3, 1), bias=True, output="linear", parameters=initial_weights, inputs=INPUTS,
                          targets=TARGETS)
