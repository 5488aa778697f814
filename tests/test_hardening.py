"""Bad input never corrupts pins or reports; pin updates survive being killed; check notes foreign environments."""

import json
import shutil
import signal
import subprocess
import sys
import time

import pytest

from backprop_repro.cli.commands import main

from .conftest import PINS_DIR, ROOT


@pytest.fixture
def pins_dir(tmp_path):
    d = tmp_path / "pins"
    d.mkdir()
    for name in ("feed_forward", "losses"):
        shutil.copy(PINS_DIR / f"{name}.json", d)
    return d


def _edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


CASES = {
    "missing-quantity": (lambda d: d["quantities"].pop("loss"), "lacks quantity 'loss'"),
    "extra-quantity": (lambda d: d["quantities"].__setitem__("bogus", dict(d["quantities"]["loss"])),
                       "has quantity 'bogus'"),
    "unsupported-dtype": (lambda d: d["quantities"]["loss"].__setitem__("dtype", "complex128"), "unsupported dtype"),
    "shape-not-a-list": (lambda d: d["quantities"]["hidden"].__setitem__("shape", "3"), "shape must be a list"),
    "policy-not-text": (lambda d: d["quantities"]["loss"].__setitem__("policy", 4), "quantities.loss.policy"),
    "schema-version": (lambda d: d.__setitem__("schema_version", 99), "schema_version"),
    "quantities-not-object": (lambda d: d.__setitem__("quantities", []), "quantities"),
    "record-not-object": (lambda d: d["quantities"].__setitem__("loss", 1.0), "quantities.loss"),
    "value-text-for-number": (lambda d: d["quantities"]["loss"].__setitem__("value", "1.5"), "quantities.loss.value"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hand_broken_pin_exits_2_and_changes_nothing(pins_dir, tmp_path, capsys, case):
    change, needle = CASES[case]
    path = pins_dir / "feed_forward.json"
    _edit(path, change)
    before = {p.name: p.read_bytes() for p in pins_dir.iterdir()}
    out = tmp_path / "out"
    code = main(["check", "--pins", str(pins_dir), "--out", str(out), "--quiet", "feed_forward", "losses"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and str(path) in err and needle in err
    assert {p.name: p.read_bytes() for p in pins_dir.iterdir()} == before
    assert not (out / "results.json").exists() and not (out / "index.html").exists()


def test_infinity_in_a_pin_is_refused(pins_dir, tmp_path, capsys):
    path = pins_dir / "feed_forward.json"
    text = path.read_text()
    value = str(json.loads(text)["quantities"]["loss"]["value"])
    path.write_text(text.replace(value, "Infinity", 1))
    assert main(["check", "feed_forward", "--pins", str(pins_dir), "--out", str(tmp_path / "o")]) == 2
    assert "Infinity" in capsys.readouterr().err


def test_bad_repeat_and_unknown_command_inputs(tmp_path, capsys):
    assert main(["check", "--repeat", "0", "--out", str(tmp_path)]) == 2
    assert "--repeat 0" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2       # argparse's usage error: exit 2, never a traceback


def test_check_notes_a_foreign_environment_and_still_judges_by_policy(pins_dir, tmp_path, capsys):
    _edit(pins_dir / "losses.json", lambda d: d["provenance"].update(numpy="0.0.test", python="2.0.test"))
    code = main(["check", "feed_forward", "losses", "--pins", str(pins_dir), "--out", str(tmp_path / "o"),
                 "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "pins were made under" in out and "0.0.test (losses)" in out and "2.0.test (losses)" in out
    env = json.loads((tmp_path / "o" / "results.json").read_text())["environment"]
    assert env["differs_from_pins"]["numpy"]["pins"]["0.0.test"] == ["losses"]
    assert "differs from the pins" in (tmp_path / "o" / "index.html").read_text()


def test_pins_update_only_touches_the_ids_asked(pins_dir, capsys):
    _edit(pins_dir / "losses.json", lambda d: d["quantities"]["mse"].__setitem__("value", 0.5))
    _edit(pins_dir / "feed_forward.json", lambda d: d["quantities"]["loss"].__setitem__("value", 0.5))
    ff_before = (pins_dir / "feed_forward.json").read_bytes()
    assert main(["pins", "update", "losses", "--pins", str(pins_dir)]) == 1
    out = capsys.readouterr().out
    assert "~ mse: 1 of 1 values changed" in out and "0.5 ->" in out
    assert (pins_dir / "feed_forward.json").read_bytes() == ff_before


@pytest.mark.slow
def test_killed_pin_update_leaves_every_pin_whole(tmp_path):
    """Kill `pins update` at several moments: every pin file is always the old or the new one, never half."""
    pins = tmp_path / "pins"
    shutil.copytree(PINS_DIR, pins)
    originals = {p.name: p.read_bytes() for p in pins.glob("*.json")}
    for delay in (0.4, 0.8, 1.2, 1.6):
        for path in pins.glob("*.json"):    # stale pins, so that the update rewrites every file
            _edit(path, lambda d: d["provenance"].update(command="stale") or
                  [q.__setitem__("reason", q["reason"] + " (stale)") for q in d["quantities"].values()])
        proc = subprocess.Popen([sys.executable, "-m", "backprop_repro", "pins", "update", "--pins", str(pins)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for path in pins.glob("*.json"):
            data = json.loads(path.read_text())       # whole JSON, old or new
            reasons = {q["reason"].endswith("(stale)") for q in data["quantities"].values()}
            assert len(reasons) == 1, f"{path.name} mixes old and new"
    main(["pins", "update", "--pins", str(pins)])
    reasons = {p.name: {k: q["reason"] for k, q in json.loads(p.read_bytes())["quantities"].items()}
               for p in pins.glob("*.json")}
    assert reasons == {n: {k: q["reason"] for k, q in json.loads(b)["quantities"].items()}
                       for n, b in originals.items()}     # every file completed by the final, unkilled update
    leftovers = [p for p in pins.iterdir() if p.suffix == ".tmp"]
    assert all(p.name.startswith(".") for p in leftovers)      # hidden temp files only, never read as pins


def test_pins_update_refuses_nan_and_keeps_the_old_pin(pins_dir, monkeypatch, capsys):
    from reference_impl.examples import feed_forward

    real = feed_forward.run
    monkeypatch.setattr(feed_forward, "run", lambda: {**real(), "loss": float("nan")})
    before = (pins_dir / "feed_forward.json").read_bytes()
    assert main(["pins", "update", "feed_forward", "--pins", str(pins_dir)]) == 2
    err = capsys.readouterr().err
    assert "feed_forward:loss" in err and "NaN" in err and err.count("\n") == 1
    assert (pins_dir / "feed_forward.json").read_bytes() == before


def test_nan_from_an_example_fails_check_not_crashes(pins_dir, monkeypatch, tmp_path, capsys):
    from reference_impl.examples import feed_forward

    real = feed_forward.run
    monkeypatch.setattr(feed_forward, "run", lambda: {**real(), "loss": float("nan")})
    assert main(["check", "feed_forward", "--pins", str(pins_dir), "--out", str(tmp_path / "o"), "--quiet"]) == 1
    assert "feed_forward:loss" in capsys.readouterr().out
    assert json.loads((tmp_path / "o" / "results.json").read_text())["schema_version"] == 1


def test_a_failed_probe_process_is_one_line_exit_1(pins_dir, tmp_path, monkeypatch, capsys):
    from backprop_repro.sources import probe
    from backprop_repro.core.errors import RunFailed

    with pytest.raises(RunFailed, match="probe process 1 failed"):
        probe.repeat(["no_such_example"], 1)
    monkeypatch.setattr(probe, "repeat", lambda *a, **k: (_ for _ in ()).throw(RunFailed("probe process 2 failed")))
    code = main(["check", "losses", "--repeat", "2", "--pins", str(pins_dir), "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "probe process 2 failed" in err


@pytest.mark.parametrize("change, code", [({"actual": [1.0, 2.0]}, 1), ({"dtype": "complex128"}, 2),
                                          ({"dtype": "int64", "actual": ["x"]}, 2), ({"dtype": "object"}, 2)])
def test_compare_of_a_changed_shape_or_a_foreign_dtype_is_a_verdict_or_bad_input(tmp_path, capsys, change, code):
    import json

    assert main(["check", "feed_forward", "--quiet", "--jobs", "1", "--no-report", "--out", str(tmp_path / "a")]) == 0
    record = json.loads((tmp_path / "a" / "results.json").read_text())
    next(r for r in record["results"] if r["quantity"] == "hidden").update(change)
    (tmp_path / "b.json").write_text(json.dumps(record))
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b.json"), "--out", str(tmp_path / "c")]) == code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if code == 2:
        assert captured.err.count("\n") == 1 and "feed_forward:hidden" in captured.err
    else:
        assert "1 out of tolerance" in captured.out
