"""Example ``chain_rule``: one update at lr 1 of the 2-3-1 network, by finite differences and by the chain rule.

Source: 001_b373d019e6023af9.txt, "Implementing backpropagation using the chain rule" (the
derivation, shown for w11 and extended to all 13 parameters) and "Gradient descent in code"
(the finite-difference ``update_weights``, step 0.0001). The network, input and initial
weights are those of "Putting feedforward propagation and backpropagation together".

Both updates subtract ``lr * grad`` (float64) from the float32 weights and round on store. The
chain rule is :func:`reference_impl.gradients.chain_rule` (the one backprop of the package) on the
weights cast to float64, as the chapter's integer inputs promote its forward pass to float64.
"""

import numpy as np

from ..finite_differences import update_weights
from ..gradients import chain_rule, network
from ..networks import loss_231
from ._toy_network import INPUTS, PROBLEM, TARGETS, initial_weights

LEARNING_RATE = 1.0


def run():
    weights = initial_weights()
    fd = update_weights(loss_231, INPUTS, TARGETS, weights, LEARNING_RATE)
    analytic = chain_rule(network(PROBLEM), [w.astype(np.float64) for w in weights],
                          np.asarray(INPUTS, dtype=np.float64), np.asarray(TARGETS, dtype=np.float64))
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


# --- declarations (backprop_repro.core.spec) -------------------------------------------------------------------
from backprop_repro.core.spec import REASONS, Claim, Mutation, Policy, Source  # noqa: E402

from ._documents import D001  # noqa: E402

from ..gradcheck import scale_free_error  # noqa: E402

_SECTION = "Implementing backpropagation using the chain rule"
SOURCE = Source((D001,), _SECTION, "one lr-1 update of the 2-3-1 network by finite differences and by the chain rule")
POLICIES = (
    Policy("*_updated_weights.*", "ulp:1", REASONS.f32_rounded),
    Policy("*", "close:rtol=1e-9,atol=1e-12", "float64 through exp (numerics, policy 3); forward differences "
                                              "divide a last-bit loss change by 1e-4 (~5e-13 absolute)"),
)


def _agreement(q):
    error = scale_free_error([q[f"analytic_gradients.{k}"] for k in range(4)],
                             [q[f"fd_gradients.{k}"] for k in range(4)])
    return error, error <= 1e-3


CLAIMS = (
    Claim("agrees", D001, _SECTION,
          "the chain rule gives the gradient that finite differences estimate, without extra forward passes",
          "scale-free error ||g - n|| / (||g|| + ||n||) over all 13 parameters <= 1e-3, the forward-difference "
          "bound of reference_impl.gradcheck (truncation ~ step |f''| / 2, plus float32 rounding of w + 1e-4)",
          _agreement, "reproduced"),
)
# The chapter's finite differences (reference_impl.finite_differences), which this example runs once.
_FD = "reference_impl.finite_differences"
MUTATIONS = (
    Mutation("fd-step-last-digit", "STEP = 0.0001", "STEP = 0.0002", "finite-difference step changed in its last digit",
             module=_FD),
    Mutation("fd-update-sign", "updated_weights[i][index] -= grad * lr", "updated_weights[i][index] += grad * lr",
             "update sign flipped", module=_FD),
    Mutation("fd-sequential-update", "loss_fn(inputs, outputs, _perturbed(weights, i, index, step))",
             "loss_fn(inputs, outputs, _perturbed(updated_weights, i, index, step))",
             "update order changed: sequential instead of simultaneous", module=_FD),
    Mutation("nep50-plain-add", "temp[i][index] = np.float64(temp[i][index]) + step", "temp[i][index] += step",
             "the explicit NumPy 1.x cast dropped (NEP 50 float32 add)", module=_FD,
             equivalent_when=("numpy<2", "NumPy 1.x adds a float32 scalar and a Python float in float64 (value-based "
                                         "casting), as the explicit cast does; only NEP 50 (NumPy 2) makes it a "
                                         "float32 add")),
)
