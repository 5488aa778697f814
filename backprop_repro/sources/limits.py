"""How far the seed sweep is from this machine's limit.

The faithful sweep (:func:`reference_impl.sweeps.train_batch`) does, per seed and iteration, 20 exp,
20 divisions and 212 other elementwise operations (92 multiplications, 120 additions and subtractions;
counted from its code, see ``OPS_PER_SEED_ITERATION``; it keeps its weights negated, which spares the 20
negations of ``exp(-z)``). Two limits for that arithmetic on this
machine, per core, divided by the cores the sweep uses:

- **fused** (the hardware's): exp and division at their measured per-element cost in NumPy's SIMD loops
  (compute-bound), multiplications and additions at the machine's multiply-add throughput measured by a
  single-threaded BLAS matrix product (one flop each): what a kernel that keeps every intermediate in
  registers could reach;
- **numpy** (op by op): every operation at its measured per-element cost in NumPy's loops on
  cache-resident arrays (each reads and writes memory): the floor for any version written as NumPy calls.
"""

import time

import numpy as np

from .sweep import available_cores

__all__ = ["OPS_PER_SEED_ITERATION", "throughput", "sweep_limits"]

#: Per seed-iteration of the 3-4-1 sweep: forward 16 + 4 exp and divisions; the rest (see module docstring).
OPS_PER_SEED_ITERATION = {"exp": 20, "divide": 20, "multiply": 92, "add": 120}


def _best_ns_per_element(fn, n, repeats=5, inner=200):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - start) / inner / n * 1e9)
    return best


def throughput(n=4096):
    """Measured ns per element on this machine (NumPy ufunc loops, arrays of ``n`` float64 in cache)."""
    rng = np.random.default_rng(0)
    a, b, out = rng.random(n), rng.random(n) + 0.5, np.empty(n)
    measured = {"exp": _best_ns_per_element(lambda: np.exp(a, out=out), n),
                "divide": _best_ns_per_element(lambda: np.divide(a, b, out=out), n),
                "multiply": _best_ns_per_element(lambda: np.multiply(a, b, out=out), n),
                "add": _best_ns_per_element(lambda: np.add(a, b, out=out), n)}
    measured["flop_fma"] = _ns_per_flop()
    return measured


def _ns_per_flop(size=256):
    """ns per floating-point operation of a single-threaded float64 matrix product (2 size^3 flops)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(1)
    a, b = rng.random((size, size)), rng.random((size, size))
    with threadpool_limits(limits=1, user_api="blas"):
        return _best_ns_per_element(lambda: a @ b, 2 * size ** 3, repeats=5, inner=10)


def sweep_limits(seed_iterations, cores=None, measured=None):
    """{"fused": seconds, "numpy": seconds, "ns_per_element": measured, "cores": cores} for ``seed_iterations``."""
    measured = measured or throughput()
    cores = cores or available_cores()
    ops = OPS_PER_SEED_ITERATION
    numpy_ns = sum(ops[op] * measured[op] for op in ops)
    fused_ns = ops["exp"] * measured["exp"] + ops["divide"] * measured["divide"] + \
        (ops["multiply"] + ops["add"]) * measured["flop_fma"]
    scale = seed_iterations * 1e-9 / cores
    return {"fused": fused_ns * scale, "numpy": numpy_ns * scale, "ns_per_element": measured, "cores": cores}
