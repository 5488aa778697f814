"""Adding examples and running installed: a copied example module works with nothing else edited; a
third-party package adds examples through the entry-point group; the wheel carries its pins."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(args, cwd, pythonpath, **env):
    return subprocess.run([sys.executable, "-m", "backprop_repro", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, pythonpath)), **env})


@pytest.fixture
def copied_tree(tmp_path):
    """The checkout's reference_impl and backprop_repro with feed_forward.py copied as feed_forward_copy.py."""
    for package in ("reference_impl", "backprop_repro"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    examples = tmp_path / "reference_impl" / "examples"
    shutil.copy(examples / "feed_forward.py", examples / "feed_forward_copy.py")
    (tmp_path / "pins").mkdir()
    return tmp_path


def test_a_copied_example_module_is_listed_pinned_checked_and_drawn(copied_tree):
    pins = copied_tree / "pins"
    listed = _run(["list", "--pins", str(pins)], copied_tree, [copied_tree])
    assert listed.returncode == 0 and "feed_forward_copy:" in listed.stdout
    first = _run(["pins", "update", "feed_forward_copy", "--pins", str(pins)], copied_tree, [copied_tree])
    assert first.returncode == 1 and (pins / "feed_forward_copy.json").is_file()   # a new pin is never silent
    again = _run(["pins", "update", "feed_forward_copy", "--pins", str(pins)], copied_tree, [copied_tree])
    assert again.returncode == 0
    checked = _run(["check", "feed_forward_copy", "--pins", str(pins), "--out", str(copied_tree / "out")],
                   copied_tree, [copied_tree])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    record = json.loads((copied_tree / "out" / "results.json").read_text())
    assert {r["example"] for r in record["results"]} == {"feed_forward_copy"}
    assert [d["id"] for d in record["document_values"]] == ["feed_forward_copy:prediction@001"]
    assert "feed_forward_copy" in (copied_tree / "out" / "index.html").read_text()


def test_a_third_party_example_through_the_entry_point_group(tmp_path):
    site = tmp_path / "site"
    package = site / "my_examples"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "doubling.py").write_text(
        '"""A user\'s example: doubling a float64 vector (their own notes, section 1)."""\n'
        "import numpy as np\n\nfrom backprop_repro.core.spec import Policy, Printed, Source\n\n"
        "SOURCE = Source(('notes.md',), 'section 1', 'doubling a vector')\n"
        "POLICIES = (Policy('*', 'exact', 'one multiplication by 2: exact in binary floating point'),)\n"
        "PRINTED = (Printed('doubled', (1,), '4.0', 'notes.md', 'section 1'),)\n\n\n"
        "def run():\n    return {'doubled': np.array([1.0, 2.0]) * 2}\n")
    dist = site / "my_examples-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-examples\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[backprop_repro.examples]\nmy_doubling = my_examples.doubling\n")
    pins = tmp_path / "pins"
    pins.mkdir()
    path = [site, ROOT]
    assert "my_doubling:" in _run(["list", "--pins", str(pins)], tmp_path, path).stdout
    assert _run(["pins", "update", "my_doubling", "--pins", str(pins)], tmp_path, path).returncode == 1
    checked = _run(["check", "my_doubling", "--pins", str(pins), "--out", str(tmp_path / "out"), "--no-report"],
                   tmp_path, path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1 of 1 reproduced" in checked.stdout


_NETWORK_EXAMPLE = '''"""A user's example: a 2-2-1 sigmoid network learning OR (their notes, section 2)."""
import numpy as np

from backprop_repro.core.spec import GradientProblem, Mutation, Policy, Source
from reference_impl.sweeps import SweepSpec

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
Y = np.array([[0], [1], [1], [1]])
EPOCHS = 200


def initial_weights(seed=3):
    rng = np.random.RandomState(seed)
    return [rng.random_sample((2, 2)), rng.random_sample((2, 1))]


def run():
    w1, w2 = initial_weights()
    for _ in range(EPOCHS):
        hidden = 1 / (1 + np.exp(-(X @ w1)))
        out = 1 / (1 + np.exp(-(hidden @ w2)))
        d_out = (Y - out) * out * (1 - out)
        d_hidden = (d_out @ w2.T) * hidden * (1 - hidden)
        w2 = w2 + hidden.T @ d_out
        w1 = w1 + X.T @ d_hidden
    return {"output": out}


SOURCE = Source(("notes.md",), "section 2", "2-2-1 sigmoid network learning OR")
POLICIES = (Policy("*", "close:rtol=1e-12,atol=1e-15", "float64 training through exp"),)
GRADIENT_PROBLEM = GradientProblem("or_221", (2, 2, 1), bias=False, output="sigmoid", parameters=initial_weights,
                                   inputs=X, targets=Y)
SWEEP = SweepSpec((2, 2, 1), X, Y, 200, factor=1.0, hidden_scale=1.0, output_scale=1.0, default_seeds=100,
                  chunk=100, bench_seeds=100)
MUTATIONS = (Mutation("or-one-epoch-fewer", "EPOCHS = 200", "EPOCHS = 199", "one epoch fewer in the OR network"),)
'''


@pytest.fixture
def network_site(tmp_path):
    """A third party's package with a network example (gradient problem, sweep, mutation) behind the entry point."""
    site = tmp_path / "site"
    (site / "their_examples").mkdir(parents=True)
    (site / "their_examples" / "__init__.py").write_text("")
    (site / "their_examples" / "or_network.py").write_text(_NETWORK_EXAMPLE)
    dist = site / "their_examples-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: their-examples\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[backprop_repro.examples]\nor_network = their_examples.or_network\n")
    return site


def _pytest(args, cwd, pythonpath):
    # a pytest of its own: nothing of this run's xdist worker (pytest-benchmark turns itself off under xdist)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTEST_XDIST"))}
    return subprocess.run([sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "-o", "addopts="], cwd=cwd, capture_output=True, text=True,
                          env={**env, "PYTHONPATH": os.pathsep.join(map(str, pythonpath))})


def test_a_third_party_network_is_benchmarked_gradient_checked_and_mutated_with_nothing_else_edited(
        network_site, tmp_path):
    path = [network_site, ROOT]
    # benchmarked: its network timed and gated beside the documents', its 2-2-1 sweep timed against its limit
    raw = tmp_path / "bench.json"
    timed = _pytest([str(ROOT / "benchmarks"), "-k", "or_221 or or_network", "--benchmark-only",
                     f"--benchmark-json={raw}", "--benchmark-max-time=0.01", "--benchmark-min-rounds=1",
                     "--bench-quick", "--rootdir", str(ROOT / "benchmarks"), "-c", os.devnull], tmp_path, path)
    assert timed.returncode == 0, timed.stdout[-3000:] + timed.stderr[-2000:]
    gated = subprocess.run(
        [sys.executable, "-c", "from backprop_repro.sources import bench\n"
                               f"t = bench.bench_table({str(raw)!r})\n"
                               "print(sorted(set(t.network)))\n"
                               "print([(g.subject, g.measured > 0) for g in bench.gates(t, bench.fit_scaling(t))])\n"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path))})
    assert gated.returncode == 0, gated.stderr[-2000:]
    assert "['or_221', 'sweep:or_network']" in gated.stdout and "('or_221', True)" in gated.stdout
    # gradient-checked: the project's gradient tests take its network from the registry
    checked = _pytest([str(ROOT / "tests" / "test_gradients.py"), "-k", "or_221", "-rA"], ROOT, path)
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert checked.stdout.count("[or_221]") >= 4      # shapes, chain rule vs oracle, vectorized, chapter's FD
    # mutated: its own mutation, declared beside its code, applied to a copy of its package and killed
    mutated = _run(["selftest", "--only", "or-one-epoch-fewer", "--out", str(tmp_path / "st"), "--quiet"], tmp_path,
                   path)
    assert mutated.returncode == 0, mutated.stdout + mutated.stderr
    row = json.loads((tmp_path / "st" / "selftest.json").read_text())["mutations"][0]
    assert "or_network" in row["examples"] and row["killed_default"] and row["killed_strict"]
    assert any(c.startswith("or_network:output") for c in row["caught_by"])
    assert (network_site / "their_examples" / "or_network.py").read_text() == _NETWORK_EXAMPLE   # mutated a copy


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A non-editable install of the wheel (no dependencies: this interpreter has them) in its own folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(ROOT)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((tmp / "dist").glob("*.whl"))
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(tmp / "site"),
                           str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return tmp / "site", elsewhere


@pytest.mark.slow
def test_installed_wheel_checks_against_its_shipped_pins_from_any_directory(installed):
    site, elsewhere = installed
    assert (site / "backprop_repro" / "expected_outputs" / "toy_backprop.json").is_file()
    checked = _run(["check", "--no-report", "--quiet"], elsewhere, [site])
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
    record = json.loads((elsewhere / "reports" / "latest" / "results.json").read_text())
    assert record["results"] and all(r["status"] == "pass" for r in record["results"])


@pytest.mark.slow
def test_installed_wheel_bad_pins_and_read_only_pins_are_bad_input(installed):
    site, elsewhere = installed
    missing = _run(["check", "--pins", str(elsewhere / "no-such-pins")], elsewhere, [site])
    assert missing.returncode == 2 and "no-such-pins" in missing.stderr and "Traceback" not in missing.stderr
    update = _run(["pins", "update", "feed_forward"], elsewhere, [site])
    assert update.returncode == 2 and "read-only" in update.stderr


@pytest.mark.slow
def test_installed_wheel_sweeps_with_its_shipped_sweep_pin(installed):
    site, elsewhere = installed
    done = _run(["sweep", "xor_341", "--seeds", "1000", "--no-progress"], elsewhere, [site])
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "within bounds" in done.stdout


@pytest.mark.parametrize("args", [["list"], ["check", "feed_forward", "--no-report", "--quiet"]])
def test_list_and_check_without_report_import_no_pandas_jinja_or_matplotlib(tmp_path, args):
    code = ("import sys\nfrom backprop_repro.cli.commands import main\n"
            f"code = main({args + (['--out', str(tmp_path)] if args[0] == 'check' else [])!r})\n"
            "heavy = sorted(m for m in ('pandas', 'jinja2', 'matplotlib') if m in sys.modules)\n"
            "print('HEAVY', heavy)\nsys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1000:]
    assert "HEAVY []" in done.stdout
