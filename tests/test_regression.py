"""Your own values, pinned: backprop_repro.check_values and the pytest fixture repro_regression (pytest11 plugin)."""

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

from backprop_repro import ValuesDiffer, check_values
from backprop_repro.core.errors import BadInput, UnsupportedValue
from backprop_repro.pytest_plugin import node_of_pin_file_name, pin_file_name

from .conftest import PYTEST_CHILD

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
        return subprocess.run([*PYTEST_CHILD, str(test), *extra],
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


@pytest.mark.parametrize("given", ["pins/training", "pins/training.json"])
def test_a_path_without_json_reads_and_writes_one_file(tmp_path, given):
    """Issue 18: 'pins/training' wrote one file and read another, so every run said 'pin created'."""
    with pytest.raises(ValuesDiffer, match="pin created"):
        check_values(VALUES, tmp_path / given)
    assert [p.name for p in (tmp_path / "pins").iterdir()] == ["training.json"]
    for spelling in ("pins/training", "pins/training.json"):   # one file, whichever spelling
        assert check_values(VALUES, tmp_path / spelling).status == "pass"
    with pytest.raises(ValuesDiffer, match="'n'"):               # and it still catches a change
        check_values(dict(VALUES, n=4), tmp_path / given)


def test_a_name_with_another_suffix_gets_json_appended(tmp_path):
    with pytest.raises(ValuesDiffer, match="pin created"):
        check_values(VALUES, tmp_path / "fit.v2")
    assert (tmp_path / "fit.v2.json").is_file() and check_values(VALUES, tmp_path / "fit.v2").status == "pass"


@pytest.mark.parametrize("value,type_name", [(1 + 2j, "complex"), (np.float16(1), "float16"), (None, "NoneType"),
                                             ([[1], [1, 2]], "list"), (np.array([1], dtype=np.uint8), "ndarray")])
def test_unsupported_types_raise_the_packages_error_naming_key_and_type(tmp_path, value, type_name):
    with pytest.raises(UnsupportedValue, match=f"'odd': unsupported type {type_name}") as info:
        check_values({"fine": 1.0, "odd": value}, tmp_path / "p.json")
    assert isinstance(info.value, BadInput) and not (tmp_path / "p.json").exists()
    with pytest.raises(ValuesDiffer, match="pin created"):      # the supported neighbours pin
        check_values({"fine": 1.0, "odd": np.float32(1)}, tmp_path / "p.json")


def test_regen_replaces_a_corrupted_pin_and_fails_once(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text("{not json")
    with pytest.raises(BadInput, match=r"mine.json: file: not valid JSON.*--repro-regen"):
        check_values(VALUES, path)
    with pytest.raises(ValuesDiffer, match="replaced a pin that did not read"):
        check_values(VALUES, path, regen=True)
    assert check_values(VALUES, path).status == "pass"
    with pytest.raises(ValuesDiffer, match="'label'"):
        check_values(dict(VALUES, label="diverged"), path)


def test_fixture_pin_names_are_the_node_id_and_read_back():
    names = {pin_file_name(["TestA"], "test_m"), pin_file_name(["TestB"], "test_m"), pin_file_name([], "test_m"),
             pin_file_name([], "test_p[a b]"), pin_file_name([], "test_p[a/b]"), pin_file_name([], "test_p[a_b]"),
             pin_file_name([], "test_p[a%20b]"), pin_file_name(["Outer", "Inner"], "test_m")}
    assert len(names) == 8
    assert pin_file_name(["TestA"], "test_m[a b]") == "TestA.test_m[a%20b]"
    assert pin_file_name([], "test_p[a/b]") == "test_p[a%2Fb]"
    assert pin_file_name([], "test_x[0.5-1e-3]") == "test_x[0.5-1e-3]"


@given(st.lists(st.text(min_size=1), max_size=2), st.text(min_size=1).filter(lambda t: "[" not in t),
       st.one_of(st.none(), st.text()))
def test_fixture_pin_names_are_reversible_and_safe(classes, function, parameters):
    name = function if parameters is None else f"{function}[{parameters}]"
    file_name = pin_file_name(classes, name)
    assert node_of_pin_file_name(file_name) == (classes, name)
    assert not set(file_name) & set('/\\:*?"<>| \0') and file_name.isascii()


def test_fixture_pins_per_node_id_regen_of_a_corrupted_pin_and_one_message(tmp_path):
    """Two classes with one method name and the ids [a b] / [a/b] get their own pins; a corrupted pin is
    replaced by --repro-regen (failing once); a failure's message appears once."""
    test = tmp_path / "test_user.py"
    test.write_text("import pytest\n\n\nclass TestA:\n    def test_m(self, repro_regression):\n"
                    "        repro_regression.check({'x': 1.0})\n\n\nclass TestB:\n"
                    "    def test_m(self, repro_regression):\n        repro_regression.check({'x': 2.0})\n\n\n"
                    "@pytest.mark.parametrize('p', ['a b', 'a/b'])\ndef test_p(repro_regression, p):\n"
                    "    repro_regression.check({'x': p})\n")

    def pytest_run(*extra):
        return subprocess.run([*PYTEST_CHILD, str(test), *extra],
                              cwd=tmp_path, capture_output=True, text=True)

    first = pytest_run()
    assert first.returncode == 1 and first.stdout.count("pin created") == 4, first.stdout
    assert "During handling" not in first.stdout and first.stdout.count("TestA.test_m.json: pin created") == 1
    pins_dir = tmp_path / "test_user"
    assert sorted(p.name for p in pins_dir.iterdir()) == ["TestA.test_m.json", "TestB.test_m.json",
                                                          "test_p[a%20b].json", "test_p[a%2Fb].json"]
    assert pytest_run().returncode == 0
    (pins_dir / "TestB.test_m.json").write_text("{truncated")
    broken = pytest_run()
    assert broken.returncode == 1 and "1 failed, 3 passed" in broken.stdout
    assert "not valid JSON" in broken.stdout and "--repro-regen" in broken.stdout
    assert "During handling" not in broken.stdout and "Traceback" not in broken.stdout
    regen = pytest_run("--repro-regen")
    assert regen.returncode == 1 and "replaced a pin that did not read" in regen.stdout
    assert pytest_run().returncode == 0
    test.write_text(test.read_text().replace("{'x': 2.0}", "{'x': 2.5}"))     # a real change is still caught
    moved = pytest_run()
    assert moved.returncode == 1 and "TestB.test_m.json: 1 of 1 value(s) do not hold" in moved.stdout


def test_an_examples_unsupported_quantity_names_the_example_and_quantity():
    from types import SimpleNamespace

    from backprop_repro.core.spec import Policy
    from backprop_repro.store import pins

    example = SimpleNamespace(id="my_fit", documents=("notes.md",), section="s", module_name="my_fit",
                              policies=(Policy("*", "exact", "r"),))
    with pytest.raises(UnsupportedValue, match="'my_fit:z': unsupported type complex"):
        pins.make_pin(example, {"w": np.float64(1.0), "z": 1j}, {})
    assert pins.make_pin(example, {"w": np.float64(1.0)}, {})["quantities"]["w"]["dtype"] == "float64"


def test_the_package_s_public_names_all_import():
    import backprop_repro

    namespace = {}
    exec("from backprop_repro import *", namespace)
    assert set(backprop_repro.__all__) <= set(namespace)
