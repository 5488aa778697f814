"""Three ways to the gradient of the documents' networks: the chapter's finite differences,
central differences vectorized over parameters, and chain-rule backprop.

Networks are dense, with at most one sigmoid hidden layer (every network of the documents). An example
declares its network and data as a :class:`backprop_repro.core.spec.GradientProblem` (``GRADIENT_PROBLEM``);
:func:`problem` turns one into arrays. ``mlp<H>`` names our 10-H-1 network of any width H (biases, linear
output), for the cost-scaling sweep.

Parameters are a list of arrays in the chapter's order and layout: ``[W1 (in, hidden), b1,
W2 (hidden, out), b2]`` (biases omitted where the network has none; a network without a hidden
layer has ``[W (in, out), b]``). The loss is the mean squared error over all outputs, the
chapter's ``feed_forward``. All three methods return float arrays of the parameters' shapes.
"""

from dataclasses import dataclass

import numpy as np

from .activations import sigmoid
from .finite_differences import STEP, forward_difference_gradients

__all__ = ["Network", "network", "mlp", "loss", "forward", "chain_rule", "fd_chapter", "fd_central_vectorized",
           "n_params", "problem", "layers"]


@dataclass(frozen=True)
class Network:
    """A dense network: layer sizes, whether it has biases, its output activation."""

    name: str
    sizes: tuple          # (n_in, n_out) or (n_in, n_hidden, n_out)
    bias: bool
    output: str           # "linear" | "sigmoid"

    @property
    def hidden(self):
        return len(self.sizes) == 3

    def shapes(self):
        shapes = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            shapes.append((fan_in, fan_out))
            if self.bias:
                shapes.append((fan_out,))
        return shapes


def network(declared):
    """The :class:`Network` of a declared gradient problem."""
    return Network(declared.name, tuple(declared.sizes), bool(declared.bias), declared.output)


def mlp(width, n_in=10):
    """The general dense sigmoid network n_in-width-1 used for the scaling sweep."""
    return Network(f"mlp{width}", (n_in, width, 1), True, "linear")


def n_params(net):
    return int(sum(np.prod(s) for s in net.shapes()))


def layers(net, params):
    """(W1, b1, W2, b2) with None for absent pieces (W1, b1 None without a hidden layer)."""
    params = list(params)
    if not net.bias:
        params = [p for pair in zip(params, [None] * len(params)) for p in pair]
    if not net.hidden:
        params = [None, None] + params
    return params


def _activate(net, pre):
    return sigmoid(pre) if net.output == "sigmoid" else pre


def _affine(a, w, b):
    z = a @ w
    return z if b is None else z + b


def _forward_pass(net, params, x):
    """(layers, pre-activation of the hidden layer or None, the output layer's input, its pre-activation)."""
    split = layers(net, params)
    w1, b1, w2, b2 = split
    pre1 = _affine(x, w1, b1) if net.hidden else None
    a = sigmoid(pre1) if net.hidden else x
    return split, pre1, a, _affine(a, w2, b2)


def forward(net, params, x):
    """The network's output for inputs ``x`` (m, n_in)."""
    return _activate(net, _forward_pass(net, params, x)[3])


def loss(net, params, x, y):
    """Mean squared error over all outputs, as the chapter's ``feed_forward`` computes it."""
    return np.mean(np.square(forward(net, params, x) - y))


def chain_rule(net, params, x, y):
    """Analytic gradients by backprop: one forward and one backward pass."""
    (w1, b1, w2, b2), _, a, pre2 = _forward_pass(net, params, x)
    out = _activate(net, pre2)
    d_pre2 = (2.0 / out.size) * (out - y)                 # dL/dout of mean((out - y)^2)
    if net.output == "sigmoid":
        d_pre2 = d_pre2 * out * (1 - out)
    grads = [a.T @ d_pre2] + ([d_pre2.sum(axis=0)] if b2 is not None else [])
    if net.hidden:
        d_pre1 = (d_pre2 @ w2.T) * a * (1 - a)
        grads = [x.T @ d_pre1] + ([d_pre1.sum(axis=0)] if b1 is not None else []) + grads
    return grads


def fd_chapter(net, params, x, y, step=STEP):
    """The chapter's finite differences, faithfully: a deep copy and a forward pass per parameter,
    forward difference with step 1e-4 (:mod:`reference_impl.finite_differences`)."""
    return forward_difference_gradients(lambda xs, ys, ps: loss(net, ps, xs, ys), x, y, params, step)


def _output_layer_losses(net, a, pre2, y, shift):
    """Losses with each weight (and bias) of the last layer shifted by ``shift``, all at once.

    ``a`` (m, fan_in) feeds the layer; W[j, k] + s only moves output column k by s * a[:, j], so
    the loss is the other columns' error plus the moved column's. Returns (fan_in [+1], n_out).
    """
    m, n_out = pre2.shape
    a_aug = np.concatenate([a, np.ones((m, 1), a.dtype)], axis=1) if net.bias else a
    moved = pre2[:, None, :] + shift * a_aug[:, :, None]          # (m, fan_in+, n_out)
    moved_cols = np.sum(np.square(_activate(net, moved) - y[:, None, :]), axis=0)
    base_cols = np.sum(np.square(_activate(net, pre2) - y), axis=0)
    return (base_cols.sum() - base_cols + moved_cols) / (m * n_out)


def _hidden_layer_losses(net, x, pre1, w2, b2, y, shift):
    """Losses with each weight (and bias) of the hidden layer shifted by ``shift``, all at once.

    W1[i, j] + s only moves hidden unit j by s * x[:, i]; the output moves by that unit's change
    times W2[j, :]. Returns (n_in [+1], n_hidden).
    """
    m = x.shape[0]
    x_aug = np.concatenate([x, np.ones((m, 1), x.dtype)], axis=1) if net.bias else x
    hidden = sigmoid(pre1)
    pre2 = _affine(hidden, w2, b2)
    moved_hidden = sigmoid(pre1[:, None, :] + shift * x_aug[:, :, None])       # (m, n_in+, H)
    delta = moved_hidden - hidden[:, None, :]
    moved_pre2 = pre2[:, None, None, :] + delta[..., None] * w2                 # (m, n_in+, H, n_out)
    err = _activate(net, moved_pre2) - y[:, None, None, :]
    return np.mean(np.square(err), axis=(0, 3))


def _split(net, block):
    """Split a (fan_in [+1], fan_out) block into the weight and (if any) bias gradients."""
    return [block[:-1], block[-1]] if net.bias else [block]


def fd_central_vectorized(net, params, x, y, step=None):
    """Central differences for every parameter at once: all 2P perturbed networks evaluated in
    batched array operations (each perturbation only moves one pre-activation column, so the
    batch costs O(P * m) rather than O(P^2)). Default step: 1e-6 in float64, 1e-3 in float32
    (about the cube root of the machine epsilon)."""
    dtype = np.result_type(*params)
    if step is None:
        step = 1e-3 if dtype == np.float32 else 1e-6
    step = dtype.type(step)
    (w1, b1, w2, b2), pre1, a, pre2 = _forward_pass(net, params, x)
    out_grad = (_output_layer_losses(net, a, pre2, y, step)
                - _output_layer_losses(net, a, pre2, y, -step)) / (2 * step)
    grads = _split(net, out_grad)
    if net.hidden:
        hid_grad = (_hidden_layer_losses(net, x, pre1, w2, b2, y, step)
                    - _hidden_layer_losses(net, x, pre1, w2, b2, y, -step)) / (2 * step)
        grads = _split(net, hid_grad) + grads
    return grads


def problem(declared, dtype=np.float64):
    """(network, parameters, inputs, targets) of a declared gradient problem (an example's
    ``GRADIENT_PROBLEM``) or of ``"mlp<H>"``, cast to ``dtype``."""
    if isinstance(declared, str):
        if not declared.startswith("mlp") or not declared[3:].isdigit():
            raise KeyError(f"unknown network {declared!r}: pass an example's GRADIENT_PROBLEM or mlp<width>")
        width = int(declared[3:])
        net = mlp(width)
        rng = np.random.RandomState(width)
        x, y = rng.standard_normal((16, net.sizes[0])), rng.standard_normal((16, 1))
        params = [rng.standard_normal(s) / np.sqrt(s[0] if len(s) == 2 else 1) for s in net.shapes()]
    else:
        net, params, x, y = network(declared), declared.parameters(), declared.inputs, declared.targets
        shapes = [tuple(np.shape(p)) for p in params]
        if shapes != net.shapes() or np.shape(x)[1:] != net.sizes[:1] or np.shape(y)[1:] != net.sizes[-1:]:
            raise ValueError(f"gradient problem {net.name!r}: parameters {shapes}, inputs {np.shape(x)} and targets "
                             f"{np.shape(y)} do not fit layer sizes {net.sizes} (parameters {net.shapes()})")
    cast = [np.asarray(p, dtype=dtype) for p in params]
    return net, cast, np.asarray(x, dtype=dtype), np.asarray(y, dtype=dtype)
