"""Many seeds at once: the 3-4-1 sigmoid networks of 003 (``xor_341``) and 004
(``cavar_hidden_layer``) trained for a batch of seeds in batched NumPy, no Python loop per seed.

Same arithmetic as the single-seed references (:mod:`reference_impl.examples.xor_341`,
:mod:`reference_impl.examples.cavar_hidden_layer`): the same draws, sigmoid, delta rule, update
order and iteration count. Only the summation inside the matrix products is written out: the
references call ``np.dot`` (BLAS, which may fuse multiply-adds), the batch sums explicitly. Each
iteration can therefore differ in the last bit; training contracts such differences, and the
equivalence test bounds them (see ``tests/test_sweep.py``).

Layout: seed last (``W1`` of shape (3, 4, S), ``W2`` (4, S)), so that every operation is one
vectorized pass over the seeds. The inputs are 0 or 1, so ``x @ W1`` and ``x.T @ d`` are sums of
selected rows, taken in order; the output layer's 4-term sum is taken as (h0 + h2) + (h1 + h3) and
the output-weight gradient's as ((m0 + m1) + m2) + m3: the orders of the NumPy 2.4 einsum path that
the previous layout used, so this layout reproduces it bit for bit here (measured: 10,000 seeds). Every
seed's arithmetic is independent of the others, so results do not depend on how seeds are chunked
or spread over processes (tested bitwise).
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
    chunk: int = 1000      # the fewest seeds per batch (repro.sweep.chunk_size shares seeds out equally above it)
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

    The weights are kept negated (``nw1 = -w1``, ``nw2 = -w2``): IEEE rounding is symmetric, so a sum or
    product of negated operands is exactly the negated result, and ``exp(-(x @ w1))`` is then computed as
    ``exp(x @ nw1)`` without a negation pass; the updates mirror exactly (``nw1 += -update``,
    ``nw2 -= d_w2``). Every buffer is allocated once. Bitwise the same as the plain form (tested against
    it on 10,000 seeds).
    """
    iterations = spec.iterations if iterations is None else iterations
    w1_seeds, w2_seeds = initial_weights(spec, seeds)
    n = len(w1_seeds)
    nw1 = np.ascontiguousarray(-w1_seeds.transpose(1, 2, 0))        # (3, 4, S): input, hidden, seed
    nw2 = np.ascontiguousarray(-w2_seeds.T)                          # (4, S): hidden, seed
    x = spec.x.astype(np.float64)
    y = spec.y.astype(np.float64)[:, 0][:, None]                     # (4, 1)
    factor = float(spec.factor)
    ones_of_sample = [[i for i in range(x.shape[1]) if x[m, i]] for m in range(x.shape[0])]
    samples_of_input = [[m for m in range(x.shape[0]) if x[m, i]] for i in range(x.shape[1])]
    layer1 = np.empty((4, 4, n))
    work = np.empty((4, 4, n))          # products of the output sum, then of d_w2, then the slope
    d_hidden = np.empty((4, 4, n))      # negated
    update = np.empty(nw1.shape)        # negated
    out = np.empty((4, n))
    pair = np.empty((4, n))
    error = np.empty((4, n))
    delta = np.empty((4, n))
    d_w2 = np.empty((4, n))
    # every view the loop uses, made once (a NumPy view costs about as much as a small operation)
    first_layer = [(layer1[m], [nw1[k] for k in ones]) for m, ones in enumerate(ones_of_sample)]
    w_cols = [work[:, h] for h in range(4)]
    w_rows = [work[m] for m in range(4)]
    nw2_b, delta_b = nw2[None], delta[:, None, :]
    w1_updates = [(update[k], [d_hidden[m] for m in samples]) for k, samples in enumerate(samples_of_input)]
    errors = []
    for i in range(iterations):
        for row, terms in first_layer:                               # layer1 = sigmoid(x @ w1): -(x @ w1) first
            if len(terms) == 1:
                row[...] = terms[0]
            else:
                np.add(terms[0], terms[1], out=row)
                for term in terms[2:]:
                    row += term
        np.exp(layer1, out=layer1)
        layer1 += 1
        np.divide(1, layer1, out=layer1)
        np.multiply(layer1, nw2_b, out=work)                         # out = sigmoid(layer1 @ w2): -z first,
        np.add(w_cols[0], w_cols[2], out=out)                        # as (h0 + h2) + (h1 + h3)
        np.add(w_cols[1], w_cols[3], out=pair)
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
        np.add(w_rows[0], w_rows[1], out=d_w2)
        d_w2 += w_rows[2]
        d_w2 += w_rows[3]
        np.subtract(1, layer1, out=work)                             # d_hidden = (delta w2) (l1 (1 - l1))
        work *= layer1
        np.multiply(delta_b, nw2_b, out=d_hidden)
        d_hidden *= work
        for row, terms in w1_updates:                                # w1 += x.T @ d_hidden
            np.add(terms[0], terms[1], out=row)
            for term in terms[2:]:
                row += term
        nw1 += update
        nw2 -= d_w2                                # both updates use gradients of the same forward pass,
        if progress and (i + 1) % 100 == 0:        # as in the documents
            progress(i + 1)
    errs = np.stack(errors, axis=1) if errors else np.empty((n, 0))
    return out.T.copy(), (-nw1).transpose(2, 0, 1).copy(), (-nw2).T.copy(), errs
