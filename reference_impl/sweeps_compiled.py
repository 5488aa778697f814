"""Optional compiled backends for the seed sweeps: numba (extra ``backprop-repro[numba]``) and JAX
(extra ``backprop-repro[jax]``, ``jit`` over all seeds, float64).

The same arithmetic as :func:`reference_impl.sweeps.train_batch`, in the same order (the explicit sums
of the faithful path), compiled: numba per seed in registers (one loop over seeds, parallel over the
cores), JAX as one XLA program over the seed-last arrays. Not bitwise: their ``exp`` is not NumPy's SIMD
``exp``, so results differ in the last bits and training carries them. ``repro.sweep`` therefore never
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
            n = w1_all.shape[0]
            for s in prange(n):
                w1 = w1_all[s].copy()          # (3, 4)
                w2 = w2_all[s].copy()          # (4,)
                l1 = np.empty((4, 4))
                out = np.empty(4)
                delta = np.empty(4)
                dh = np.empty((4, 4))
                printed = 0
                for it in range(iterations):
                    for m in range(4):
                        for h in range(4):
                            acc = 0.0
                            first = True
                            for i in range(3):
                                if x[m, i] != 0.0:
                                    if first:
                                        acc = w1[i, h]
                                        first = False
                                    else:
                                        acc = acc + w1[i, h]
                            l1[m, h] = 1.0 / (math.exp(-acc) + 1.0)
                    for m in range(4):
                        z = (l1[m, 0] * w2[0] + l1[m, 2] * w2[2]) + (l1[m, 1] * w2[1] + l1[m, 3] * w2[3])
                        out[m] = 1.0 / (math.exp(-z) + 1.0)
                    if error_every > 0 and it % error_every == 0 and printed < n_prints:
                        total = 0.0
                        for m in range(4):
                            total += abs(y[m] - out[m])
                        err_all[s, printed] = total / 4.0
                        printed += 1
                    for m in range(4):
                        error = y[m] - out[m]
                        delta[m] = (factor * error) * (out[m] * (1.0 - out[m]))
                    for h in range(4):
                        d_w2 = ((l1[0, h] * delta[0] + l1[1, h] * delta[1]) + l1[2, h] * delta[2]) + l1[3, h] * delta[3]
                        for m in range(4):
                            dh[m, h] = (delta[m] * w2[h]) * ((1.0 - l1[m, h]) * l1[m, h])
                        for i in range(3):
                            acc = 0.0
                            first = True
                            for m in range(4):
                                if x[m, i] != 0.0:
                                    if first:
                                        acc = dh[m, h]
                                        first = False
                                    else:
                                        acc = acc + dh[m, h]
                            w1[i, h] += acc
                        w2[h] += d_w2
                for m in range(4):
                    out_all[s, m] = out[m]

        _KERNEL = train
    return _KERNEL


def train_batch(spec, seeds, iterations=None, backend="numba"):
    """(outputs (S, 4), errors (S, n_prints)) by a compiled backend; see the module docstring."""
    iterations = spec.iterations if iterations is None else iterations
    if backend == "jax":
        return _train_jax(spec, seeds, iterations)
    w1, w2 = initial_weights(spec, seeds)
    n_prints = (iterations + spec.error_every - 1) // spec.error_every if spec.error_every else 0
    out = np.empty((len(w1), 4))
    errs = np.zeros((len(w1), n_prints))
    _kernel()(np.ascontiguousarray(w1), np.ascontiguousarray(w2), spec.x.astype(np.float64),
              spec.y.astype(np.float64)[:, 0], iterations, float(spec.factor), int(spec.error_every), n_prints,
              out, errs)
    return out, errs


_JAX = {}


def _jax_programs(spec):
    """(forward, run) jitted for the spec's data: forward(w1, w2) -> out (4, S); run(w1, w2, n) -> n updates."""
    key = (spec.x.tobytes(), spec.y.tobytes(), float(spec.factor))
    if key in _JAX:
        return _JAX[key]
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    x = spec.x.astype(np.float64)
    y = jnp.asarray(spec.y.astype(np.float64)[:, 0])
    ones = [[i for i in range(x.shape[1]) if x[m, i]] for m in range(x.shape[0])]
    samples = [[m for m in range(x.shape[0]) if x[m, i]] for i in range(x.shape[1])]
    factor = float(spec.factor)

    def layer1(w1):
        rows = []
        for m in range(4):
            acc = w1[ones[m][0]]
            for i in ones[m][1:]:
                acc = acc + w1[i]
            rows.append(acc)
        return 1.0 / (jnp.exp(-jnp.stack(rows)) + 1.0)                 # (4, 4, S)

    def output(l1, w2):
        p = l1 * w2[None]
        return 1.0 / (jnp.exp(-((p[:, 0] + p[:, 2]) + (p[:, 1] + p[:, 3]))) + 1.0)

    def update(_, state):
        w1, w2 = state
        l1 = layer1(w1)
        out = output(l1, w2)
        delta = (factor * (y[:, None] - out)) * (out * (1.0 - out))
        q = l1 * delta[:, None, :]
        d_w2 = ((q[0] + q[1]) + q[2]) + q[3]
        d_hidden = (delta[:, None, :] * w2[None]) * ((1.0 - l1) * l1)
        updates = []
        for i in range(len(samples)):
            acc = d_hidden[samples[i][0]]
            for m in samples[i][1:]:
                acc = acc + d_hidden[m]
            updates.append(acc)
        return w1 + jnp.stack(updates), w2 + d_w2

    forward = jax.jit(lambda w1, w2: output(layer1(w1), w2))
    run = jax.jit(lambda w1, w2, n: jax.lax.fori_loop(0, n, update, (w1, w2)))
    _JAX[key] = (forward, run)
    return _JAX[key]


def _train_jax(spec, seeds, iterations):
    import jax.numpy as jnp

    forward, run = _jax_programs(spec)
    w1, w2 = initial_weights(spec, seeds)
    w1 = jnp.asarray(np.ascontiguousarray(w1.transpose(1, 2, 0)))
    w2 = jnp.asarray(np.ascontiguousarray(w2.T))
    every = spec.error_every
    points = sorted(set(range(0, iterations, every) if every else []) | {iterations - 1})
    y = spec.y.astype(np.float64)[:, 0]
    errors, done, out = [], 0, None
    for point in points:                  # the state after `point` updates is iteration `point`'s forward pass
        if point > done:
            w1, w2 = run(w1, w2, point - done)
            done = point
        out = np.asarray(forward(w1, w2))
        if every and point % every == 0:
            a = np.abs(y[:, None] - out)
            errors.append((((a[0] + a[1]) + a[2]) + a[3]) / 4.0)
    errs = np.stack(errors, axis=1) if errors else np.empty((out.shape[1], 0))
    return out.T.copy(), errs
