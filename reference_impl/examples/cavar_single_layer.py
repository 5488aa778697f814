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
