"""`backprop-repro notebook` over corpora (issue 21): --jobs gives the files of --jobs 1, in the inputs' order;
Ctrl-C leaves no worker or kernel; a worker killed by a notebook is charged to it; the journal makes a killed run
resumable and --resume reuses only unchanged entries; the corpus summary; --dask (local cluster, hard timeout inside
the task, lost workers, the worker's environment) and its absence."""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from backprop_repro.cli.commands import main
from backprop_repro.notebooks import corpus as C
from backprop_repro.notebooks import judge as N
from backprop_repro.notebooks.render import write_outputs

from .conftest import PYTEST_CHILD

PROGRAM = [sys.executable, "-m", "backprop_repro"]
TIMINGS = {"seconds_executing", "seconds_comparing", "seconds_total", "seconds_median", "seconds_wall", "created"}
OPTIONS = {"runs": 1, "timeout": 120.0, "cosmetic": (), "strict_digits": False, "images": None, "stat_runs": 5}


def notebook(path, *cells):
    """Write a notebook of (source, stored stdout or None) code cells."""
    doc = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
                      "outputs": [] if out is None else [{"name": "stdout", "output_type": "stream", "text": [out]}],
                      "source": source} for i, (source, out) in enumerate(cells)],
           "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
           "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def corpus(folder):
    """Four small notebooks, one of each verdict, named so that their sorted order is not the order given."""
    folder.mkdir(exist_ok=True)
    return [notebook(folder / "d_ok.ipynb", ("print(round(2 / 3, 6))", "0.666667\n")),
            notebook(folder / "a_digit.ipynb", ("print(2.5 * 3)", "7.6\n")),
            notebook(folder / "c_missing.ipynb", ("import not_a_module_xyz\nprint(1)", "1\n")),
            notebook(folder / "b_empty.ipynb", ("print(45)", None))]


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def _descendants(pid):
    """Every process under ``pid`` (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parents.setdefault(int(fields[1]), []).append(int(entry))
            except OSError:
                pass
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# --- --jobs ---------------------------------------------------------------------------------------------------

def test_jobs_2_writes_the_files_of_jobs_1_in_the_order_given(tmp_path, capsys):
    paths = corpus(tmp_path / "nb")
    outs = {}
    for jobs in ("1", "2"):
        outs[jobs] = tmp_path / f"o{jobs}"
        assert main(["notebook", *map(str, paths), "--runs", "1", "--jobs", jobs, "--out", str(outs[jobs]),
                     "--quiet"]) == 1
    printed = capsys.readouterr().out
    one, two = (json.loads((outs[j] / "notebooks.json").read_text()) for j in ("1", "2"))
    assert [nb["path"] for nb in two["notebooks"]] == [str(p) for p in paths]
    assert strip(one) == strip(two)
    assert (outs["1"] / "notebook_numbers.csv").read_bytes() == (outs["2"] / "notebook_numbers.csv").read_bytes()
    html = [re.sub(r'<td class="seconds_\w+">[^<]*</td>', "", (outs[j] / "notebooks.html").read_text())
            for j in ("1", "2")]
    assert html[0] == html[1]
    assert [nb["verdict"] for nb in two["notebooks"]] == ["reproduced", "not-reproduced", "crashed",
                                                           "no-stored-outputs"]
    s = two["summary"]
    assert {k: s[k] for k in ("found", "valid", "run", "skipped", "with_stored_outputs", "ran_without_error",
                              "reproduced", "reproduced_statistically", "not_reproduced", "no_stored_outputs",
                              "crashed", "timed_out", "numbers_stored", "numbers_compared")} == {
        "found": 4, "valid": 4, "run": 4, "skipped": 0, "with_stored_outputs": 3, "ran_without_error": 3,
        "reproduced": 1, "reproduced_statistically": 0, "not_reproduced": 1, "no_stored_outputs": 1, "crashed": 1,
        "timed_out": 0, "numbers_stored": 3, "numbers_compared": 2}
    assert s["crashed_by_cause"] == {"missing-module": 1} and s["missing_modules"] == {"not_a_module_xyz": 1}
    assert s["seconds_total"] > 0 and s["seconds_median"] > 0
    assert "corpus: 4 notebooks found" in printed and "missing modules: 1 not_a_module_xyz" in printed
    assert '<td class="crashed_by_cause">' not in html[1] and "1 not_a_module_xyz" in html[1]
    assert not (outs["2"] / C.JOURNAL).exists()          # a published run's journal is gone


def test_records_read_back_from_the_journal_write_the_same_files(tmp_path):
    paths = corpus(tmp_path / "nb")
    runs = []
    for resume in (False, True):
        check_all, state = C.checker(tmp_path / "o", jobs=2, resume=resume)
        runs.append(check_all(paths, OPTIONS, {"numpy": "x"}, None))
    assert state["reused"] == 4
    for i, records in enumerate(runs):
        (tmp_path / f"w{i}").mkdir()
        write_outputs({"notebooks": records, "environment": {}, "runs": 1, "summary": C.summary(records)},
                      tmp_path / f"w{i}")
    for name in ("notebooks.json", "notebook_numbers.csv", "notebooks.html"):
        assert (tmp_path / "w0" / name).read_bytes() == (tmp_path / "w1" / name).read_bytes()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig, where", [(signal.SIGINT, []), (signal.SIGTERM, []),
                                        (signal.SIGINT, ["--dask", "local"])])
def test_an_interrupt_with_jobs_is_130_and_leaves_no_worker_or_kernel(tmp_path, sig, where):
    paths = [notebook(tmp_path / f"hang{i}.ipynb", ("import time\ntime.sleep(600)", None)) for i in range(3)]
    proc = subprocess.Popen([*PROGRAM, "notebook", *map(str, paths), *where, "--jobs", "2", "--runs", "1", "--timeout",
                             "900", "--out", str(tmp_path / "o"), "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline, kernels = time.monotonic() + 90, []
    while len(kernels) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        kernels = [p for p in _descendants(proc.pid) if "ipykernel_launcher" in _cmdline(p)]
    assert len(kernels) == 2, "the two kernels did not start"
    time.sleep(1.0)
    everything = _descendants(proc.pid)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err and err.decode().count("\n") == 1
    # kernels, workers, the fork server and the resource tracker: stopped before the tool exits, not left to time
    assert not [(p, _cmdline(p)) for p in everything if _alive(p)]
    assert not (tmp_path / "o" / "notebooks.json").exists()


def test_a_notebook_that_kills_its_worker_is_crashed_and_the_others_are_not(tmp_path):
    """It runs beside another first (not charged), then alone twice: retries 1 means 2 lost workers."""
    killer = notebook(tmp_path / "killer.ipynb", ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", None))
    ok = [notebook(tmp_path / f"ok{i}.ipynb", ("print(1.5)", "1.5\n")) for i in range(2)]
    check_all, _ = C.checker(None, jobs=2, retries=1)
    records = check_all([ok[0], killer, ok[1]], OPTIONS, {}, None)
    assert [r["verdict"] for r in records] == ["reproduced", "crashed", "reproduced"]
    assert records[1]["cause"] == C.KILLED_WORKER and "2 time(s)" in records[1]["cause_detail"], records[1]


# --- journal and --resume ---------------------------------------------------------------------------------------

def _stub(calls):
    def check(path, **options):
        calls.append(str(path))
        return {**N._not_run(path, None), "verdict": "reproduced", "reason": None, "stored_outputs": True,
                "numbers_stored": 1, "numbers": [{"cell": 0, "stored": "1.5", "fresh": "1.5", "kind": "reproduced",
                                                  "output": "stream:stdout", "fresh_runs": ["1.5"]}],
                "cells": [{"cell": 0, "source": "print(1.5)", "stored": [("stream:stdout", "text", "1.5\n")],
                           "fresh": [("stream:stdout", "text", "1.5\n")], "ignored": False}]}
    return check


def test_resume_reuses_only_entries_whose_notebook_options_and_tool_are_unchanged(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(N, "check_notebook", _stub(calls))
    a, b = (notebook(tmp_path / f"{n}.ipynb", ("print(1.5)", "1.5\n")) for n in "ab")
    out = tmp_path / "o"

    def run(resume, options=OPTIONS):
        calls.clear()
        check_all, state = C.checker(out, jobs=1, resume=resume)
        return check_all([a, b], options, {"numpy": "2.0"}, None), list(calls), state

    first, ran, _ = run(False)
    assert ran == [str(a), str(b)] and len(list((out / C.JOURNAL).glob("*.json"))) == 2
    again, ran, state = run(True)
    assert ran == [] and state["reused"] == 2
    for i, records in enumerate((first, again)):          # the same files from journalled records
        (tmp_path / f"w{i}").mkdir()
        write_outputs({"notebooks": records, "environment": {}, "runs": 1}, tmp_path / f"w{i}")
    for name in ("notebooks.json", "notebook_numbers.csv", "notebooks.html"):
        assert (tmp_path / "w0" / name).read_bytes() == (tmp_path / "w1" / name).read_bytes()
    assert run(False)[1] == [str(a), str(b)]               # without --resume everything runs
    notebook(b, ("print(1.5)\n", "1.5\n"))                 # changed contents
    assert run(True)[1] == [str(b)]
    assert run(True, {**OPTIONS, "timeout": 60.0})[1] == [str(a), str(b)]     # other options
    monkeypatch.setattr("backprop_repro.__version__", "9.9.9")
    assert run(True)[1] == [str(a), str(b)]                # another tool version
    monkeypatch.undo()
    monkeypatch.setattr(N, "check_notebook", _stub(calls))
    for entry in (out / C.JOURNAL).glob("*.json"):
        entry.write_text("{not json")                      # a torn or foreign entry is run again, not trusted
    assert run(True)[1] == [str(a), str(b)]


def test_the_environment_is_in_the_key():
    one = C.Journal("/tmp", OPTIONS, {"numpy": "1.26.4"})
    two = C.Journal("/tmp", OPTIONS, {"numpy": "2.0.0"})
    assert one.key(__file__) != two.key(__file__)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_loses_only_the_notebook_in_flight_and_resume_runs_only_it(tmp_path):
    paths = corpus(tmp_path / "nb")[:2]
    hold = tmp_path / "nb" / "hold"
    hold.write_text("")
    waits = notebook(tmp_path / "nb" / "e_waits.ipynb",
                     ("import os, time\nwhile os.path.exists('hold'):\n    time.sleep(0.1)\nprint(1.5)", "1.5\n"))
    argv = [*PROGRAM, "notebook", *map(str, paths), str(waits), "--jobs", "1", "--runs", "1", "--out",
            str(tmp_path / "o")]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = tmp_path / "o" / C.JOURNAL
    deadline = time.monotonic() + 90
    while len(list(journal.glob("*.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(list(journal.glob("*.json"))) == 2
    for pid in [*_descendants(proc.pid), proc.pid]:        # the machine goes down: everything killed at once
        os.kill(pid, signal.SIGKILL)
    proc.wait()
    hold.unlink()
    done = subprocess.run([*argv, "--resume"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("(from the journal)") == 2
    assert re.findall(r"\[\d/3\] (\S+): (\S+)$", done.stderr, re.M)[-1] == (str(waits), "reproduced")
    assert "2 reused from the journal" in done.stdout
    record = json.loads((tmp_path / "o" / "notebooks.json").read_text())
    assert [nb["verdict"] for nb in record["notebooks"]] == ["reproduced", "not-reproduced", "reproduced"]
    assert not journal.exists() and not list((tmp_path / "o").glob(".backprop-repro-*"))


# --- summary --------------------------------------------------------------------------------------------------

def test_the_summary_counts_as_the_studies_do():
    def rec(verdict, cause=None, error=None, stored=True, seconds=1.0, numbers=(2, 2, 1)):
        return {"verdict": verdict, "cause": cause, "stored_outputs": stored, "seconds_executing": seconds,
                "seconds_comparing": 0.0, "numbers_stored": numbers[0], "numbers_compared": numbers[1],
                "numbers_reproduced": numbers[2],
                "failures": [{"cause": cause, "error": error}] if error else []}
    s = C.summary([rec("reproduced"), rec("reproduced-statistically", seconds=3.0),
                   rec("crashed", "missing-module", "ModuleNotFoundError: No module named 'torch.nn'"),
                   rec("crashed", "missing-module", "ModuleNotFoundError: No module named 'torch'"),
                   rec("crashed", "timeout", seconds=9.0), rec("not-run", stored=False, seconds=0.0),
                   rec("no-stored-outputs", stored=False, numbers=(0, 0, 0))], ["x: listed twice"], 12.5)
    assert s == {"found": 7, "valid": 7, "passed_over": 1, "skipped": 1, "run": 6, "with_stored_outputs": 5,
                 "ran_without_error": 3, "reproduced": 1, "reproduced_statistically": 1, "not_reproduced": 0,
                 "no_stored_outputs": 1, "crashed": 3, "timed_out": 1,
                 "crashed_by_cause": {"missing-module": 2, "timeout": 1}, "missing_modules": {"torch": 2},
                 "numbers_stored": 12, "numbers_compared": 12, "numbers_reproduced": 6, "seconds_total": 16.0,
                 "seconds_median": 1.0, "seconds_wall": 12.5}


# --- --dask ---------------------------------------------------------------------------------------------------

def test_dask_without_dask_installed_is_bad_input_with_the_install_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)
    path = notebook(tmp_path / "ok.ipynb", ("print(1.5)", "1.5\n"))
    assert main(["notebook", str(path), "--dask", "local", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'backprop-repro[dask]'" in err and err.count("\n") == 1
    assert not (tmp_path / "o" / "notebooks.json").exists()


@pytest.mark.parametrize("argv", [["--jobs", "0"], ["--retries", "-1"]])
def test_bad_jobs_and_retries_are_bad_input(tmp_path, argv, capsys):
    path = notebook(tmp_path / "ok.ipynb", ("print(1.5)", "1.5\n"))
    assert main(["notebook", str(path), *argv, "--out", str(tmp_path / "o")]) == 2
    assert argv[0] in capsys.readouterr().err


def test_a_task_is_killed_at_its_hard_limit_and_a_copy_that_differs_is_not_judged(tmp_path, monkeypatch):
    runtime = tmp_path / "runtime"
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    path = notebook(tmp_path / "hang.ipynb", ("import time\ntime.sleep(600)", None))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    start = time.monotonic()
    assert C._dask_task(str(path), str(tmp_path), digest, {**OPTIONS, "timeout": 900.0}, 6) == ("timeout", 6)
    assert time.monotonic() - start < 30
    # SIGTERM at the limit: the task's child kills its kernel before it ends
    assert not [p for p in os.listdir("/proc") if p.isdigit() and str(runtime) in _cmdline(p) and _alive(p)]
    kind, message = C._dask_task(str(path), str(tmp_path), "0" * 64, OPTIONS, 60)
    assert kind == "unreadable" and "differs" in message
    record = C._from_task(str(path), (kind, message), {}, 1)
    assert record["verdict"] == "crashed" and "same path" in record["cause_detail"]


def test_dask_local_cluster(tmp_path):
    """Verdicts as with --jobs, the worker's environment recorded, and a notebook that kills two workers crashed."""
    from backprop_repro.core.environment import fingerprint

    ok = notebook(tmp_path / "ok.ipynb", ("print(1.5)", "1.5\n"))
    digit = notebook(tmp_path / "digit.ipynb", ("print(2.5 * 3)", "7.6\n"))
    # the kernel's parent is the task's child process, whose parent is the Dask worker
    killer = notebook(tmp_path / "killer.ipynb", (
        "import os, signal\nppid = int(open(f'/proc/{os.getppid()}/stat').read().rsplit(')', 1)[1].split()[1])\n"
        "os.kill(ppid, signal.SIGKILL)", None))
    env, environ = fingerprint(), dict(os.environ)
    start = time.monotonic()
    check_all, _ = C.checker(None, jobs=2, dask="local", retries=1)
    records = check_all([ok, killer, digit], OPTIONS, env, None)
    assert time.monotonic() - start < 60
    assert dict(os.environ) == environ   # the LocalCluster's OMP/MKL/OPENBLAS_NUM_THREADS=1 do not stay here
    assert [r["verdict"] for r in records] == ["reproduced", "crashed", "not-reproduced"]
    assert records[1]["cause"] == C.KILLED_WORKER and "2 time(s)" in records[1]["cause_detail"], records[1]
    for r in (records[0], records[2]):
        assert r["worker"]["environment"]["numpy"] == env["numpy"] and r["worker"]["differs"] == []
        assert r["worker"]["address"].startswith("tcp://")
    local, _ = C.checker(None, jobs=1)
    plain = local([ok, digit], OPTIONS, env, None)
    assert strip([{k: v for k, v in r.items() if k != "worker"} for r in (records[0], records[2])]) == strip(plain)


def test_pytest_repro_nb_under_xdist_one_item_per_notebook(tmp_path):
    """`pytest --repro-nb DIR -n 2`: each notebook one item, spread over two workers, a changed one failing."""
    import nbformat

    for name, source, stored in (("a", "print(2)", "2\n"), ("b", "print(4)", "4\n"), ("c", "print(41)", "42\n")):
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell(source, execution_count=1)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stored)]
        nb.cells = [cell]
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run([*PYTEST_CHILD, "--repro-nb", str(tmp_path), "-n", "2", "-o", "addopts=", "--rootdir",
                           str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stdout[-2000:]
    assert "1 failed, 2 passed" in done.stdout and "c.ipynb" in done.stdout and "bringing up nodes" in done.stdout
