"""Example ``notebook_332``: the 3-3-2 sigmoid network without biases, 1000 epochs at lr 0.1.

Source: 002_24b730d8c52bdb4b.txt, "Initializing Inputs, Outputs, and Weights", "Training the
Neural Network" (cell In [4]) and "Final Results".

The document's training cell cannot run: its forward pass computes ``hidden @ W_out`` with
``hidden`` of shape (3,) and ``W_out`` of shape (2, 3), and NumPy raises
``ValueError: shapes (3,) and (2,3) not aligned: 3 (dim 0) != 2 (dim 0)`` in the first epoch.
:func:`run_as_written` keeps that code path and returns the message.

Which fix reproduces the printed results. The printed final weights and outputs (8 decimals)
come from a run that reads *both* weight matrices as (to-neuron, from-neuron): hidden =
S(W_hidden @ x), output = S(W_out @ hidden), error to the hidden layer d_out @ W_out, and
updates outer(d_out, hidden) and outer(d_hidden, x) (:func:`train_fixed`). It matches every
printed number to within 5e-9. The smaller fix that a reader would try first, transposing
only the failing product (``hidden @ W_out.T``) while keeping ``x @ W_hidden``, also trains,
but reads W_hidden the other way round and ends at outputs (0.8772, 0.3012) instead of the
printed (0.8758, 0.3025); it is kept as variant ``transpose_only/``.
"""

import numpy as np

from ..activations import sigmoid
from ..activations import sigmoid_prime_from_output as sigmoid_derivative

INPUTS = np.array([0.5, 0.9, -0.3])
EXPECTED_OUTPUT = np.array([0.9, 0.3])
LEARNING_RATE = 0.1
EPOCHS = 1000


def initial_weights():
    """Fresh copies of the document's W_hidden (3x3) and W_out (2x3)."""
    hidden = np.array([[1.0, -2.0, 2.0], [2.0, 1.0, -4.0], [1.0, -1.0, 0.0]])
    output = np.array([[-3.0, 1.0, -3.0], [0.0, 1.0, 2.0]])
    return hidden, output


def run_as_written():
    """The document's training cell, unchanged in its arithmetic; returns the error message it raises."""
    w_hidden, w_out = initial_weights()
    try:
        hidden = sigmoid(np.dot(INPUTS, w_hidden))
        np.dot(hidden, w_out)
    except ValueError as exc:
        return str(exc)
    raise AssertionError("the document's code unexpectedly ran")  # pragma: no cover


def _mse(output):
    return np.mean((EXPECTED_OUTPUT - output) ** 2)


def train_fixed(epochs=EPOCHS):
    """The fix that reproduces the printed results: every weight matrix read as (to, from)."""
    w_hidden, w_out = initial_weights()
    losses = []
    for _ in range(epochs):
        hidden = sigmoid(np.dot(w_hidden, INPUTS))
        output = sigmoid(np.dot(w_out, hidden))
        losses.append(_mse(output))
        d_out = (EXPECTED_OUTPUT - output) * sigmoid_derivative(output)
        d_hidden = d_out.dot(w_out) * sigmoid_derivative(hidden)
        w_out += np.outer(d_out, hidden) * LEARNING_RATE
        w_hidden += np.outer(d_hidden, INPUTS) * LEARNING_RATE
    return w_hidden, w_out, output, np.array(losses)


def train_transpose_only(epochs=EPOCHS):
    """The minimal fix (transpose W_out where the document fails); does not reproduce the printout."""
    w_hidden, w_out = initial_weights()
    for _ in range(epochs):
        hidden = sigmoid(np.dot(INPUTS, w_hidden))
        output = sigmoid(np.dot(hidden, w_out.T))
        d_out = (EXPECTED_OUTPUT - output) * sigmoid_derivative(output)
        d_hidden = d_out.dot(w_out) * sigmoid_derivative(hidden)
        w_out += np.outer(d_out, hidden) * LEARNING_RATE
        w_hidden += np.outer(INPUTS, d_hidden) * LEARNING_RATE
    return output


def run():
    w_hidden, w_out, output, losses = train_fixed()
    return {
        "original_error": run_as_written(),
        "final_hidden_weights": w_hidden,
        "final_output_weights": w_out,
        "final_output": output,
        "loss_history": losses,
        "transpose_only/final_output": train_transpose_only(),
    }


# --- declarations (backprop_repro.core.spec) -------------------------------------------------------------------
from backprop_repro.core.spec import (REASONS, Claim, Figure, GradientProblem, Mutation, Policy,  # noqa: E402
                                      Printed, Source, printed_table)

from ._documents import D002  # noqa: E402

SOURCE = Source((D002,), "Training the Neural Network; Final Results",
                "3-3-2 sigmoid network: the document's failing cell and the fix that reproduces its printout")
POLICIES = (
    Policy("original_error", "exact", REASONS.text),
    Policy("*", "close:rtol=1e-12,atol=1e-15", REASONS.f64_trace),
)
_FINAL = "Final Results (printed weights)"
PRINTED = (
    (Printed("original_error", (), "shapes (3,) and (2,3) not aligned: 3 (dim 0) != 2 (dim 0)", D002,
             "Training the Neural Network (cell In [4] output)"),)
    + printed_table("final_hidden_weights", [["0.78535854", "-2.38635463", "2.12878488"],
                                             ["2.05894493", "1.10610087", "-4.03536696"],
                                             ["0.30605228", "-2.2491059", "0.41636863"]], D002, _FINAL)
    + printed_table("final_output_weights", [["-2.82735452", "2.6021329", "-2.62164075"],
                                             ["-0.21514193", "-1.04321128", "1.55538615"]], D002, _FINAL)
    + printed_table("final_output", ["0.87579945", "0.3024596"], D002, "Final Results (obtained final values)")
)
FIGURES = (Figure("Training loss of the fixed 3-3-2 network (002, regenerated)", "notebook_332: loss history",
                  "epoch", "MSE", (("loss", "loss_history"),)),)
CLAIMS = (
    Claim("fails", D002, "Training the Neural Network",
          "the training cell raises \"ValueError: shapes (3,) and (2,3) not aligned\" yet results are printed",
          "the document's code path raises that ValueError (measured: the message)",
          lambda q: (q["original_error"], q["original_error"].startswith("shapes (3,) and (2,3) not aligned")),
          "reproduced-with-caveat",
          caveat="the printed results come from a different run: reading both weight matrices as (to, from) "
                 "reproduces every printed digit; transposing only the failing product does not"),
)
# The fixed network: the document's weights read as (to, from), so transposed to the (in, out) layout.
GRADIENT_PROBLEM = GradientProblem("332", (3, 3, 2), bias=False, output="sigmoid",
                                   parameters=lambda: [w.T for w in initial_weights()], inputs=INPUTS[None, :],
                                   targets=EXPECTED_OUTPUT[None, :])
MUTATIONS = (
    Mutation("332-one-epoch-fewer", "EPOCHS = 1000", "EPOCHS = 999", "one epoch fewer in the 3-3-2 network"),
    Mutation("332-lr-one-ulp", "LEARNING_RATE = 0.1", "LEARNING_RATE = 0.10000000000000002",
             "learning rate changed by one ULP (3-3-2 network)",
             default_survivor="moves the 3-3-2 weights by at most a few ULP (max 1e-16 relative after 1000 epochs), "
                              "while the same quantities drift by up to 125 ULP between NumPy 1.26 and 2.x and "
                              "between SIMD paths (float64 exp): any policy that accepts that drift accepts this "
                              "mutant; only the bitwise gate on one machine sees it"),
    Mutation("332-transpose-swapped", "w_hidden += np.outer(d_hidden, INPUTS)", "w_hidden += np.outer(INPUTS, d_hidden)",
             "a transpose swapped in the 3-3-2 update"),
)
