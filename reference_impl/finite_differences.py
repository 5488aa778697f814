"""The chapter's finite-difference gradient descent step (``update_weights``), faithfully.

Source: 001_b373d019e6023af9.txt, "Gradient descent in code"; used again in "Putting
feedforward propagation and backpropagation together" (000 and 001) and "Understanding the
impact of the learning rate".

Per parameter, in ``np.ndenumerate`` order of each array of the weight list: deep-copy the
*incoming* weights, add the step 0.0001 to that one entry, recompute the loss, take the
forward difference ``(loss_plus - loss) / 0.0001`` and subtract ``grad * lr`` from the entry
of a separate copy. All gradients therefore come from the incoming weights (a simultaneous,
not a sequential, update).

NumPy 1.x vs 2.x (NEP 50): the chapter writes ``temp[i][index] += 0.0001`` on a float32
array. NumPy 1.x (where the documents ran) computed that sum in float64 and rounded it
back to float32; NumPy 2 computes it in float32 after rounding 0.0001 to float32. We make
the 1.x behaviour explicit so that the result is the same under both.
"""

from copy import deepcopy
from dataclasses import dataclass

import numpy as np

__all__ = ["STEP", "FDStep", "update_weights", "forward_difference_gradients"]

#: The chapter's finite-difference step.
STEP = 0.0001


@dataclass
class FDStep:
    """One call of the chapter's ``update_weights``.

    ``loss`` is the loss before the update; ``loss_plus`` and ``gradients`` hold, per weight
    array, arrays of the array's shape with the perturbed loss and forward difference of
    each entry.
    """

    weights: list
    loss: float
    loss_plus: list
    gradients: list


def _perturbed(weights, i, index, step):
    temp = deepcopy(weights)
    # NumPy 1.x semantics of `temp[i][index] += step`: add in float64, round on store.
    temp[i][index] = np.float64(temp[i][index]) + step
    return temp


def update_weights(loss_fn, inputs, outputs, weights, lr, step=STEP):
    """One gradient-descent step with the chapter's forward differences.

    ``loss_fn(inputs, outputs, weights)`` is the chapter's ``feed_forward``. Returns an
    :class:`FDStep`; the input ``weights`` are not modified.
    """
    original_weights = deepcopy(weights)
    updated_weights = deepcopy(weights)
    original_loss = loss_fn(inputs, outputs, original_weights)
    loss_plus = [np.empty(np.shape(layer), dtype=np.float64) for layer in weights]
    gradients = [np.empty(np.shape(layer), dtype=np.float64) for layer in weights]
    for i, layer in enumerate(original_weights):
        for index, _ in np.ndenumerate(layer):
            _loss_plus = loss_fn(inputs, outputs, _perturbed(weights, i, index, step))
            grad = (_loss_plus - original_loss) / step
            # float32 entry minus float64 product: computed in float64, rounded on store.
            updated_weights[i][index] -= grad * lr
            loss_plus[i][index] = _loss_plus
            gradients[i][index] = grad
    return FDStep(updated_weights, original_loss, loss_plus, gradients)


def forward_difference_gradients(loss_fn, inputs, outputs, weights, step=STEP):
    """The gradients that :func:`update_weights` would use, without updating anything."""
    return update_weights(loss_fn, inputs, outputs, weights, 0.0, step).gradients
