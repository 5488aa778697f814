"""Cost of the seed sweeps: every example whose SWEEP declares ``bench_seeds`` (xor_341: 10000 seeds x 1500
iterations) over every core, with the estimated limit of this machine for the same arithmetic
(backprop_repro.sources.limits, from the spec's operation counts) beside it, and the NumPy allocation peak per
chunk (tracemalloc)."""

import tracemalloc

import numpy as np
import pytest

from backprop_repro.core import registry
from backprop_repro.sources import limits
from backprop_repro.sources.sweep import available_cores, chunk_size, run_sweep
from reference_impl import sweeps

BENCHED = [e.id for e in registry.examples().values() if e.sweep is not None and e.sweep.bench_seeds]


def _extra(benchmark, example_id, method, cores=None, **more):
    spec = registry.get(example_id).sweep
    seed_iterations = spec.bench_seeds * spec.iterations
    lim = limits.sweep_limits(spec.operation_counts(), seed_iterations, cores=cores)
    benchmark.extra_info.update({"network": f"sweep:{example_id}", "n_params": spec.bench_seeds, "method": method,
                                 "workers": lim["cores"], "seed_iterations": seed_iterations, "limit_s": lim["fused"],
                                 "limit_numpy_s": lim["numpy"], "ns_per_element": lim["ns_per_element"],
                                 "ops_per_seed_iteration": lim["ops"], **more})
    return spec


@pytest.mark.parametrize("example_id", BENCHED)
def test_sweep(benchmark, quick, example_id):
    spec = registry.get(example_id).sweep
    chunk = chunk_size(spec, spec.bench_seeds, available_cores())
    tracemalloc.start()
    sweeps.train_batch(spec, np.arange(chunk), iterations=10)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    _extra(benchmark, example_id, "sweep_parallel", peak_alloc_bytes_per_chunk=peak, chunk=chunk)
    benchmark.pedantic(run_sweep, args=(example_id, spec.bench_seeds), kwargs={"progress": False},
                       rounds=1 if quick else 3, iterations=1, warmup_rounds=0)


@pytest.mark.parametrize("example_id", BENCHED)
def test_sweep_one_process(benchmark, quick, example_id):
    spec = _extra(benchmark, example_id, "sweep_one_process", cores=1)
    benchmark.pedantic(run_sweep, args=(example_id, spec.bench_seeds), kwargs={"progress": False, "workers": 1},
                       rounds=1 if quick else 3, iterations=1, warmup_rounds=0)


@pytest.mark.parametrize("backend", ["jax", "numba"])
@pytest.mark.parametrize("example_id", BENCHED)
def test_sweep_compiled(benchmark, quick, example_id, backend):
    pytest.importorskip(backend, reason=f"{backend} not installed (extra: backprop-repro[{backend}])")
    spec = registry.get(example_id).sweep
    # compile outside the timing: XLA compiles once per array shape, so warm up on the timed chunk's shape
    run_sweep(example_id, spec.bench_seeds, iterations=2, progress=False, backend=backend)
    _extra(benchmark, example_id, f"sweep_{backend}")
    benchmark.pedantic(run_sweep, args=(example_id, spec.bench_seeds), kwargs={"progress": False, "backend": backend},
                       rounds=1 if quick else 3, iterations=1, warmup_rounds=0)
