"""Example ``cavar_hidden_layer``: the 3-4-1 XOR network of the tutorial, 100000 iterations.

Source: 004_f58117f23d7db6a4.txt, cells In [15] to In [19]: XOR targets y = (0, 1, 1, 0),
``np.random.seed(1)`` again, Wh = random((3, 4)) * sqrt(2/3), Wo = random((4, 1)) * sqrt(2/4),
no biases, 100000 full-batch iterations (the prose says 60,000), and the mean absolute error
printed every 10000 iterations (10 values, before that iteration's update).
"""

import numpy as np

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
    x_t = X.T  # hoisted out of the loop; the same array the document transposes each time
    errors = []
    for i in range(iterations):
        l1 = sigmoid(np.dot(X, wh))
        l2 = sigmoid(np.dot(l1, wo))
        l2_error = Y - l2
        if i % PRINT_EVERY == 0:
            errors.append(np.mean(np.abs(l2_error)))
        l2_delta = l2_error * sigmoid_prime(l2)
        l1_delta = l2_delta.dot(wo.T) * sigmoid_prime(l1)
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
