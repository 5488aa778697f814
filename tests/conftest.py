import functools
import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# The gate (tox sets HYPOTHESIS_PROFILE=ci) runs the same property examples every time, as hypothesis advises
# for CI; a plain pytest run explores new ones and may find a counterexample to keep with @example.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

from backprop_repro.store import pins
from backprop_repro.core import registry
from backprop_repro.sources import runner

ROOT = Path(__file__).resolve().parent.parent
PINS_DIR = ROOT / "expected_outputs"
#: A pytest of its own for a test to run: our plugin loads from its entry point as a user's pytest loads it;
#: hypothesis's and pytest-benchmark's plugins, which no such run uses, are kept out (their imports were most of
#: each child's start-up: 2.3 s against 0.6 s).
PYTEST_CHILD = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p",
                "no:benchmark")


@functools.lru_cache(maxsize=None)
def fresh_run(example_id):
    """Each example runs once per test session (runs are pure, so sharing them is safe)."""
    return runner.run_example(registry.get(example_id))


@functools.lru_cache(maxsize=None)
def committed_pin(example_id):
    return pins.load_pin(PINS_DIR, example_id)


def pinned_quantities():
    return [(example_id, name) for example_id in registry.example_ids()
            if committed_pin(example_id) is not None for name in committed_pin(example_id).quantities]


@pytest.fixture(scope="session")
def full_check(tmp_path_factory):
    """One `check` over all examples against the committed pins (the verdict record)."""
    return runner.check([], PINS_DIR)


#: Test files by their wall time under `pytest -n 3` on 2 cores (seconds, measured 2026-12-02), longest first. With
#: `--dist loadfile --no-loadscope-reorder` (tox.ini) xdist hands out whole files in this order, so that no worker is
#: left alone on a long file at the end; files not named here follow in collection order.
LONGEST_FILES_FIRST = ("test_notebook_corpus.py",    # 55
                       "test_selftest.py",           # 40: one module fixture, every code mutation
                       "test_notebook_faults.py",    # 30
                       "test_notebooks.py",          # 27
                       "test_notebook_selftest.py",  # 19
                       "test_kernel_shutdown.py",    # 17
                       "test_cpu_drift.py",          # 14
                       "test_extending.py",          # 14
                       "test_outputs.py",            # 14
                       "test_closed_streams.py",     # 13
                       "test_properties.py",         # 12
                       "test_sweep.py",              # 11
                       "test_parallel_check.py")     # 10


def pytest_collection_modifyitems(items):
    rank = {name: n for n, name in enumerate(LONGEST_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))     # stable: each file's own order is kept
