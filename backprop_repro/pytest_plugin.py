"""pytest plugin (entry point ``pytest11``: installing backprop-repro enables it).

- fixture ``repro_regression``: ``repro_regression.check(values, policy=None)`` pins a test's named
  values in ``<test file folder>/<test file stem>/<class>.<test name>[<parameters>].json``, one file per
  test node id (see :func:`pin_file_name` and :mod:`backprop_repro.store.regression`);
- option ``--repro-regen``: rewrite pins whose values changed or that no longer read (the test still fails
  once, for review);
- option ``--repro-nb``: collect notebooks (``pytest --repro-nb PATH``) as test items, one per notebook,
  checked by :mod:`backprop_repro.notebooks.judge`; a failure lists the differences.

Loading the plugin imports nothing heavy; NumPy comes in when a test uses the fixture.
"""

import string
from urllib.parse import unquote

import pytest

__all__ = ["RegressionFixture", "pin_file_name", "node_of_pin_file_name"]

_SAFE = frozenset(string.ascii_letters + string.digits + "_-")


def _escape(text, keep=""):
    """``text`` with every character outside letters, digits, ``_-`` and ``keep`` as %XX of its UTF-8 bytes."""
    return "".join(c if c in _SAFE or c in keep else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def pin_file_name(classes, name):
    """The pin file name (without ``.json``) of the test ``name`` (with its ``[parameters]``) inside
    ``classes`` (outermost first): the names joined by ``.``, the parameters in brackets, every other character
    (``/``, space, ``%``, ``:``, ...) as %XX, so that no two node ids share a file and the name reads back
    (:func:`node_of_pin_file_name`). ``TestA::test_m[a b]`` -> ``TestA.test_m[a%20b]``."""
    function, bracket, parameters = name.partition("[")
    head = ".".join(_escape(part) for part in (*classes, function))
    return head + (bracket + _escape(parameters, keep=".[]") if bracket else "")


def node_of_pin_file_name(file_name):
    """Inverse of :func:`pin_file_name`: ``(classes, name)``."""
    head, bracket, parameters = file_name.partition("[")
    *classes, function = [unquote(part) for part in head.split(".")]
    return classes, function + (bracket + unquote(parameters) if bracket else "")


def pytest_addoption(parser):
    group = parser.getgroup("backprop-repro")
    group.addoption("--repro-regen", action="store_true", default=False,
                    help="repro_regression: rewrite pins whose values changed (the test fails once for review)")
    group.addoption("--repro-nb", action="store_true", default=False,
                    help="collect .ipynb files as tests: stored outputs against fresh runs, number by number")
    group.addoption("--repro-nb-runs", type=int, default=2, help="fresh runs per notebook (default 2)")
    group.addoption("--repro-nb-timeout", type=float, default=120, help="seconds per cell (default 120)")
    group.addoption("--repro-nb-strict-digits", action="store_true", default=False,
                    help="a difference of one unit in the last printed digit fails too")


class RegressionFixture:
    def __init__(self, path, regen):
        self.path = path
        self.regen = regen

    def check(self, values, policy=None):
        """Pin ``values`` (name -> array, number or text) beside the test, or compare with the pin."""
        from backprop_repro.core.errors import BadInput
        from backprop_repro.store.regression import ValuesDiffer, check_values

        try:
            return check_values(values, self.path, policy=policy, regen=self.regen)
        except (ValuesDiffer, BadInput) as exc:
            message = str(exc)
        pytest.fail(message, pytrace=False)   # outside the except: the message once, not chained


@pytest.fixture
def repro_regression(request):
    """Pin a test's named values next to its file, judged by this suite's tolerance policies."""
    test_file = request.path
    classes = [node.name for node in request.node.listchain() if isinstance(node, pytest.Class)]
    name = pin_file_name(classes, request.node.name)
    return RegressionFixture(test_file.parent / test_file.stem / f"{name}.json",
                             request.config.getoption("repro_regen"))


# --- notebooks as test items: pytest --repro-nb PATH ----------------------------------------------------------

def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".ipynb" and parent.config.getoption("repro_nb"):
        return NotebookFile.from_parent(parent, path=file_path)
    return None


class NotebookFailure(Exception):
    def __init__(self, record):
        super().__init__(record["verdict"])
        self.record = record


class NotebookFile(pytest.File):
    def collect(self):
        yield NotebookItem.from_parent(self, name=self.path.name)


class NotebookItem(pytest.Item):
    """One notebook: its stored outputs against fresh runs (backprop-repro notebook), as one test."""

    def runtest(self):
        from backprop_repro.notebooks.judge import VERDICTS_OK, check_notebook

        config = self.config
        record = check_notebook(self.path, runs=config.getoption("repro_nb_runs"),
                                timeout=config.getoption("repro_nb_timeout"),
                                strict_digits=config.getoption("repro_nb_strict_digits"))
        self.user_properties.append(("verdict", record["verdict"]))
        if record["verdict"] not in VERDICTS_OK:
            raise NotebookFailure(record)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, NotebookFailure):
            record = excinfo.value.record
            lines = [f"{record['path']}: {record['verdict']} ({record['numbers_reproduced']} of "
                     f"{record['numbers_compared']} numbers reproduced)"]
            if record.get("coverage"):
                lines.append(f"  {record['coverage']}")
            if record.get("cause"):
                lines.append(f"  cause {record['cause']}: {record['cause_detail']}")
            for d in record["differences"]:
                if d["kind"] != "cosmetic":
                    lines.append(f"  cell {d['cell']} {d['output']}: {d['kind']}: stored {d['stored'][:80]!r}, fresh "
                                 f"{d['fresh'][:80]!r}: {d['explanation']}")
            return "\n".join(lines)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"notebook {self.name}"
