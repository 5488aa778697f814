"""Cost of the seed sweeps: 10000 seeds of xor_341 x 1500 iterations (target <= 3 s here), with the
peak of NumPy allocations (tracemalloc) recorded beside the timing."""

import tracemalloc

import numpy as np

from reference_impl import sweeps
from repro.sweep import spec_of

SPEC = spec_of("xor_341")
CHUNK = SPEC.chunk


def _sweep(n_seeds):
    spec = SPEC
    for start in range(0, n_seeds, CHUNK):
        sweeps.train_batch(spec, np.arange(start, min(start + CHUNK, n_seeds)))


def test_sweep_xor_341_10000_seeds(benchmark, quick):
    tracemalloc.start()
    _sweep(CHUNK)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    benchmark.extra_info.update({"network": "sweep:xor_341", "n_params": 10000, "method": "sweep_vectorized",
                                 "peak_alloc_bytes_per_chunk": peak, "chunk": CHUNK})
    benchmark.pedantic(_sweep, args=(10000,), rounds=1 if quick else 3, iterations=1, warmup_rounds=0)
