"""pytest-benchmark suites for the gradient methods (kept apart from tests/).

Run through ``backprop-repro bench [--quick]`` (which also writes bench.csv and scaling.csv
and applies the gates), or directly: ``pytest benchmarks --benchmark-only [--bench-quick]``.
"""

import pytest


def pytest_addoption(parser):
    parser.addoption("--bench-quick", action="store_true", help="fewer widths in the scaling sweep")


@pytest.fixture(scope="session")
def quick(request):
    return request.config.getoption("--bench-quick")
