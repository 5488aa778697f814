import functools
from pathlib import Path

import pytest

from repro import pins, registry, runner

ROOT = Path(__file__).resolve().parent.parent
PINS_DIR = ROOT / "expected_outputs"


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
