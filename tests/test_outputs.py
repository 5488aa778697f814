"""Outputs as one unit: staging and swap, carried-over files of other commands, a lock against concurrent
runs, full disks and interruptions that leave the previous complete set."""

import errno
import json
import signal
import subprocess
import sys
import time

import pytest

from repro import atomic, report
from repro.cli import main
from repro.outputs import output_set

from .conftest import ROOT


def _same_run(out):
    """results.json and index.html of ``out`` come from one run (the created stamp of one is in the other)."""
    created = json.loads((out / "results.json").read_text())["environment"]["created"]
    return created in (out / "index.html").read_text()


@pytest.fixture
def previous(tmp_path):
    out = tmp_path / "out"
    assert main(["check", "feed_forward", "--out", str(out), "--quiet"]) == 0
    return out, {p.name: p.read_bytes() for p in out.iterdir()}


def _unchanged(out, before):
    return {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_interrupted_report_leaves_the_previous_complete_set(previous, monkeypatch):
    out, before = previous

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "write_report", interrupted)
    assert main(["check", "feed_forward", "--out", str(out), "--quiet"]) == 130
    assert _unchanged(out, before) and _same_run(out)
    assert not [p for p in out.parent.iterdir() if ".staging-" in p.name]


def test_full_disk_is_bad_input_and_keeps_the_previous_set(previous, monkeypatch, capsys):
    out, before = previous
    real = atomic.write_text

    def full(path, text):
        if path.name == "index.html":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, text)

    monkeypatch.setattr(atomic, "write_text", full)
    assert main(["check", "feed_forward", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no space left" in err and str(out) in err and err.count("\n") == 1 and "Traceback" not in err
    assert _unchanged(out, before)


def test_other_commands_files_are_kept_and_a_stale_report_is_dropped(previous):
    out, _ = previous
    (out / "bench.csv").write_text("network\n")
    assert main(["check", "feed_forward", "--out", str(out), "--quiet", "--no-report"]) == 0
    names = {p.name for p in out.iterdir()}
    assert "bench.csv" in names and "results.json" in names and "index.html" not in names


def test_a_concurrent_run_on_the_same_folder_is_bad_input(previous, capsys):
    from filelock import FileLock

    out, before = previous
    with FileLock(str(out.parent / f".{out.name}.lock")):
        assert main(["check", "feed_forward", "--out", str(out), "--quiet"]) == 2
    assert "another backprop-repro run" in capsys.readouterr().err and _unchanged(out, before)


def test_a_swap_cut_between_its_renames_is_repaired_by_the_next_run(tmp_path):
    out = tmp_path / "out"
    previous = tmp_path / ".out.previous"
    previous.mkdir()
    (previous / "results.json").write_text("{}")
    with output_set(out, ("results.json",)) as staging:
        assert (out / "results.json").read_text() == "{}"      # restored before the new set is staged
        (staging / "results.json").write_text('{"new": 1}')
    assert json.loads((out / "results.json").read_text()) == {"new": 1} and not previous.exists()


@pytest.mark.parametrize("delay", [0.8, pytest.param(1.6, marks=pytest.mark.slow), 2.4,
                                   pytest.param(3.2, marks=pytest.mark.slow)])
def test_ctrl_c_at_any_point_of_check_leaves_a_whole_folder(previous, delay):
    out, before = previous
    proc = subprocess.Popen([sys.executable, "-m", "repro", "check", "--out", str(out), "--quiet"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 130), err
    assert "Traceback" not in err
    assert _same_run(out)                     # the old set or the new one, never a mix
    if proc.returncode == 130:
        assert _unchanged(out, before)
    assert not [p for p in out.parent.iterdir() if ".staging-" in p.name]


@pytest.mark.slow
def test_a_partial_sweep_never_replaces_a_complete_one(tmp_path):
    pins = tmp_path / "pins"
    pins.mkdir()
    out = tmp_path / "o"
    assert main(["sweep", "xor_341", "--seeds", "200", "--out", str(out), "--pins", str(pins), "--no-progress",
                 "--update-pin"]) == 1
    complete = (out / "sweep-xor_341.json").read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "repro", "sweep", "xor_341", "--seeds", "100000", "--no-progress",
                             "--out", str(out), "--pins", str(pins)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(3.0)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert (out / "sweep-xor_341.json").read_bytes() == complete
    partial = json.loads((out / "sweep-xor_341.partial.json").read_text())
    assert partial["sweeps"][0]["partial"]
