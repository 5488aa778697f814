"""pytest plugin (entry point ``pytest11``: installing backprop-repro enables it).

- fixture ``repro_regression``: ``repro_regression.check(values, policy=None)`` pins a test's named
  values in ``<test file folder>/<test file stem>/<test name>.json`` (see :mod:`repro.regression`);
- option ``--repro-regen``: rewrite pins whose values changed (the test still fails once, for review).

Loading the plugin imports nothing heavy; NumPy comes in when a test uses the fixture.
"""

import re

import pytest

__all__ = ["RegressionFixture"]


def pytest_addoption(parser):
    group = parser.getgroup("backprop-repro")
    group.addoption("--repro-regen", action="store_true", default=False,
                    help="repro_regression: rewrite pins whose values changed (the test fails once for review)")


class RegressionFixture:
    def __init__(self, path, regen):
        self.path = path
        self.regen = regen

    def check(self, values, policy=None):
        """Pin ``values`` (name -> array, number or text) beside the test, or compare with the pin."""
        from .regression import ValuesDiffer, check_values

        try:
            return check_values(values, self.path, policy=policy, regen=self.regen)
        except ValuesDiffer as exc:
            pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def repro_regression(request):
    """Pin a test's named values next to its file, judged by this suite's tolerance policies."""
    test_file = request.path
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    return RegressionFixture(test_file.parent / test_file.stem / f"{name}.json",
                             request.config.getoption("repro_regen"))
