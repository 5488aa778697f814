"""The pin workflow and bad input, through the CLI: exit codes 0/1/2, one-line errors, pins intact."""

import json
import shutil

import numpy as np
import pytest

from backprop_repro.cli.commands import main

from .conftest import PINS_DIR

IDS = ["feed_forward", "losses"]


@pytest.fixture
def pins_dir(tmp_path):
    d = tmp_path / "pins"
    d.mkdir()
    for i in IDS:
        shutil.copy(PINS_DIR / f"{i}.json", d)
    return d


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_missing_pin_fails_then_update_fails_and_shows_then_check_passes(tmp_path, capsys):
    pins = tmp_path / "empty"
    pins.mkdir()
    out_dir = tmp_path / "out"
    code, out, _ = run(["check", *IDS, "--pins", str(pins), "--out", str(out_dir), "--quiet"], capsys)
    assert code == 1
    statuses = {r["status"] for r in json.loads((out_dir / "results.json").read_text())["results"]}
    assert statuses == {"missing-pin"}
    code, out, _ = run(["pins", "update", *IDS, "--pins", str(pins)], capsys)
    assert code == 1 and "+ hidden: new pin" in out
    code, out, _ = run(["pins", "update", *IDS, "--pins", str(pins)], capsys)
    assert code == 0 and "feed_forward: unchanged" in out
    code, out, _ = run(["check", *IDS, "--pins", str(pins), "--out", str(out_dir), "--quiet"], capsys)
    assert code == 0, out


def test_drifted_pin_fails_check_and_update_shows_the_ulps(pins_dir, tmp_path, capsys):
    path = pins_dir / "losses.json"
    data = json.loads(path.read_text())
    data["quantities"]["mse"]["value"] = float(np.nextafter(data["quantities"]["mse"]["value"], 1.0))
    path.write_text(json.dumps(data))
    code, out, _ = run(["check", "losses", "--pins", str(pins_dir), "--out", str(tmp_path / "o"), "--quiet"], capsys)
    assert code == 1 and "losses:mse" in out and "exact" in out
    code, out, _ = run(["pins", "update", "losses", "--pins", str(pins_dir)], capsys)
    assert code == 1 and "~ mse: 1 of 1 values changed, max 1 ULP" in out
    code, _, _ = run(["check", "losses", "--pins", str(pins_dir), "--out", str(tmp_path / "o"), "--quiet"], capsys)
    assert code == 0


def test_unknown_id_exits_2_and_lists_valid_ids(tmp_path, capsys):
    code, _, err = run(["check", "no_such_example", "--out", str(tmp_path)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "'no_such_example'" in err and "toy_backprop" in err


def _corrupt(path, how):
    text = path.read_text()
    data = json.loads(text)
    if how == "truncated":
        path.write_text(text[: len(text) // 2])
    elif how == "not-json":
        path.write_text("this is not json")
    elif how == "missing-key":
        del data["quantities"]["hidden"]["value"]
        path.write_text(json.dumps(data))
    elif how == "nan":
        path.write_text(text.replace(str(data["quantities"]["loss"]["value"]), "NaN", 1))
    elif how == "null":
        data["quantities"]["loss"]["value"] = None
        path.write_text(json.dumps(data))
    elif how == "bad-policy":
        data["quantities"]["loss"]["policy"] = "close:rtol=-1,atol=0"
        path.write_text(json.dumps(data))
    elif how == "wrong-shape":
        data["quantities"]["hidden"]["shape"] = [4]
        path.write_text(json.dumps(data))
    elif how == "wrong-example":
        data["example"] = "losses"
        path.write_text(json.dumps(data))


@pytest.mark.parametrize("how,needle", [("truncated", "not valid JSON"), ("not-json", "not valid JSON"),
                                        ("missing-key", "quantities.hidden"), ("nan", "NaN"),
                                        ("null", "quantities.loss.value"), ("bad-policy", "quantities.loss.policy"),
                                        ("wrong-shape", "quantities.hidden.value"), ("wrong-example", "example")])
def test_broken_pin_exits_2_naming_file_and_key(pins_dir, tmp_path, capsys, how, needle):
    path = pins_dir / "feed_forward.json"
    _corrupt(path, how)
    before = path.read_bytes()
    out_dir = tmp_path / "o"
    code, out, err = run(["check", "feed_forward", "--pins", str(pins_dir), "--out", str(out_dir)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and str(path) in err and needle in err and "pins update" in err
    assert path.read_bytes() == before
    assert not (out_dir / "results.json").exists()


def test_orphaned_pin_exits_2(pins_dir, tmp_path, capsys):
    shutil.copy(pins_dir / "losses.json", pins_dir / "retired_example.json")
    code, _, err = run(["check", "losses", "--pins", str(pins_dir), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "retired_example.json" in err and "orphaned" in err


def test_unwritable_out_exits_2(pins_dir, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run(["check", "losses", "--pins", str(pins_dir), "--out", str(blocker / "sub")], capsys)
    assert code == 2 and "--out" in err and str(blocker / "sub") in err


def test_check_writes_results_and_csv(pins_dir, tmp_path, capsys):
    out_dir = tmp_path / "o"
    code, out, _ = run(["check", *IDS, "--pins", str(pins_dir), "--out", str(out_dir), "--quiet"], capsys)
    assert code == 0
    record = json.loads((out_dir / "results.json").read_text())
    assert record["schema_version"] == 1
    assert {"python", "numpy", "platform", "cpu", "simd", "blas", "git_commit", "created"} <= set(record["environment"])
    lines = (out_dir / "comparison.csv").read_text().splitlines()
    assert lines[0].startswith("example,quantity,dtype,shape,policy,status")
    assert len(lines) == 1 + len(record["results"])


def test_list_names_every_example(capsys):
    code, out, _ = run(["list"], capsys)
    assert code == 0
    for example_id in ("feed_forward", "cavar_hidden_layer", "learning_rate"):
        assert f"{example_id}:" in out
