"""`backprop-repro notebook` under hostile input and at its edges (issue 20): bad metadata, payloads and options
are bad input before any kernel starts; lone surrogates and non-ASCII names never end in a traceback; Ctrl-C and
SIGTERM while a kernel runs are exit 130 with the kernel gone; output is capped; other kernel languages are not
run (bad input when named, not-run in a folder); the kernel is this interpreter's; folders named *.ipynb are
skipped; a crash is explained, its cascade grouped and not re-run. (That the checker bites, every change to stored outputs caught with its kind, is
`selftest --notebooks`: tests/test_notebook_selftest.py.)"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from backprop_repro.cli.commands import main
from backprop_repro.notebooks import judge as N

from .conftest import PYTEST_CHILD

PROGRAM = [sys.executable, "-m", "backprop_repro"]


def notebook(path, *cells, language="python"):
    """Write a notebook of (source, stored outputs, metadata) cells."""
    doc = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": meta,
                      "outputs": outputs, "source": source} for i, (source, outputs, meta) in enumerate(cells)],
           "metadata": {"kernelspec": {"display_name": language, "language": language, "name": language}},
           "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def stdout(text):
    return {"name": "stdout", "output_type": "stream", "text": text}


def ok_notebook(path):
    return notebook(path, ("print(1)", [stdout("1\n")], {}))


@pytest.fixture
def no_kernel(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(N, "execute", refuse)


# --- bad input before any kernel ----------------------------------------------------------------------------

@pytest.mark.parametrize("meta,needle", [
    ({"repro": "yes"}, 'metadata.repro is "yes"'), ({"repro": {"rtol": "abc"}}, 'metadata.repro.rtol is "abc"'),
    ({"repro": {"rtol": None}}, "metadata.repro.rtol is null"), ({"repro": {"rtol": -1}}, "metadata.repro.rtol is -1"),
    ({"repro": {"rtol": True}}, "metadata.repro.rtol is true"),
    ({"tags": "nbval-skip"}, "invalid nbformat ('nbval-skip' is not of type 'array')"),   # nbformat's schema says it
])
def test_bad_cell_metadata_is_bad_input_naming_notebook_cell_and_key(tmp_path, capsys, no_kernel, meta, needle):
    good = ok_notebook(tmp_path / "a_good.ipynb")        # listed first: validated, never run
    bad = notebook(tmp_path / "bad.ipynb", ("print(1)", [stdout("1\n")], {}), ("print(2)", [stdout("2\n")], meta))
    assert main(["notebook", str(good), str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert (f"{bad}: cell 1: {needle}" in err or f"{bad}: {needle}" in err) and err.count("\n") == 1
    assert not (tmp_path / "o" / "notebooks.json").exists()


def test_valid_metadata_passes_validation(tmp_path):
    for meta in ({"repro": {"rtol": 1e-6}}, {"repro": {"rtol": 0}}, {"repro": {}}, {"repro": None}, {"tags": []}):
        N.load_notebook(notebook(tmp_path / "ok.ipynb", ("print(1)", [stdout("1\n")], meta)))


def test_a_broken_base64_image_is_bad_input(tmp_path, capsys, no_kernel):
    bad = notebook(tmp_path / "b64.ipynb", ("1", [{"output_type": "display_data", "metadata": {},
                                                   "data": {"image/png": "!!not base64", "text/plain": "<Figure>"}}],
                                            {}))
    assert main(["notebook", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: cell 0: outputs[0].data['image/png'] is not base64" in err and err.count("\n") == 1


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1", "1e400", "-inf"])
def test_timeout_must_be_positive_and_finite(tmp_path, capsys, no_kernel, value):
    assert main(["notebook", str(ok_notebook(tmp_path / "ok.ipynb")), f"--timeout={value}",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--timeout" in err and "positive finite" in err and err.count("\n") == 1


def test_a_fractional_timeout_is_accepted_and_a_word_is_not(tmp_path, capsys):
    path = ok_notebook(tmp_path / "ok.ipynb")
    assert main(["notebook", str(path), "--timeout", "2.5", "--runs", "1", "--out", str(tmp_path / "o"),
                 "--quiet"]) == 0
    assert main(["notebook", str(path), "--timeout", "abc", "--out", str(tmp_path / "o")]) == 2


# --- text the encoders cannot take ---------------------------------------------------------------------------

def test_a_lone_surrogate_in_stored_text_is_a_difference_not_a_traceback(tmp_path, capsys):
    path = notebook(tmp_path / "s.ipynb", ("print('a')", [stdout("a\ud800\n")], {}))
    assert main(["notebook", str(path), "--runs", "1", "--out", str(tmp_path / "o"), "--quiet"]) == 1
    record = json.loads((tmp_path / "o" / "notebooks.json").read_text(encoding="utf-8"))
    assert record["notebooks"][0]["verdict"] == "not-reproduced"
    assert "\\ud800" in (tmp_path / "o" / "notebooks.html").read_text(encoding="utf-8")
    assert "Traceback" not in capsys.readouterr().err


def test_a_non_ascii_name_under_an_ascii_stdout(tmp_path):
    path = ok_notebook(tmp_path / "héllo_数.ipynb")
    done = subprocess.run([*PROGRAM, "notebook", str(path), "--runs", "1", "--out", str(tmp_path / "o"), "--quiet"],
                          capture_output=True, env={**os.environ, "PYTHONIOENCODING": "ascii"}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    assert b"h\\xe9llo_\\u6570.ipynb" in done.stdout and b"reproduced" in done.stdout   # escaped, not dropped


# --- interrupts ----------------------------------------------------------------------------------------------

def _kernel_of(pid):
    found = subprocess.run(["pgrep", "-P", str(pid), "-f", "ipykernel_launcher"], capture_output=True, text=True)
    return int(found.stdout.split()[0]) if found.stdout.split() else None


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and uses pgrep")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_while_a_kernel_runs_is_130_kernel_gone_folder_kept(tmp_path, sig):
    out, runtime = tmp_path / "o", tmp_path / "runtime"
    runtime.mkdir()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime)}
    assert subprocess.run([*PROGRAM, "notebook", str(ok_notebook(tmp_path / "ok.ipynb")), "--runs", "1",
                           "--out", str(out), "--quiet"], env=env, capture_output=True, timeout=120).returncode == 0
    before = (out / "notebooks.json").read_bytes()
    sleeper = notebook(tmp_path / "sleep.ipynb", ("import time\ntime.sleep(300)", [], {}))
    proc = subprocess.Popen([*PROGRAM, "notebook", str(sleeper), "--runs", "1", "--out", str(out), "--quiet"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kernel, deadline = None, time.monotonic() + 60
    while kernel is None and time.monotonic() < deadline:
        time.sleep(0.1)
        kernel = _kernel_of(proc.pid)
    assert kernel is not None, "no kernel started"
    time.sleep(1.5)                                           # the cell is running
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.decode().count("\n") == 1 and b"interrupted" in err and b"Traceback" not in err
    time.sleep(0.5)
    assert not _alive(kernel)
    assert not list(runtime.glob("kernel-*.json"))            # its connection file removed too
    assert (out / "notebooks.json").read_bytes() == before    # the previous complete set kept


# --- runaway output, other languages, the kernel, folders -----------------------------------------------------

def test_output_is_capped_per_cell(tmp_path, monkeypatch):
    from backprop_repro.notebooks import kernel

    monkeypatch.setattr(kernel, "OUTPUT_CAP", 200_000)
    path = notebook(tmp_path / "forever.ipynb", ("i = 0\nwhile True:\n    print(i, 'x' * 50)\n    i += 1",
                                                 [stdout("0\n")], {}), ("print(1)", [stdout("1\n")], {}))
    r = N.check_notebook(path, runs=1, timeout=3)
    assert r["verdict"] == "crashed" and r["cause"] == "timeout" and r["cells_capped"] == [0]
    assert r["cells_not_run"] == [1]
    fresh = "".join(p for _, kind, p in r["cells"][0]["fresh"] if kind == "text")
    assert kernel.OUTPUT_CAP / 2 < len(fresh) <= kernel.OUTPUT_CAP + 200 and "dropped" in fresh
    assert any("more than 200,000 characters" in d["fresh"] for d in r["differences"])


def test_an_r_notebook_is_not_run_and_says_why(tmp_path, capsys, no_kernel):
    """Named on the command line: bad input before any kernel starts. Found in a folder: not-run with its reason, and
    the folder's Python notebooks are still checked."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    r_nb = notebook(folder / "r.ipynb", ("print(1)", [stdout("[1] 1\n")], {}), language="R")
    good = ok_notebook(tmp_path / "good.ipynb")                 # listed first: validated, never run
    assert main(["notebook", str(good), str(r_nb), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{r_nb}: its kernel language is R, not Python" in err and "leave it out" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o" / "notebooks.json").exists()
    r = N.check_notebook(r_nb)
    assert r["verdict"] == "not-run" and r["runs"] == 0 and "language is R" in r["reason"]
    assert "not-run" in N.VERDICTS_OK


def test_python3_as_the_kernel_language_is_python(tmp_path, capsys):
    """sphinxcontrib-jupyter writes kernelspec.language 'python3': such a notebook runs (it was bad input when named
    and not-run in a folder); a language that only starts like Python is still another one."""
    named = notebook(tmp_path / "py3.ipynb", ("print(1)", [stdout("1\n")], {}), language="python3")
    assert main(["notebook", str(named), "--runs", "1", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert json.loads((tmp_path / "o" / "notebooks.json").read_text())["notebooks"][0]["verdict"] == "reproduced"
    assert all(N.is_python(x) for x in ("python", "Python 3", "python3", " Python3.11 ", "ipython"))
    assert not any(N.is_python(x) for x in ("pythonista", "cython", "R", "python-r", ""))


def test_an_r_notebook_in_a_folder_does_not_stop_the_others(tmp_path, monkeypatch):
    folder = tmp_path / "corpus"
    folder.mkdir()
    notebook(folder / "a_r.ipynb", ("print(1)", [stdout("[1] 1\n")], {}), language="R")
    ok_notebook(folder / "b_python.ipynb")
    checked = []
    monkeypatch.setattr(N, "check_notebook", lambda path, *a, **k: checked.append(path) or (
        N._not_run(path, "language") if path.name == "a_r.ipynb"
        else {**N._not_run(path, ""), "verdict": "reproduced"}))
    assert main(["notebook", str(folder), "--out", str(tmp_path / "o"), "--quiet", "--jobs", "1"]) == 0
    assert [p.name for p in checked] == ["a_r.ipynb", "b_python.ipynb"]


def test_a_python3_kernelspec_on_jupyter_path_does_not_replace_this_python(tmp_path, monkeypatch):
    marker = tmp_path / "foreign-kernel-started"
    spec = tmp_path / "jp" / "kernels" / "python3"
    spec.mkdir(parents=True)
    launch = (f"open({str(marker)!r}, 'w').close(); from ipykernel import kernelapp; kernelapp.launch_new_instance()")
    (spec / "kernel.json").write_text(json.dumps({"argv": [sys.executable, "-c", launch, "-f", "{connection_file}"],
                                                  "display_name": "foreign", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jp"))
    # the hostile spec is what a by-name lookup finds (so the test can fail)
    from jupyter_client.kernelspec import KernelSpecManager
    assert KernelSpecManager().get_kernel_spec("python3").display_name == "foreign"
    path = notebook(tmp_path / "which.ipynb", ("import sys\nprint(sys.executable)", [stdout(sys.executable + "\n")],
                                               {}))
    r = N.check_notebook(path, runs=1, timeout=60)
    assert r["verdict"] == "reproduced" and not marker.exists()
    assert N.kernel_argv()[0] == sys.executable


def test_re_running_a_notebook_leaves_the_users_ipython_history_alone(tmp_path, monkeypatch):
    """The kernel keeps no IPython history: a re-run's cells are not the user's, and an IPython profile's
    history.sqlite is theirs (every re-run was written into it)."""
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    path = notebook(tmp_path / "h.ipynb", ("print(6 * 7)", [stdout("42\n")], {}))
    assert N.check_notebook(path, runs=1, timeout=60)["verdict"] == "reproduced"
    assert not list((tmp_path / "ipython").rglob("history.sqlite"))
    assert "--HistoryManager.enabled=False" in N.kernel_argv()


def test_a_folder_named_like_a_notebook_and_a_path_listed_twice(tmp_path, capsys, monkeypatch):
    (tmp_path / "data.ipynb").mkdir()
    good = ok_notebook(tmp_path / "good.ipynb")
    notes = []
    assert N.find_notebooks([tmp_path, good], notes) == [good]
    assert notes == [f"{tmp_path / 'data.ipynb'}: a folder, not a notebook; skipped",
                     f"{good}: listed twice; checked once"]
    monkeypatch.setattr(N, "check_notebook", lambda path, *a, **k: {**N._not_run(path, "stub"), "verdict": "reproduced"})
    assert main(["notebook", str(tmp_path), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert "note: " in capsys.readouterr().out
    assert json.loads((tmp_path / "o" / "notebooks.json").read_text())["skipped"] == notes[:1]


# --- crashes explained ---------------------------------------------------------------------------------------

def test_a_crash_is_explained_grouped_and_not_rerun(tmp_path):
    path = notebook(tmp_path / "crash.ipynb",
                    ("import backprop_repro_no_such_module as m\nimport random", [], {}),
                    ("model = m.fit()", [], {}),
                    ("print(model, random.random())", [stdout("fit 0.5\n")], {"tags": ["repro-random"]}),
                    ("print(2 + 2)", [stdout("4\n")], {}),
                    ("open('no_such_data.csv')", [], {}))
    r = N.check_notebook(path, runs=2, timeout=60, stat_runs=5)
    assert r["verdict"] == "crashed" and r["runs"] == 1       # neither --runs 2 nor the repro-random cell re-ran it
    assert r["cause"] == "missing-module" and "pip install backprop-repro-no-such-module" in r["cause_detail"]
    first, data = r["failures"]
    assert [g["cell"] for g in first["grouped"]] == [1, 2] and "NameError" in first["grouped"][0]["error"]
    assert data["cell"] == 4 and data["cause"] == "missing-file" and "no_such_data.csv" in data["detail"]
    errors = [d for d in r["differences"] if d["kind"] == "error"]
    assert [d["cell"] for d in errors] == [0, 4]              # the NameErrors are not differences of their own
    assert "2 later cell(s) fail because of it" in errors[0]["explanation"]
    assert not [d for d in r["differences"] if d["cell"] == 3]   # a cell that still works is still compared


def test_the_cause_reaches_the_console_and_the_html(tmp_path, capsys):
    path = notebook(tmp_path / "crash.ipynb", ("open('no_such_data.csv')", [], {}))
    (tmp_path / "more").mkdir()
    r_nb = notebook(tmp_path / "more" / "r.ipynb", ("print(1)", [stdout("[1] 1\n")], {}), language="R")
    assert main(["notebook", str(path), str(r_nb.parent), "--runs", "1", "--out", str(tmp_path / "o"), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "cause missing-file: the data file no_such_data.csv is not there" in out
    assert "not run: its kernel's language is R" in out
    html = (tmp_path / "o" / "notebooks.html").read_text()
    assert "cause: missing-file" in html and "not run: its kernel&#39;s language is R" in html   # every notebook
    assert json.loads((tmp_path / "o" / "notebooks.json").read_text())["notebooks"][0]["cause"] == "missing-file"


def test_the_html_header_states_the_runs_each_notebook_really_had(tmp_path):
    """--runs 2: the good notebook ran twice, the crashed one once (not re-run), the R one (in a folder) not at all;
    the header said "2 fresh run(s) each" for all three."""
    import re

    crash = notebook(tmp_path / "crash.ipynb", ("open('no_such_data.csv')", [], {}))
    good = ok_notebook(tmp_path / "good.ipynb")
    (tmp_path / "more").mkdir()
    notebook(tmp_path / "more" / "r.ipynb", ("print(1)", [stdout("[1] 1\n")], {}), language="R")
    assert main(["notebook", str(crash), str(good), str(tmp_path / "more"), "--runs", "2", "--jobs", "1",
                 "--out", str(tmp_path / "o"), "--quiet"]) == 1
    html = (tmp_path / "o" / "notebooks.html").read_text()
    header = html[html.index("<h1>"):html.index("<table")]
    assert "fresh run(s) each" not in header
    had = dict(re.findall(r'<span class="runs-had">(\d+):\s*([^<]*)</span>', header))
    assert had == {"2": str(good), "1": str(crash), "0": str(tmp_path / "more" / "r.ipynb")}
    assert f"{crash}: <span class=\"crashed\">crashed</span>\n<small class=\"runs\">(1 fresh run)</small>" in html
    assert "(2 fresh runs)" in html and "(0 fresh runs)" in html


def test_a_kernel_that_dies_is_a_crash_with_the_cells_after_it_not_run(tmp_path):
    path = notebook(tmp_path / "dies.ipynb", ("print(1)", [stdout("1\n")], {}), ("import os\nos._exit(3)", [], {}),
                    ("print(2)", [stdout("2\n")], {}))
    r = N.check_notebook(path, runs=2, timeout=60)
    assert r["verdict"] == "crashed" and r["runs"] == 1 and r["cause"] == "error"
    assert "the kernel died" in r["cause_detail"] and r["cells_not_run"] == [2]
    assert r["numbers_reproduced"] == 1                          # the cell before it is still compared


def test_pytest_items_show_the_cause(tmp_path):
    notebook(tmp_path / "crash.ipynb", ("open('no_such_data.csv')", [], {}))
    done = subprocess.run([*PYTEST_CHILD, "--repro-nb", "--repro-nb-runs", "1", str(tmp_path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1 and "cause missing-file: the data file no_such_data.csv" in done.stdout, done.stdout


def test_a_kernel_that_dies_at_start_is_a_crash_not_a_traceback(tmp_path, capsys):
    (tmp_path / "ipykernel_launcher.py").write_text("import sys\nsys.exit(3)\n")   # shadows the kernel's module
    path = ok_notebook(tmp_path / "k.ipynb")
    assert main(["notebook", str(path), "--out", str(tmp_path / "o"), "--quiet", "--jobs", "1"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    record = json.loads((tmp_path / "o" / "notebooks.json").read_text())
    assert record["notebooks"][0]["verdict"] == "crashed" and "did not start" in json.dumps(record)
