"""Your own values, pinned: repro.check_values and the pytest fixture repro_regression (pytest11 plugin)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from repro import ValuesDiffer, check_values
from repro.errors import BadInput

VALUES = {"w": np.array([[0.1, 0.2], [0.3, 0.4]], dtype=np.float32), "loss": np.float64(0.125), "n": 3,
          "label": "converged"}


def test_first_run_writes_the_pin_and_fails_then_passes(tmp_path):
    path = tmp_path / "pins" / "mine.json"
    with pytest.raises(ValuesDiffer, match="pin created with 4 value"):
        check_values(VALUES, path)
    data = json.loads(path.read_text())
    assert data["schema_version"] == 1 and data["quantities"]["w"]["dtype"] == "float32"
    assert data["provenance"]["numpy"] == np.__version__
    assert check_values(VALUES, path).status == "pass"


def test_a_changed_value_fails_naming_key_count_ulp_and_relative_error(tmp_path):
    path = tmp_path / "mine.json"
    with pytest.raises(ValuesDiffer):
        check_values(VALUES, path)
    changed = dict(VALUES, w=np.nextafter(VALUES["w"], np.float32(1), dtype=np.float32))   # every element +1 ULP
    with pytest.raises(ValuesDiffer) as info:
        check_values(changed, path)
    message = str(info.value)
    assert "'w': 4 of 4 elements outside exact" in message and "1 ULP" in message and "rel" in message
    assert check_values(changed, path, policy={"w": "ulp:1"}).status == "pass"   # a policy per key


@pytest.mark.parametrize("policy,delta,holds", [("close:rtol=1e-6,atol=0", 1e-7, True),
                                                ("close:rtol=1e-6,atol=0", 1e-5, False),
                                                ("printed:3", 4e-4, True), ("printed:3", 6e-4, False),
                                                ("ratio:2", 0.1, True)])
def test_policies_apply_to_user_values(tmp_path, policy, delta, holds):
    path = tmp_path / "p.json"
    with pytest.raises(ValuesDiffer):
        check_values({"x": np.float64(0.5)}, path, policy=policy)
    if holds:
        assert check_values({"x": np.float64(0.5 + delta)}, path, policy=policy).status == "pass"
    else:
        with pytest.raises(ValuesDiffer, match="'x'"):
            check_values({"x": np.float64(0.5 + delta)}, path, policy=policy)


def test_regen_rewrites_and_fails_once_then_passes(tmp_path):
    path = tmp_path / "mine.json"
    with pytest.raises(ValuesDiffer):
        check_values(VALUES, path)
    changed = dict(VALUES, label="diverged")
    with pytest.raises(ValuesDiffer, match="regenerated"):
        check_values(changed, path, regen=True)
    assert check_values(changed, path).status == "pass"


def test_added_and_removed_keys_fail(tmp_path):
    path = tmp_path / "mine.json"
    with pytest.raises(ValuesDiffer):
        check_values(VALUES, path)
    with pytest.raises(ValuesDiffer, match="'extra': new value"):
        check_values(dict(VALUES, extra=1), path)
    with pytest.raises(ValuesDiffer, match="'label': pinned but not given"):
        check_values({k: v for k, v in VALUES.items() if k != "label"}, path)


@pytest.mark.parametrize("values,policy,needle", [({}, None, "non-empty dict"), ({"x": np.nan}, None, "NaN"),
                                                  ({"x": 1.0}, "ulp:-1", "policy for 'x'"),
                                                  ({"x": 1.0}, "printed:x", "printed:D")])
def test_bad_values_and_policies_are_bad_input(tmp_path, values, policy, needle):
    with pytest.raises(BadInput, match=needle):
        check_values(values, tmp_path / "p.json", policy=policy)


def test_malformed_pin_is_bad_input_naming_the_file(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text("{not json")
    with pytest.raises(BadInput, match="mine.json"):
        check_values(VALUES, path)


def test_pytest_plugin_fixture_end_to_end(tmp_path):
    """Installing the package enables the plugin (pytest11); the workflow: fail + write, pass, fail, regen."""
    test = tmp_path / "test_user.py"
    test.write_text("import numpy as np\n\n\ndef test_mine(repro_regression):\n"
                    "    repro_regression.check({'w': np.array([1.0, 2.0]) * SCALE, 'n': 3}, policy={'w': 'ulp:2'})\n")

    def pytest_run(scale, *extra):
        text = test.read_text().split("\n", 1)[1]
        test.write_text(f"SCALE = {scale!r}\n" + text if not text.startswith("SCALE") else text)
        test.write_text(f"SCALE = {scale!r}\n" + test.read_text().split("\n", 1)[1])
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test), *extra],
                              cwd=tmp_path, capture_output=True, text=True)

    test.write_text("SCALE = 1.0\n" + test.read_text())
    first = pytest_run(1.0)
    assert first.returncode == 1 and "pin created" in first.stdout
    assert (tmp_path / "test_user" / "test_mine.json").is_file()
    assert pytest_run(1.0).returncode == 0
    moved = pytest_run(1.0 + 1e-12)
    assert moved.returncode == 1 and "'w': 2 of 2 elements outside ulp:2" in moved.stdout
    assert pytest_run(1.0 + 1e-12, "--repro-regen").returncode == 1
    assert pytest_run(1.0 + 1e-12).returncode == 0
