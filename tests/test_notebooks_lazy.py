"""The notebooks package loads its judge only when one of its names is asked for: every command builds the
parser, which must not pay for it."""

import subprocess
import sys

from tests.conftest import ROOT

_PROBE = """
import sys
from backprop_repro.cli.program import build_parser
build_parser()
print("judge" in {m.rsplit(".", 1)[-1] for m in sys.modules if m.startswith("backprop_repro.notebooks.")})
import backprop_repro.notebooks as package
try:
    package.no_such_name
except AttributeError as exc:
    print("no_such_name" in str(exc))
from backprop_repro.notebooks import run_notebooks, STAT_RUNS
print(callable(run_notebooks), STAT_RUNS == package.judge.STAT_RUNS)
"""


def test_building_the_parser_leaves_the_judge_unloaded_and_its_names_load_on_demand():
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "True", "True"]
