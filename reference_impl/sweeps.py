"""Many seeds at once: the 3-4-1 sigmoid networks of 003 (``xor_341``) and 004
(``cavar_hidden_layer``) trained for a batch of seeds in batched NumPy, no Python loop per seed.

Same arithmetic as the single-seed references (:mod:`reference_impl.examples.xor_341`,
:mod:`reference_impl.examples.cavar_hidden_layer`): the same draws, sigmoid, delta rule, update
order and iteration count. Only the summation inside the matrix products differs: the references
call ``np.dot`` (BLAS, which may fuse multiply-adds), the batch uses one BLAS product for the input
layer and elementwise sums over the 4 hidden units. Each iteration can therefore differ in the last
bit; training contracts such differences, and the equivalence test bounds them (see
``tests/test_sweep.py``).

Layout: hidden weights of all seeds side by side, ``w1`` of shape (3, S * 4) so that the input
layer is one (4, 3) @ (3, 4S) product; output weights ``w2`` of shape (S, 4).
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["SweepSpec", "initial_weights", "train_batch"]


@dataclass(frozen=True)
class SweepSpec:
    """A 3-4-1 sigmoid network trained over many seeds; an example module declares it as ``SWEEP``."""

    x: np.ndarray
    y: np.ndarray
    iterations: int
    factor: float          # 2 in 003's sum-of-squares chain rule, 1 in 004's delta rule
    hidden_scale: float    # 004 scales the draws by sqrt(2 / fan_in); 003 does not
    output_scale: float
    error_every: int = 0   # 004 prints mean |error| every 10000 iterations
    default_seeds: int = 1000
    chunk: int = 1000      # seeds per batch: the unit of progress and of Ctrl-C
    pinned_seed: int = 0   # the seed of the example's pinned single run
    printed_quantity: str = "output"   # the quantity whose printed values the sweep places

    @property
    def targets(self):
        return self.y[:, 0]


def initial_weights(spec, seeds):
    """Per seed the document's draws from the legacy MT19937 stream: 12 for the (3, 4) hidden weights,
    then 4 for the (4, 1) output weights (``rand(3, 4)`` then ``rand(4, 1)`` consume exactly these)."""
    seeds = np.asarray(seeds)
    draws = np.empty((len(seeds), 16))
    rng = np.random.RandomState()
    for row, seed in enumerate(seeds.tolist()):
        rng.seed(seed)
        draws[row] = rng.random_sample(16)
    w1 = draws[:, :12].reshape(-1, 3, 4) * spec.hidden_scale      # (S, 3, 4)
    w2 = draws[:, 12:] * spec.output_scale                         # (S, 4)
    return w1, w2


def train_batch(spec, seeds, iterations=None, progress=None):
    """Train every seed; returns (outputs (S, 4) of the last forward pass, w1 (S, 3, 4), w2 (S, 4),
    errors (S, n_prints) of the mean |error| printouts, empty without printouts).

    ``progress(n)`` is called with the number of iterations done, every 100 iterations.
    """
    iterations = spec.iterations if iterations is None else iterations
    w1_seeds, w2 = initial_weights(spec, seeds)
    n = len(w1_seeds)
    w1 = np.ascontiguousarray(w1_seeds.transpose(1, 0, 2)).reshape(3, n * 4)
    x = spec.x.astype(np.float64)
    x_t = np.ascontiguousarray(x.T)
    y = spec.y.astype(np.float64)                                   # (4, 1) broadcasts over seeds
    errors = []
    # Preallocated buffers; each in-place sequence computes exactly what the expressions in the
    # comments compute (same operations, same order), without temporaries.
    layer1 = np.empty((4, n * 4))
    hidden_slope = np.empty((4, n, 4))
    d_hidden = np.empty((4, n, 4))
    for i in range(iterations):
        np.matmul(x, w1, out=layer1)                                # layer1 = 1 / (1 + exp(-(x @ w1)))
        np.negative(layer1, out=layer1)
        np.exp(layer1, out=layer1)
        layer1 += 1
        np.divide(1, layer1, out=layer1)
        l1 = layer1.reshape(4, n, 4)
        out = 1 / (1 + np.exp(-np.einsum("msh,sh->ms", l1, w2)))    # (4, S)
        error = y - out
        if spec.error_every and i % spec.error_every == 0:
            errors.append(np.mean(np.abs(error), axis=0))
        delta = spec.factor * error * (out * (1 - out))             # (4, S)
        d_w2 = np.einsum("msh,ms->sh", l1, delta)
        np.subtract(1, l1, out=hidden_slope)                        # d_hidden = (delta w2) * (l1 (1 - l1))
        np.multiply(l1, hidden_slope, out=hidden_slope)
        np.multiply(delta[:, :, None], w2[None], out=d_hidden)
        np.multiply(d_hidden, hidden_slope, out=d_hidden)
        w1 += x_t @ d_hidden.reshape(4, n * 4)     # both updates use gradients of the same forward pass,
        w2 += d_w2                                 # as in the documents
        if progress and (i + 1) % 100 == 0:
            progress(i + 1)
    errs = np.stack(errors, axis=1) if errors else np.empty((n, 0))
    return out.T.copy(), w1.reshape(3, n, 4).transpose(1, 0, 2).copy(), w2.copy(), errs
