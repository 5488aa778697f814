"""The mutation self-test: every realistic mutation of reference_impl/ makes `check` fail (100 % kill)."""

import pytest

from repro.errors import BadInput
from repro.selftest import MUTATIONS, run_selftest

from .conftest import PINS_DIR


@pytest.fixture(scope="module")
def selftest_rows():
    try:
        return {row["id"]: row for row in run_selftest(PINS_DIR)}
    except BadInput as exc:   # another NumPy/CPU than the pins': strict comparison is meaningless there
        pytest.skip(f"mutation self-test needs the pins' environment: {exc}")


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.id for m in MUTATIONS])
def test_mutation_is_killed(selftest_rows, mutation):
    row = selftest_rows[mutation.id]
    assert row["killed"], f"mutation {mutation.id} ({mutation.why}) survived check --strict"
    assert row["exit"] == 1, f"{mutation.id} should be a regression (exit 1), got exit {row['exit']}: {row['evidence']}"


def test_catalogue_is_large_enough_and_unique():
    assert len(MUTATIONS) >= 15 and len({m.id for m in MUTATIONS}) == len(MUTATIONS)
