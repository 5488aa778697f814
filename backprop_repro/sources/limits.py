"""How far the seed sweep is from this machine's limit.

The faithful sweep (:func:`reference_impl.sweeps.train_batch`) does, per seed and iteration, a number of
exp, divisions, multiplications and additions that its :class:`~reference_impl.sweeps.SweepSpec` derives
from the network's layer sizes (``operation_counts()``; for the 3-4-1 networks of 003 and 004: 20 exp, 20
divisions and 212 other elementwise operations, 92 multiplications and 120 additions and subtractions; it
keeps its weights negated, which spares the negations of ``exp(-z)``). Two limits for that arithmetic on
this machine, per core, divided by the cores the sweep uses:

- **fused** (the hardware's): exp and division at their measured per-element cost in NumPy's SIMD loops
  (compute-bound), multiplications and additions at the machine's multiply-add throughput measured by a
  single-threaded BLAS matrix product (one flop each): what a kernel that keeps every intermediate in
  registers could reach;
- **numpy** (op by op): every operation at its measured per-element cost in NumPy's loops on
  cache-resident arrays (each reads and writes memory): the floor for any version written as NumPy calls.
"""

import time

import numpy as np

from backprop_repro.sources.sweep import available_cores

__all__ = ["throughput", "sweep_limits"]


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


def sweep_limits(ops, seed_iterations, cores=None, measured=None):
    """{"fused": seconds, "numpy": seconds, "ns_per_element": measured, "cores": cores, "ops": ops} for
    ``seed_iterations`` of a sweep doing ``ops`` (its spec's ``operation_counts()``) per seed-iteration."""
    measured = measured or throughput()
    cores = cores or available_cores()
    numpy_ns = sum(ops[op] * measured[op] for op in ops)
    fused_ns = ops["exp"] * measured["exp"] + ops["divide"] * measured["divide"] + \
        (ops["multiply"] + ops["add"]) * measured["flop_fma"]
    scale = seed_iterations * 1e-9 / cores
    return {"fused": fused_ns * scale, "numpy": numpy_ns * scale, "ns_per_element": measured, "cores": cores,
            "ops": dict(ops)}
