"""Cost of the seed sweep: 10000 seeds of xor_341 x 1500 iterations over every core, with the estimated
limit of this machine for the same arithmetic (repro.limits) beside it, and the NumPy allocation peak
per chunk (tracemalloc)."""

import tracemalloc

import numpy as np
import pytest

from reference_impl import sweeps
from repro import limits
from repro.sweep import available_cores, chunk_size, run_sweep, spec_of

SPEC = spec_of("xor_341")
N_SEEDS = 10000


def test_sweep_xor_341_10000_seeds(benchmark, quick):
    chunk = chunk_size(SPEC, N_SEEDS, available_cores())
    tracemalloc.start()
    sweeps.train_batch(SPEC, np.arange(chunk), iterations=10)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    seed_iterations = N_SEEDS * SPEC.iterations
    lim = limits.sweep_limits(seed_iterations)
    benchmark.extra_info.update({"network": "sweep:xor_341", "n_params": N_SEEDS, "method": "sweep_parallel",
                                 "peak_alloc_bytes_per_chunk": peak, "chunk": chunk, "workers": lim["cores"],
                                 "seed_iterations": seed_iterations, "limit_s": lim["fused"],
                                 "limit_numpy_s": lim["numpy"], "ns_per_element": lim["ns_per_element"]})
    benchmark.pedantic(run_sweep, args=("xor_341", N_SEEDS), kwargs={"progress": False},
                       rounds=1 if quick else 3, iterations=1, warmup_rounds=0)


def test_sweep_xor_341_10000_seeds_one_process(benchmark, quick):
    seed_iterations = N_SEEDS * SPEC.iterations
    lim = limits.sweep_limits(seed_iterations, cores=1)
    benchmark.extra_info.update({"network": "sweep:xor_341", "n_params": N_SEEDS, "method": "sweep_one_process",
                                 "workers": 1, "seed_iterations": seed_iterations, "limit_s": lim["fused"],
                                 "limit_numpy_s": lim["numpy"], "ns_per_element": lim["ns_per_element"]})
    benchmark.pedantic(run_sweep, args=("xor_341", N_SEEDS), kwargs={"progress": False, "workers": 1},
                       rounds=1 if quick else 3, iterations=1, warmup_rounds=0)


@pytest.mark.parametrize("backend", ["jax", "numba"])
def test_sweep_xor_341_10000_seeds_compiled(benchmark, quick, backend):
    pytest.importorskip(backend, reason=f"{backend} not installed (extra: backprop-repro[{backend}])")
    # compile outside the timing: XLA compiles once per array shape, so warm up on the timed chunk's shape
    run_sweep("xor_341", N_SEEDS, iterations=2, progress=False, backend=backend)
    seed_iterations = N_SEEDS * SPEC.iterations
    lim = limits.sweep_limits(seed_iterations)
    benchmark.extra_info.update({"network": "sweep:xor_341", "n_params": N_SEEDS, "method": f"sweep_{backend}",
                                 "workers": lim["cores"], "seed_iterations": seed_iterations, "limit_s": lim["fused"],
                                 "limit_numpy_s": lim["numpy"], "ns_per_element": lim["ns_per_element"]})
    benchmark.pedantic(run_sweep, args=("xor_341", N_SEEDS), kwargs={"progress": False, "backend": backend},
                       rounds=1 if quick else 3, iterations=1, warmup_rounds=0)
