"""A closed stdout or stderr (`>&-`, `2>&-`: Python starts with sys.stdout or sys.stderr None) is treated like a
broken pipe: the command runs to its end, exits with its verdict's code and prints no traceback; nothing meant for
stderr lands on stdout; a pin update finishes every pin."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backprop_repro.cli.commands import main

from .conftest import PINS_DIR, ROOT

NOTEBOOK = ROOT / "tests" / "notebooks" / "exact.ipynb"
SCRIPT = Path(sys.executable).parent / ("backprop-repro.exe" if os.name == "nt" else "backprop-repro")


def _closed(args, close=">&-", program=(sys.executable, "-m", "backprop_repro"), cwd=ROOT):
    """Run the program with the shell closing its stdout (``>&-``), stderr (``2>&-``) or both before exec; the
    other stream is captured. Returns (exit code, captured stream text)."""
    keep = "stderr" if close == ">&-" else "stdout"
    done = subprocess.run(["/bin/sh", "-c", f'exec {close}; exec "$0" "$@"', *program, *args], cwd=cwd,
                          stdout=subprocess.PIPE if keep == "stdout" else None,
                          stderr=subprocess.PIPE if keep == "stderr" else None, text=True, timeout=300)
    return done.returncode, done.stdout if keep == "stdout" else done.stderr


def _no_traceback(text):
    assert "Traceback" not in text and "Exception ignored" not in text and "AttributeError" not in text, text


@pytest.fixture
def results_file(tmp_path):
    assert main(["check", "feed_forward", "--out", str(tmp_path / "r"), "--quiet", "--no-report"]) == 0
    return tmp_path / "r" / "results.json"


@pytest.fixture
def failing_pins(tmp_path):
    pins = tmp_path / "failing-pins"
    shutil.copytree(PINS_DIR, pins)
    data = json.loads((pins / "feed_forward.json").read_text())
    data["quantities"]["loss"]["value"] *= 1.01          # far outside ulp:16
    (pins / "feed_forward.json").write_text(json.dumps(data))
    return pins


@pytest.mark.parametrize("command,code", [
    (["list"], 0),
    (["check", "feed_forward", "--no-report"], 0),
    (["sweep", "xor_341", "--seeds", "300"], 0),
    (["notebook", str(NOTEBOOK)], 0),
    (["check", "no_such_example"], 2),
])
def test_closed_stdout_keeps_the_exit_code(tmp_path, command, code):
    out = ["--out", str(tmp_path / "o")] if command[0] != "list" else []
    got, err = _closed(command + out)
    assert got == code, err
    _no_traceback(err)
    if code == 2:
        assert err.count("\n") == 1 and "no_such_example" in err


def test_closed_stdout_compare_keeps_the_exit_code(tmp_path, results_file):
    got, err = _closed(["compare", str(results_file), str(results_file), "--out", str(tmp_path / "o")])
    assert got == 0, err
    _no_traceback(err)
    assert (tmp_path / "o" / "drift.csv").is_file()


def test_closed_stdout_keeps_a_failing_check_failing(tmp_path, failing_pins):
    got, err = _closed(["check", "feed_forward", "--pins", str(failing_pins), "--out", str(tmp_path / "o"),
                        "--no-report"])
    assert got == 1, err
    _no_traceback(err)
    record = json.loads((tmp_path / "o" / "results.json").read_text())
    assert record["exit_status"] == 1


def test_closed_stdout_through_the_console_script(tmp_path, failing_pins):
    assert SCRIPT.is_file(), f"the package's console script is not installed beside {sys.executable}"
    got, err = _closed(["check", "feed_forward", "--pins", str(failing_pins), "--out", str(tmp_path / "o"),
                        "--no-report"], program=(str(SCRIPT),))
    assert got == 1, err
    _no_traceback(err)


def test_closed_stdout_never_stops_a_pin_update_half_way(tmp_path):
    pins = tmp_path / "pins"
    shutil.copytree(PINS_DIR, pins)
    for name in ("feed_forward", "activations"):      # both pins need rewriting
        data = json.loads((pins / f"{name}.json").read_text())
        first = next(iter(data["quantities"]))
        data["quantities"][first]["reason"] = "edited"
        (pins / f"{name}.json").write_text(json.dumps(data))
    got, err = _closed(["pins", "update", "feed_forward", "activations", "--pins", str(pins)])
    assert got == 1, err                               # pins changed: exit 1, as with an open stdout
    _no_traceback(err)
    assert all("edited" not in (pins / f"{n}.json").read_text() for n in ("feed_forward", "activations"))


@pytest.mark.parametrize("close", ["2>&-", "2>&- >&-"])
def test_closed_stderr_keeps_the_exit_code(tmp_path, failing_pins, close):
    got, out = _closed(["check", "feed_forward", "--pins", str(failing_pins), "--out", str(tmp_path / "o"),
                        "--no-report"], close=close)
    assert got == 1
    if close == "2>&-":
        assert "FAIL: regression" in out and "running 1 example" not in out   # progress is stderr's, not stdout's
    got, out = _closed(["sweep", "xor_341", "--seeds", "300", "--out", str(tmp_path / "s")], close=close)
    assert got == 0                                    # the progress bar (stderr) finds no stream and stays off


def test_bad_input_with_stderr_closed_is_still_2_and_stays_off_stdout(tmp_path):
    got, out = _closed(["check", "no_such_example", "--out", str(tmp_path / "o")], close="2>&-")
    assert got == 2 and out == ""


def test_a_stream_closed_at_start_gets_dev_null_so_files_never_take_its_descriptor(tmp_path):
    probe = ("import os, sys; from backprop_repro.cli.startup import fill_closed_std_fds; closed = fill_closed_std_fds(); "
             "fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT); sys.stderr.write(f'{closed} {fd}')")
    done = subprocess.run(["/bin/sh", "-c", 'exec >&-; exec "$0" "$@"', sys.executable, "-c", probe,
                           str(tmp_path / "f")], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "[1] 3", done.stderr
    unguarded = subprocess.run(["/bin/sh", "-c", 'exec >&-; exec "$0" "$@"', sys.executable, "-c",
                                "import os, sys; sys.stderr.write(str(os.open(sys.argv[1], os.O_WRONLY | "
                                "os.O_CREAT)))", str(tmp_path / "g")], capture_output=True, text=True)
    assert unguarded.stderr == "1"                     # what the guard prevents: a file opened as fd 1


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_main_in_process_with_a_missing_stream(monkeypatch, capsys, tmp_path, failing_pins, stream):
    monkeypatch.setattr(sys, stream, None)
    assert main(["list"]) == 0
    assert main(["check", "feed_forward", "--pins", str(failing_pins), "--out", str(tmp_path / "o"),
                 "--no-report"]) == 1
    assert main(["check", "no_such_example", "--out", str(tmp_path / "o")]) == 2
    assert getattr(sys, stream) is None                # restored as found
    if stream == "stderr":                             # print(file=None) would have written to stdout
        assert "no_such_example" not in capsys.readouterr().out


# A read-only destination. chmod does not stop root (CAP_DAC_OVERRIDE), so as root the command runs with that
# capability dropped from its bounding set: the kernel then checks the mode bits for it as for anyone else.
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE = 24, 1


def _without_dac_override():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE)")


def run_read_only(args, folders, cwd=ROOT):
    """Run ``python -m backprop_repro ARGS`` with ``folders`` read-only (mode 0555) and effective for root too;
    (exit code, stderr)."""
    for folder in folders:
        os.chmod(folder, 0o555)
    try:
        done = subprocess.run([sys.executable, "-m", "backprop_repro", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=300, preexec_fn=_without_dac_override if os.geteuid() == 0 else None)
    finally:
        for folder in folders:
            os.chmod(folder, 0o755)
    return done.returncode, done.stderr


def _pins_needing_an_update(tmp_path):
    pins = tmp_path / "pins"
    shutil.copytree(PINS_DIR, pins)
    data = json.loads((pins / "feed_forward.json").read_text())
    data["quantities"]["loss"]["reason"] = "edited"     # the update must rewrite this pin
    (pins / "feed_forward.json").write_text(json.dumps(data))
    return pins


def test_pins_update_into_a_read_only_pin_folder_is_bad_input_naming_it(tmp_path):
    pins = _pins_needing_an_update(tmp_path)
    before = {p.name: p.read_bytes() for p in pins.iterdir() if p.is_file()}
    code, err = run_read_only(["pins", "update", "feed_forward", "activations", "--pins", str(pins)], [pins])
    assert code == 2, err
    assert err.count("\n") == 1 and str(pins) in err and ".tmp" not in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in pins.iterdir() if p.is_file()} == before


def test_the_same_update_in_a_writable_folder_rewrites_the_pin(tmp_path):
    """The other side, under the same privileges: the refusal above comes from the folder's mode alone."""
    pins = _pins_needing_an_update(tmp_path)
    done = subprocess.run([sys.executable, "-m", "backprop_repro", "pins", "update", "feed_forward", "--pins", str(pins)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          preexec_fn=_without_dac_override if os.geteuid() == 0 else None)
    assert done.returncode == 1, done.stderr
    assert "edited" not in (pins / "feed_forward.json").read_text()
