"""Example ``xor_341``: the 3-4-1 network class trained 1500 iterations on the XOR-like data.

Source: 003_dd19dcd3624d9b51.txt, "Putting in practice" (cell In [1]): weights from
``np.random.rand`` (weights1 (3, 4), then weights2 (4, 1)), sigmoid layers without biases,
the sum-of-squares chain rule with the factor 2, and the update ``W += dW`` (no learning rate).
The printed output is that of the last feedforward, made before the last backprop.

The document is unseeded, so its run cannot be pinned. We pin a seeded run: the legacy
Mersenne-Twister stream of ``np.random.RandomState(SEED)``, which draws exactly what
``np.random.seed(SEED); np.random.rand(...)`` would. Whether the printed output is typical
is a statistical question (``backprop-repro sweep``).
"""

import numpy as np

from ..activations import sigmoid
from ..activations import sigmoid_prime_from_output as sigmoid_derivative

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
Y = np.array([[0], [1], [1], [0]])
ITERATIONS = 1500
SEED = 0


def initial_weights(rng):
    """The document's draws, in its order: weights1 = rand(3, 4), weights2 = rand(4, 1)."""
    return rng.rand(X.shape[1], 4), rng.rand(4, 1)


def train(weights1, weights2, iterations=ITERATIONS):
    """Feedforward then backprop, ``iterations`` times; returns the last feedforward's output and the weights."""
    for _ in range(iterations):
        layer1 = sigmoid(np.dot(X, weights1))
        output = sigmoid(np.dot(layer1, weights2))
        delta_out = 2 * (Y - output) * sigmoid_derivative(output)
        d_weights2 = np.dot(layer1.T, delta_out)
        d_weights1 = np.dot(X.T, np.dot(delta_out, weights2.T) * sigmoid_derivative(layer1))
        weights1 += d_weights1
        weights2 += d_weights2
    return output, weights1, weights2


def run(seed=SEED):
    weights1, weights2 = initial_weights(np.random.RandomState(seed))
    output, weights1, weights2 = train(weights1, weights2)
    return {"output": output, "final_weights.0": weights1, "final_weights.1": weights2}
