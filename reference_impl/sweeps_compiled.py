"""Optional compiled backends for the seed sweeps: numba (extra ``backprop-repro[numba]``) and JAX
(extra ``backprop-repro[jax]``, ``jit`` over all seeds, float64).

The same arithmetic as :func:`reference_impl.sweeps.train_batch`, in the same order (the explicit sums
of the faithful path), compiled: numba per seed in registers (one loop over seeds, parallel over the
cores), JAX as one XLA program over the seed-last arrays. Not bitwise: their ``exp`` is not NumPy's SIMD
``exp``, so results differ in the last bits and training carries them. ``backprop_repro.sources.sweep`` therefore never
substitutes them silently: they run only when asked for (``sweep --backend numba|jax``) and their
agreement with the faithful path is measured and reported (ULP spread over a sample of seeds).
"""

import numpy as np

from .sweeps import initial_weights

__all__ = ["available", "train_batch", "BACKENDS"]

BACKENDS = ("numba", "jax")
_KERNEL = None


def available(backend="numba"):
    """(True, version) or (False, why)."""
    try:
        module = __import__(backend)
    except ImportError as exc:
        return False, f"{backend} is not installed ({exc}); install the extra: pip install 'backprop-repro[{backend}]'"
    return True, module.__version__


def _kernel():
    global _KERNEL
    if _KERNEL is None:
        import math

        from numba import njit, prange

        @njit(parallel=True, cache=False, fastmath=False)
        def train(w1_all, w2_all, x, y, iterations, factor, error_every, n_prints, out_all, err_all):
            n, n_in, n_hidden = w1_all.shape
            n_samples = x.shape[0]
            for s in prange(n):
                w1 = w1_all[s].copy()          # (n_in, H)
                w2 = w2_all[s].copy()          # (H,)
                l1 = np.empty((n_samples, n_hidden))
                out = np.empty(n_samples)
                delta = np.empty(n_samples)
                dh = np.empty((n_samples, n_hidden))
                printed = 0
                for it in range(iterations):
                    for m in range(n_samples):
                        for h in range(n_hidden):
                            acc = 0.0
                            first = True
                            for i in range(n_in):
                                if x[m, i] != 0.0:
                                    if first:
                                        acc = w1[i, h]
                                        first = False
                                    else:
                                        acc = acc + w1[i, h]
                            l1[m, h] = 1.0 / (math.exp(-acc) + 1.0)
                    for m in range(n_samples):     # (h0 + h2 + ...) + (h1 + h3 + ...), as the NumPy path
                        even = l1[m, 0] * w2[0]
                        for h in range(2, n_hidden, 2):
                            even = even + l1[m, h] * w2[h]
                        z = even
                        if n_hidden > 1:
                            odd = l1[m, 1] * w2[1]
                            for h in range(3, n_hidden, 2):
                                odd = odd + l1[m, h] * w2[h]
                            z = even + odd
                        out[m] = 1.0 / (math.exp(-z) + 1.0)
                    if error_every > 0 and it % error_every == 0 and printed < n_prints:
                        total = 0.0
                        for m in range(n_samples):
                            total += abs(y[m] - out[m])
                        err_all[s, printed] = total / n_samples
                        printed += 1
                    for m in range(n_samples):
                        error = y[m] - out[m]
                        delta[m] = (factor * error) * (out[m] * (1.0 - out[m]))
                    for h in range(n_hidden):
                        d_w2 = l1[0, h] * delta[0]
                        for m in range(1, n_samples):
                            d_w2 = d_w2 + l1[m, h] * delta[m]
                        for m in range(n_samples):
                            dh[m, h] = (delta[m] * w2[h]) * ((1.0 - l1[m, h]) * l1[m, h])
                        for i in range(n_in):
                            acc = 0.0
                            first = True
                            for m in range(n_samples):
                                if x[m, i] != 0.0:
                                    if first:
                                        acc = dh[m, h]
                                        first = False
                                    else:
                                        acc = acc + dh[m, h]
                            w1[i, h] += acc
                        w2[h] += d_w2
                for m in range(n_samples):
                    out_all[s, m] = out[m]

        _KERNEL = train
    return _KERNEL


def train_batch(spec, seeds, iterations=None, backend="numba"):
    """(outputs (S, m), errors (S, n_prints)) by a compiled backend; see the module docstring."""
    iterations = spec.iterations if iterations is None else iterations
    if backend == "jax":
        return _train_jax(spec, seeds, iterations)
    w1, w2 = initial_weights(spec, seeds)
    n_prints = (iterations + spec.error_every - 1) // spec.error_every if spec.error_every else 0
    out = np.empty((len(w1), spec.x.shape[0]))
    errs = np.zeros((len(w1), n_prints))
    _kernel()(np.ascontiguousarray(w1), np.ascontiguousarray(w2), spec.x.astype(np.float64),
              spec.y.astype(np.float64)[:, 0], iterations, float(spec.factor), int(spec.error_every), n_prints,
              out, errs)
    return out, errs


_JAX = {}


def _jax_programs(spec):
    """(forward, run) jitted for the spec's data, on the negated weights as one (S,) array per weight:
    forward(nw1, nw2) -> out (m, S); run(nw1, nw2, n) -> n updates.

    One array per weight makes every iteration a single elementwise loop over the seeds, which XLA fuses
    into one kernel with every intermediate in registers (the (m, H, S) arrays of the NumPy path took 0.45 s
    on 10,000 seeds where this takes 0.43 s, warm, same run); negated weights spare the negations of
    exp(-z), as in :func:`reference_impl.sweeps.train_batch`."""
    key = (tuple(spec.sizes), spec.x.tobytes(), spec.y.tobytes(), float(spec.factor))
    if key in _JAX:
        return _JAX[key]
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    x = spec.x.astype(np.float64)
    y = [float(v) for v in spec.y.astype(np.float64)[:, 0]]
    ones = [[i for i in range(x.shape[1]) if x[m, i]] for m in range(x.shape[0])]
    samples = [[m for m in range(x.shape[0]) if x[m, i]] for i in range(x.shape[1])]
    factor = float(spec.factor)
    n_samples, n_hidden = x.shape[0], spec.sizes[1]

    def ordered_sum(terms):
        if not terms:      # a sample with no input at 1: a zero pre-activation
            return 0.0
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total

    def forward_pass(nw1, nw2):
        l1 = [[1.0 / (jnp.exp(ordered_sum([nw1[i][h] for i in ones[m]])) + 1.0) for h in range(n_hidden)]
              for m in range(n_samples)]
        out = []
        for m in range(n_samples):
            p = [l1[m][h] * nw2[h] for h in range(n_hidden)]
            z = ordered_sum(p[0::2]) + ordered_sum(p[1::2]) if n_hidden > 1 else p[0]
            out.append(1.0 / (jnp.exp(z) + 1.0))
        return l1, out

    def update(_, state):
        nw1, nw2 = state
        l1, out = forward_pass(nw1, nw2)
        delta = [(factor * (y[m] - out[m])) * (out[m] * (1.0 - out[m])) for m in range(n_samples)]
        new_w2, neg_dh = [], [[None] * n_hidden for _ in range(n_samples)]
        for h in range(n_hidden):
            q = [l1[m][h] * delta[m] for m in range(n_samples)]
            new_w2.append(nw2[h] - ordered_sum(q))
            for m in range(n_samples):
                neg_dh[m][h] = (delta[m] * nw2[h]) * ((1.0 - l1[m][h]) * l1[m][h])
        new_w1 = tuple(tuple(nw1[i][h] + ordered_sum([neg_dh[m][h] for m in samples[i]]) for h in range(n_hidden))
                       for i in range(len(samples)))
        return new_w1, tuple(new_w2)

    forward = jax.jit(lambda nw1, nw2: jnp.stack(forward_pass(nw1, nw2)[1]))
    run = jax.jit(lambda nw1, nw2, n: jax.lax.fori_loop(0, n, update, (nw1, nw2)))
    _JAX[key] = (forward, run)
    return _JAX[key]


def _train_jax(spec, seeds, iterations):
    import jax.numpy as jnp

    forward, run = _jax_programs(spec)
    w1, w2 = initial_weights(spec, seeds)
    nw1 = tuple(tuple(jnp.asarray(-w1[:, i, h]) for h in range(w1.shape[2])) for i in range(w1.shape[1]))
    nw2 = tuple(jnp.asarray(-w2[:, h]) for h in range(w2.shape[1]))
    every = spec.error_every
    points = sorted(set(range(0, iterations, every) if every else []) | {iterations - 1})
    y = spec.y.astype(np.float64)[:, 0]
    errors, done, out = [], 0, None
    for point in points:                  # the state after `point` updates is iteration `point`'s forward pass
        if point > done:
            nw1, nw2 = run(nw1, nw2, point - done)
            done = point
        out = np.asarray(forward(nw1, nw2))
        if every and point % every == 0:
            a = np.abs(y[:, None] - out)
            total = a[0]
            for row in a[1:]:
                total = total + row
            errors.append(total / len(a))
    errs = np.stack(errors, axis=1) if errors else np.empty((out.shape[1], 0))
    return out.T.copy(), errs
