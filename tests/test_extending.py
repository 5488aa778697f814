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
    return subprocess.run([sys.executable, "-m", "repro", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, pythonpath)), **env})


@pytest.fixture
def copied_tree(tmp_path):
    """The checkout's reference_impl and repro with feed_forward.py copied as feed_forward_copy.py."""
    for package in ("reference_impl", "repro"):
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
        "import numpy as np\n\nfrom repro.spec import Policy, Printed, Source\n\n"
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
    assert (site / "repro" / "expected_outputs" / "toy_backprop.json").is_file()
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
    code = ("import sys\nfrom repro.cli import main\n"
            f"code = main({args + (['--out', str(tmp_path)] if args[0] == 'check' else [])!r})\n"
            "heavy = sorted(m for m in ('pandas', 'jinja2', 'matplotlib') if m in sys.modules)\n"
            "print('HEAVY', heavy)\nsys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1000:]
    assert "HEAVY []" in done.stdout
