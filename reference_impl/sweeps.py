"""Many seeds at once: a sigmoid network n_in-n_hidden-1 without biases on 0/1 inputs (the 3-4-1
networks of 003, ``xor_341``, and 004, ``cavar_hidden_layer``), described by its layer sizes and
trained for a batch of seeds in batched NumPy, no Python loop per seed.

Same arithmetic as the single-seed references (:mod:`reference_impl.examples.xor_341`,
:mod:`reference_impl.examples.cavar_hidden_layer`): the same draws, sigmoid, delta rule, update
order and iteration count. Only the summation inside the matrix products is written out: the
references call ``np.dot`` (BLAS, which may fuse multiply-adds), the batch sums explicitly. Each
iteration can therefore differ in the last bit; training contracts such differences, and the
equivalence test bounds them (see ``tests/test_sweep.py``).

Layout: seed last (``W1`` of shape (n_in, H, S), ``W2`` (H, S)), so that every operation is one
vectorized pass over the seeds. The inputs are 0 or 1, so ``x @ W1`` and ``x.T @ d`` are sums of
selected rows, taken in order; the output layer's H-term sum is taken as (even terms) + (odd terms),
each in order ((h0 + h2) + (h1 + h3) for H = 4), and the output-weight gradient's over the samples in
order (((m0 + m1) + m2) + m3): for 3-4-1 the orders of the NumPy 2.4 einsum path that the previous
layout used, so this layout reproduces it bit for bit here (measured: 10,000 seeds). Every
seed's arithmetic is independent of the others, so results do not depend on how seeds are chunked
or spread over processes (tested bitwise).
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["SweepSpec", "initial_weights", "train_batch"]


@dataclass(frozen=True)
class SweepSpec:
    """A sigmoid network trained over many seeds; an example module declares it as ``SWEEP``.

    ``sizes`` is (n_in, n_hidden, 1): no biases, sigmoid hidden and output layers; ``x`` (m, n_in) of
    0s and 1s, ``y`` (m, 1). The weights are drawn per seed from the legacy MT19937 stream, hidden
    (n_in, n_hidden) first, then output (n_hidden, 1), as ``rand`` draws them.
    """

    sizes: tuple           # layer sizes (n_in, n_hidden, 1)
    x: np.ndarray
    y: np.ndarray
    iterations: int
    factor: float          # 2 in 003's sum-of-squares chain rule, 1 in 004's delta rule
    hidden_scale: float    # 004 scales the draws by sqrt(2 / fan_in); 003 does not
    output_scale: float
    error_every: int = 0   # 004 prints mean |error| every 10000 iterations
    default_seeds: int = 1000
    chunk: int = 1000      # the fewest seeds per batch (backprop_repro.sources.sweep.chunk_size shares seeds out equally above it)
    pinned_seed: int = 0   # the seed of the example's pinned single run
    printed_quantity: str = "output"   # the quantity whose printed values the sweep places
    bench_seeds: int = 0   # seeds ``backprop-repro bench`` times the sweep with (0: not benchmarked)

    def __post_init__(self):
        if len(self.sizes) != 3 or self.sizes[2] != 1 or min(self.sizes[:2]) < 1:
            raise ValueError(f"SweepSpec sizes {self.sizes}: a sweep trains a network (n_in, n_hidden, 1)")
        x, y, n_in = np.asarray(self.x), np.asarray(self.y), self.sizes[0]
        if x.ndim != 2 or x.shape[1] != n_in or y.shape != (x.shape[0], 1):
            raise ValueError(f"SweepSpec sizes {self.sizes}: inputs {x.shape} and targets {y.shape} do not fit; "
                             f"expected (m, {n_in}) and (m, 1)")
        if not np.isin(x, (0, 1)).all():
            raise ValueError("SweepSpec inputs must be 0 or 1 (the batched sums add selected rows)")

    @property
    def targets(self):
        return self.y[:, 0]

    def operation_counts(self):
        """Elementwise operations per seed and iteration of :func:`train_batch`, derived from the layer
        sizes and which inputs are 1 (additions and subtractions counted together as ``add``; the
        occasional error printout not counted). Negated weights spare the negations of exp(-z)."""
        n_in, n_hidden, _ = self.sizes
        m = self.x.shape[0]
        x = np.asarray(self.x) != 0
        per_sample, per_input = x.sum(axis=1), x.sum(axis=0)
        hidden, outputs = m * n_hidden, m
        multiply = (hidden            # layer1 * w2
                    + 3 * outputs     # factor * error, out * (1 - out), delta * that
                    + hidden          # layer1 * delta (the output-weight gradient)
                    + 3 * hidden)     # l1 (1 - l1), delta * w2, their product
        add = (int(np.maximum(per_sample - 1, 0).sum()) * n_hidden   # x @ w1 as sums of selected rows
               + hidden + outputs      # 1 + exp(.)
               + (n_hidden - 1) * m    # the output layer's sum
               + 2 * outputs           # y - out, 1 - out
               + (m - 1) * n_hidden    # the output-weight gradient's sum over samples
               + hidden                # 1 - l1
               + int(np.maximum(per_input - 1, 0).sum()) * n_hidden   # x.T @ d_hidden
               + n_in * n_hidden + n_hidden)                          # the two updates
        return {"exp": hidden + outputs, "divide": hidden + outputs, "multiply": multiply, "add": add}


def initial_weights(spec, seeds):
    """Per seed the document's draws from the legacy MT19937 stream: n_in * H for the (n_in, H) hidden
    weights, then H for the (H, 1) output weights (``rand(n_in, H)`` then ``rand(H, 1)`` consume exactly
    these)."""
    n_in, n_hidden, _ = spec.sizes
    seeds = np.asarray(seeds)
    draws = np.empty((len(seeds), (n_in + 1) * n_hidden))
    rng = np.random.RandomState()
    for row, seed in enumerate(seeds.tolist()):
        rng.seed(seed)
        draws[row] = rng.random_sample(draws.shape[1])
    w1 = draws[:, :n_in * n_hidden].reshape(-1, n_in, n_hidden) * spec.hidden_scale   # (S, n_in, H)
    w2 = draws[:, n_in * n_hidden:] * spec.output_scale                               # (S, H)
    return w1, w2


def _ordered_sum(terms, out):
    """out = terms[0] + terms[1] + ... in order (0 without terms), in place."""
    if not terms:
        out[...] = 0.0
    elif len(terms) == 1:
        out[...] = terms[0]
    else:
        np.add(terms[0], terms[1], out=out)
        for term in terms[2:]:
            out += term


def train_batch(spec, seeds, iterations=None, progress=None):
    """Train every seed; returns (outputs (S, m) of the last forward pass, w1 (S, n_in, H), w2 (S, H),
    errors (S, n_prints) of the mean |error| printouts, empty without printouts).

    ``progress(n)`` is called with the number of iterations done, every 100 iterations.

    The weights are kept negated (``nw1 = -w1``, ``nw2 = -w2``): IEEE rounding is symmetric, so a sum or
    product of negated operands is exactly the negated result, and ``exp(-(x @ w1))`` is then computed as
    ``exp(x @ nw1)`` without a negation pass; the updates mirror exactly (``nw1 += -update``,
    ``nw2 -= d_w2``). Every buffer is allocated once. Bitwise the same as the plain form (tested against
    it on 10,000 seeds).
    """
    iterations = spec.iterations if iterations is None else iterations
    w1_seeds, w2_seeds = initial_weights(spec, seeds)
    n = len(w1_seeds)
    nw1 = np.ascontiguousarray(-w1_seeds.transpose(1, 2, 0))        # (n_in, H, S): input, hidden, seed
    nw2 = np.ascontiguousarray(-w2_seeds.T)                          # (H, S): hidden, seed
    x = spec.x.astype(np.float64)
    y = spec.y.astype(np.float64)[:, 0][:, None]                     # (m, 1)
    n_samples, n_hidden = x.shape[0], spec.sizes[1]
    factor = float(spec.factor)
    ones_of_sample = [[i for i in range(x.shape[1]) if x[m, i]] for m in range(x.shape[0])]
    samples_of_input = [[m for m in range(x.shape[0]) if x[m, i]] for i in range(x.shape[1])]
    layer1 = np.empty((n_samples, n_hidden, n))
    work = np.empty((n_samples, n_hidden, n))      # products of the output sum, then of d_w2, then the slope
    d_hidden = np.empty((n_samples, n_hidden, n))  # negated
    update = np.empty(nw1.shape)                   # negated
    out = np.empty((n_samples, n))
    pair = np.empty((n_samples, n))
    error = np.empty((n_samples, n))
    delta = np.empty((n_samples, n))
    d_w2 = np.empty((n_hidden, n))
    # every view the loop uses, made once (a NumPy view costs about as much as a small operation)
    first_layer = [(layer1[m], [nw1[k] for k in ones]) for m, ones in enumerate(ones_of_sample)]
    w_cols = [work[:, h] for h in range(n_hidden)]
    w_rows = [work[m] for m in range(n_samples)]
    nw2_b, delta_b = nw2[None], delta[:, None, :]
    w1_updates = [(update[k], [d_hidden[m] for m in samples]) for k, samples in enumerate(samples_of_input)]
    errors = []
    for i in range(iterations):
        for row, terms in first_layer:                               # layer1 = sigmoid(x @ w1): -(x @ w1) first
            _ordered_sum(terms, row)
        np.exp(layer1, out=layer1)
        layer1 += 1
        np.divide(1, layer1, out=layer1)
        np.multiply(layer1, nw2_b, out=work)                         # out = sigmoid(layer1 @ w2): -z first,
        _ordered_sum(w_cols[0::2], out)                              # as (h0 + h2 + ...) + (h1 + h3 + ...)
        if n_hidden > 1:
            _ordered_sum(w_cols[1::2], pair)
            out += pair
        np.exp(out, out=out)
        out += 1
        np.divide(1, out, out=out)
        np.subtract(y, out, out=error)
        if spec.error_every and i % spec.error_every == 0:
            errors.append(np.mean(np.abs(error), axis=0))
        np.multiply(factor, error, out=delta)                        # delta = (factor error) (out (1 - out))
        np.subtract(1, out, out=pair)
        pair *= out
        delta *= pair
        np.multiply(layer1, delta_b, out=work)                       # d_w2 = layer1.T @ delta
        _ordered_sum(w_rows, d_w2)
        np.subtract(1, layer1, out=work)                             # d_hidden = (delta w2) (l1 (1 - l1))
        work *= layer1
        np.multiply(delta_b, nw2_b, out=d_hidden)
        d_hidden *= work
        for row, terms in w1_updates:                                # w1 += x.T @ d_hidden
            _ordered_sum(terms, row)
        nw1 += update
        nw2 -= d_w2                                # both updates use gradients of the same forward pass,
        if progress and (i + 1) % 100 == 0:        # as in the documents
            progress(i + 1)
    errs = np.stack(errors, axis=1) if errors else np.empty((n, 0))
    return out.T.copy(), (-nw1).transpose(2, 0, 1).copy(), (-nw2).T.copy(), errs
