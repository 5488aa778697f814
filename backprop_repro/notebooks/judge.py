"""``backprop-repro notebook``: a notebook's stored outputs against fresh runs, number by number.

Each notebook is read with nbformat (never changed on disk), a copy executed with nbclient in a
kernel of the Python this tool runs in, with the notebook's own folder as working directory. Every
code cell's stored outputs are paired with the fresh ones, whatever the execution counts say:
stream text (consecutive chunks of one stream joined), ``text/plain`` of results and displays,
errors, and PNG images.

Numbers are compared as numbers, at the stored value's printed precision. Every difference gets a
kind:

- ``rounding``: one unit in the stored value's last printed digit (a last-bit change, once printed);
  listed, fails only with ``strict_digits``;
- ``numeric``: more than that; ``text``: the words around the numbers changed;
- ``error``: a cell raises now, or no longer raises what it raised;
- ``cosmetic``: a documented pattern (``COSMETIC``, extendable), listed with its reason, never failing;
- ``nondeterministic``: a number that changes between fresh runs; the stored value is then judged
  against those runs (:func:`typical`), and one far outside every run is ``numeric``, not excused;
- ``image``: a stored image differs from the fresh one (fails only with ``images`` tolerance).

Per-cell control by tags or metadata (nbval's tags are honoured): ``nbval-ignore-output`` /
``repro-ignore`` (outputs not compared, listed), ``nbval-skip`` / ``repro-skip`` (not executed),
``raises-exception`` (an error is expected), ``repro-random`` (numbers judged statistically even if the
runs agree), and ``metadata.repro.rtol`` (a relative tolerance for the cell's numbers).

Execution: the kernel is this interpreter's ipykernel (:func:`kernel_argv`), never a spec found by name; a
notebook in another kernel language is bad input when named on the command line (:func:`refuse_other_language`,
before any kernel starts) and ``not-run`` with its reason when found in a folder; each cell's output is capped at
``kernel.OUTPUT_CAP`` characters; Ctrl-C or SIGTERM kills the kernel and propagates as KeyboardInterrupt. A crash
is run once and explained (:mod:`.causes`: ``cause`` on the record, later errors that follow from it grouped under it).
"""

import base64
import functools
import math
from decimal import Decimal
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from backprop_repro.core.errors import BadInput

from .causes import Cascade

from .numbers import (ALPHA, COSMETIC, Number, _NUMBER, _t_bound, compare_number, normalise,  # noqa: F401
                      parse_number, tokens, typical)
from .pair import (Coverage, Difference, _compare_images, _joined_outputs, _tags, cell_numbers,  # noqa: F401
                   compare_cell, compare_text, run_fingerprint, validate_images)
from .numbers import validate_patterns
from .render import write_outputs  # noqa: F401

__all__ = ["COSMETIC", "check_notebook", "find_notebooks", "compare_text", "typical", "VERDICTS_OK"]

#: 'not-run' (a notebook for another kernel language) passes like 'no-stored-outputs': nothing was checked, and
#: the record and the console say why; it is not a regression.
VERDICTS_OK = ("reproduced", "reproduced-statistically", "no-stored-outputs", "not-run")

def load_notebook(path):
    import nbformat

    path = Path(path)
    try:
        nb = nbformat.read(str(path), as_version=4)
    except OSError as exc:
        raise BadInput(f"{path}: cannot read notebook ({exc.strerror or exc}); check the path") from None
    except Exception as exc:  # nbformat raises several kinds for JSON and structure problems
        raise BadInput(f"{path}: not a readable Jupyter notebook ({type(exc).__name__}: {str(exc)[:150]}); "
                       f"pass an .ipynb file") from None
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise BadInput(f"{path}: invalid nbformat ({str(exc).splitlines()[0][:150]}); re-save it with Jupyter") \
            from None
    _validate_cells(nb, path)
    _clean_outputs(nb)
    return nb


def _b64(text):
    """The bytes of a base64 payload (line breaks allowed, anything else outside the alphabet is an error)."""
    return base64.b64decode(re.sub(r"\s+", "", text), validate=True)


def _clean(value):
    """``value`` (a str or a list of them) that encodes as UTF-8: a lone surrogate (possible in a notebook's JSON)
    becomes its \\udxxx escape, so it is compared, written and printed as a visible difference."""
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if not isinstance(value, str):
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _clean_outputs(nb):
    """Lone surrogates escaped in every output's text (in memory; the file is never changed)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            for key in ("text", "evalue", "ename"):
                if key in output:
                    output[key] = _clean(output[key])
            data = output.get("data") or {}
            if "text/plain" in data:
                data["text/plain"] = _clean(data["text/plain"])


def _validate_cells(nb, path):
    """BadInput naming the notebook, cell and key for metadata this tool reads and image payloads it decodes."""
    import binascii

    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {})
        tags = meta.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise BadInput(f"{path}: cell {i}: metadata.tags is {_json(tags)}; give a list of strings")
        repro = meta.get("repro")
        if repro is not None and not isinstance(repro, dict):
            raise BadInput(f"{path}: cell {i}: metadata.repro is {_json(repro)}; give an object such as "
                           f'{{"rtol": 1e-6}} or remove it')
        if isinstance(repro, dict) and "rtol" in repro:
            rtol = repro["rtol"]
            if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not math.isfinite(rtol) or rtol < 0:
                raise BadInput(f"{path}: cell {i}: metadata.repro.rtol is {_json(rtol)}; give a relative tolerance, a "
                               f"finite number >= 0 such as 1e-6, or remove the key")
        for k, output in enumerate(cell.get("outputs", []) if cell.get("cell_type") == "code" else []):
            png = (output.get("data") or {}).get("image/png")
            if png is None:
                continue
            try:
                _b64("".join(png) if isinstance(png, list) else png)
            except (binascii.Error, ValueError, TypeError) as exc:
                raise BadInput(f"{path}: cell {i}: outputs[{k}].data['image/png'] is not base64 ({exc}); re-run and "
                               f"re-save the notebook, or clear that output") from None


def _json(value):
    """A metadata value as the notebook's JSON spells it (null, "abc"), shortened."""
    import json

    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def notebook_language(nb):
    """The notebook's kernel language as it names it ('python' when the notebook does not say)."""
    meta = nb.get("metadata", {})
    language = (meta.get("kernelspec") or {}).get("language") or (meta.get("language_info") or {}).get("name")
    return str(language or "python").strip()


def is_python(language):
    """Whether a kernel language names Python ('python', 'Python 3', and 'python3' as sphinxcontrib-jupyter writes)."""
    return re.fullmatch(r"i?python[\s\d.]*", language.strip().lower()) is not None


def refuse_other_language(nb, path):
    """BadInput for a notebook named on the command line whose kernel language is not Python (one found in a folder
    is ``not-run`` instead, so that one R notebook does not stop a corpus)."""
    language = notebook_language(nb)
    if not is_python(language):
        raise BadInput(f"{path}: its kernel language is {language}, not Python, and this tool runs notebooks in a "
                       f"Python kernel only; leave it out (in a folder passed instead, it is listed as not-run)")


def _not_run(path, reason):
    return {"path": str(path), "verdict": "not-run", "reason": reason, "crash": None, "runs": 0, "cause": None,
            "cause_detail": None, "failures": [], "cells_not_run": [], "cells_capped": [], "numbers_compared": 0,
            "numbers_reproduced": 0, "kinds": {}, "differences": [], "numbers": [], "cells": [],
            "seconds_executing": 0.0, "seconds_comparing": 0.0}


def _raises_now(work, code_cells):
    """Whether a fresh run raised in a cell whose stored run did not (and that does not expect it)."""
    for i, cell in code_cells:
        if "raises-exception" in _tags(cell) or _tags(cell) & _SKIP:
            continue
        if any(o.get("output_type") == "error" for o in work.cells[i].get("outputs", [])) and not any(
                o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return True
    return False


def find_notebooks(paths, notes=None):
    """The notebooks in ``paths`` (files, and folders searched recursively), each once; what was passed over is
    appended to ``notes`` (a folder named like a notebook, a path listed twice)."""
    found, seen = [], set()
    notes = [] if notes is None else notes
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for q in sorted(q for q in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts):
                if q.is_dir():
                    notes.append(f"{q}: a folder, not a notebook; skipped")
                elif q.resolve() in seen:
                    notes.append(f"{q}: listed twice; checked once")
                else:
                    seen.add(q.resolve())
                    found.append(q)
        elif path.is_file() and path.resolve() in seen:
            notes.append(f"{path}: listed twice; checked once")
        elif path.is_file():
            if path.suffix != ".ipynb":
                raise BadInput(f"{path}: not a notebook (.ipynb); pass notebooks or folders of them")
            seen.add(path.resolve())
            found.append(path)
        else:
            raise BadInput(f"{path}: no such notebook or folder")
    if not found:
        raise BadInput(f"{', '.join(map(str, paths))}: no notebooks found")
    return found


_SKIP = {"nbval-skip", "repro-skip"}


def kernel_argv():
    """The kernel command (:mod:`.kernel`): this interpreter's ipykernel, never a spec found by name."""
    import sys

    # no IPython history: a re-run's cells are not the user's, and their profile's history.sqlite is theirs
    return [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--HistoryManager.enabled=False"]


def execute(nb, path, timeout):
    """Execute a copy of ``nb`` in ``path``'s folder (:func:`.kernel.run`); returns (executed notebook, crash or
    None, seconds)."""
    import copy

    from .kernel import run     # nbclient is imported only when a notebook runs: the parser stays cheap

    work = copy.deepcopy(nb)
    for cell in work.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            if _tags(cell) & _SKIP:
                cell["source"] = ""
    crash, seconds = run(work, path, timeout)
    _clean_outputs(work)
    return work, crash, seconds


from backprop_repro.notebooks import STAT_RUNS  # noqa: E402  (the package's: the parser reads it without this module)


def _runs_differ(executed, code_cells, patterns):
    """Whether any compared code cell's text outputs (cosmetic parts masked) differ between the fresh runs."""
    for i, cell in code_cells:
        if _tags(cell) & {"nbval-ignore-output", "repro-ignore", "nbval-skip", "repro-skip"}:
            continue          # outputs nobody compares cannot ask for more runs
        seen = {run_fingerprint(run.cells[i], patterns) for run in executed}
        if len(seen) > 1:
            return True
    return False


def _execute_runs(nb, path, timeout, runs, stat_runs, code_cells, patterns):
    """(executed notebooks, crash or None, seconds): ``runs`` runs, more up to ``stat_runs`` when numbers vary or a
    cell is tagged repro-random; a notebook that crashes or raises anew runs once (a crash says it in one run)."""
    executed, crash, seconds = [], None, 0.0
    for _ in range(max(1, runs)):
        work, crash, sec = execute(nb, path, timeout)
        executed.append(work)
        seconds += sec
        if crash or _raises_now(work, code_cells):
            return executed, crash, seconds
    random_tagged = any("repro-random" in _tags(c) for _, c in code_cells)
    if len(executed) >= 2 and (random_tagged or _runs_differ(executed, code_cells, patterns)):
        while len(executed) < stat_runs and not crash:
            work, crash, sec = execute(nb, path, timeout)
            executed.append(work)
            seconds += sec
    return executed, crash, seconds


def _failures(differences, cascade, executed, crash, not_run_cells):
    """(cause, its detail, cells whose output was capped): the notebook's cause, the later cells grouped under each
    failure named in its difference, a difference for each capped cell."""
    for failure in cascade.failures:
        if failure["grouped"]:
            d = next(d for d in differences if d.kind == "error" and d.cell == failure["cell"])
            d.explanation += (f"; {len(failure['grouped'])} later cell(s) fail because of it: "
                              + ", ".join(f"cell {g['cell']} ({g['error'][:80]})" for g in failure["grouped"]))
    capped = sorted({i for run in executed for i in run.metadata.get("backprop_repro_capped", {})})
    cap = executed[0].metadata.get("backprop_repro_cap", 0)
    for i in capped:
        differences.append(Difference(i, "output", "text", "", f"more than {cap:,} characters",
                                      f"the cell printed more than {cap:,} characters; the rest was dropped"))
    if crash:
        return crash["cause"], crash["detail"] + (
            f" (cell {crash['cell']}; the {len(not_run_cells)} code cell(s) after it did not run)"
            if crash.get("cell") is not None else ""), capped
    if cascade.failures:
        return cascade.failures[0]["cause"], cascade.failures[0]["detail"], capped
    return None, None, capped


def check_notebook(path, runs=2, timeout=60, cosmetic=(), strict_digits=False, images=None, stat_runs=STAT_RUNS,
                   fresh=None):
    """The record of one notebook (see the module docstring).

    ``runs`` fresh runs, and when their numbers differ (or a cell is tagged ``repro-random``), more, up to
    ``stat_runs`` in all: a deterministic notebook costs ``runs`` executions, and a nondeterministic one is
    judged on enough runs for the statistical rule (:func:`typical`) to flag a stored value that is out of
    place (with 2 runs only one beyond 10,050 prediction standard errors would be; with 5, beyond 17).

    ``fresh``: (executed notebooks, crash or None, seconds) of runs already made of this notebook's code (the
    outputs selftest judges many copies of one notebook's stored outputs against one fresh run); none are made."""
    nb = load_notebook(path)
    patterns = COSMETIC + validate_patterns(cosmetic)     # bad input: empty, invalid or empty-matching
    validate_images(images)
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"]
    stored_any = any(c.get("outputs") for _, c in code_cells)
    language = notebook_language(nb)
    if not is_python(language):
        return {**_not_run(path, f"its kernel's language is {language}, not Python: this tool runs notebooks in a "
                                 f"Python kernel only"), "stored_outputs": stored_any}
    executed, crash, seconds = fresh if fresh is not None else _execute_runs(nb, path, timeout, runs, stat_runs,
                                                                             code_cells, patterns)
    folder = str(Path(path).resolve().parent)
    cascade = Cascade()
    stopped_at = crash["cell"] if crash and crash.get("cell") is not None else None
    compare_start = time.perf_counter()
    differences, rows, cells, not_run_cells = [], [], [], []
    coverage = Coverage()
    for i, cell in code_cells:
        tags = _tags(cell)
        meta = cell.get("metadata", {}).get("repro", {}) or {}
        if tags & {"nbval-skip", "repro-skip"}:
            coverage.leave_out("skipped", cell_numbers(cell.get("outputs", [])))
            continue
        if stopped_at is not None and i > stopped_at:
            not_run_cells.append(i)        # after the cell that timed out or killed the kernel: never ran
            coverage.leave_out("not run", cell_numbers(cell.get("outputs", [])))
            continue
        stored = _joined_outputs(cell.get("outputs", []))
        fresh_all = [_joined_outputs(run.cells[i].get("outputs", [])) for run in executed]
        fresh = fresh_all[0]
        cells.append({"cell": i, "source": "".join(cell.get("source", ""))[:2000],
                      "stored": [(lab, kind, payload) for lab, kind, payload in stored],
                      "fresh": [(lab, kind, payload) for lab, kind, payload in fresh],
                      "ignored": bool(tags & {"nbval-ignore-output", "repro-ignore"})})
        if i == stopped_at:        # the cell that timed out (its KeyboardInterrupt is ours) or killed the kernel
            coverage.leave_out("not run", cell_numbers(cell.get("outputs", [])))
            differences.append(Difference(i, "error", "error", "", crash["detail"].split(";")[0], crash["detail"]))
            continue
        fresh_errors = [p for lab, kind, p in fresh if kind == "error"]
        stored_errors = [p for lab, kind, p in stored if kind == "error"]
        expects_error = "raises-exception" in tags
        if fresh_errors and not stored_errors and not expects_error:
            traceback = next((o.get("traceback") for o in executed[0].cells[i].get("outputs", [])
                              if o.get("output_type") == "error"), None)
            failure = cascade.add(i, "".join(cell.get("source", "")), fresh_errors[0], folder, traceback)
            if failure["cell"] != i:
                coverage.leave_out("no partner", cell_numbers(cell.get("outputs", [])))
                continue   # follows from an earlier failure: listed under it, its missing outputs with it
            differences.append(Difference(i, "error", "error", "", fresh_errors[0], "the cell raises now; its stored "
                                          f"run did not: {failure['detail']}"))
        elif stored_errors and not fresh_errors:
            differences.append(Difference(i, "error", "error", stored_errors[0], "",
                                          "the stored run raised here; the fresh run does not"))
        elif stored_errors and fresh_errors and stored_errors[0].split(":")[0] != fresh_errors[0].split(":")[0]:
            differences.append(Difference(i, "error", "error", stored_errors[0], fresh_errors[0],
                                          "a different exception is raised now"))
        if tags & {"nbval-ignore-output", "repro-ignore"}:
            coverage.leave_out("ignored", cell_numbers(cell.get("outputs", [])))
            continue
        diffs, number_rows, cells[-1]["outputs"], cell_coverage = compare_cell(
            i, cell, [run.cells[i] for run in executed], patterns, images=images,
            rtol=float(meta.get("rtol", 0.0)), random="repro-random" in tags)
        differences += diffs
        rows += number_rows
        coverage.add(cell_coverage)
    compare_seconds = time.perf_counter() - compare_start
    cause, cause_detail, capped = _failures(differences, cascade, executed, crash, not_run_cells)
    failing_kinds = {"numeric", "text", "error", "missing", "added"} | ({"rounding"} if strict_digits else set())
    image_fail = any(d.kind == "image" and ((images is not None and "beyond --images" in d.explanation)
                                            or d.stored == "unreadable image") for d in differences)
    if crash or cascade.failures:
        verdict = "crashed"
    elif not stored_any:
        verdict = "no-stored-outputs"
    elif any(d.kind in failing_kinds for d in differences) or image_fail:
        verdict = "not-reproduced"
    elif any(d.kind == "nondeterministic" for d in differences):
        verdict = "reproduced-statistically"
    else:
        verdict = "reproduced"
    return {"path": str(path), "verdict": verdict, "stored_outputs": stored_any,
            "crash": crash["detail"] if crash else None, "runs": len(executed),
            "cause": cause, "cause_detail": cause_detail,
            "failures": [{k: f[k] for k in ("cell", "error", "cause", "detail", "grouped")} for f in cascade.failures],
            "cells_not_run": not_run_cells, "cells_capped": capped,
            "numbers_compared": len(rows), **{k: v for k, v in coverage.as_dict().items() if k != "numbers_compared"},
            "coverage": coverage.sentence(),
            "numbers_reproduced": sum(r["kind"] in ("reproduced", "nondeterministic") for r in rows),
            "kinds": {k: sum(d.kind == k for d in differences) for k in
                      ("rounding", "numeric", "text", "error", "cosmetic", "nondeterministic", "image", "missing",
                       "added")},
            "differences": [d.as_dict() for d in differences], "numbers": rows, "cells": cells,
            "seconds_executing": round(seconds, 3), "seconds_comparing": round(compare_seconds, 4)}


def _sigterm_interrupts():
    """While notebooks run, SIGTERM is an interrupt like Ctrl-C (KeyboardInterrupt: the kernel is killed, exit 130,
    the output folder keeps its previous set); the previous handler comes back afterwards."""
    import contextlib
    import signal
    import threading

    @contextlib.contextmanager
    def installed():
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def interrupt(signum, frame):
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, interrupt)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)  # None: set outside Python

    return installed()


def run_notebooks(paths, runs=2, timeout=60, cosmetic=(), strict_digits=False, images=None, progress=None,
                  stat_runs=STAT_RUNS, check_all=None):
    """The record of a `notebook` command: schema_version 1, environment, notebooks, summary (:func:`.corpus.summary`).

    ``check_all(notebooks, options, environment, progress)`` (:func:`.corpus.checker`: worker processes, a journal,
    a Dask cluster) returns the records in the notebooks' order; by default they are checked here one by one."""
    from backprop_repro.core.environment import fingerprint

    from .corpus import summary

    if runs < 1:
        raise BadInput(f"--runs {runs}: give 1 or more fresh runs (2 or more detect nondeterministic numbers)")
    if stat_runs < 2:
        raise BadInput(f"--stat-runs {stat_runs}: give 2 or more (the statistical rule needs at least 2 runs)")
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        raise BadInput(f"--timeout {timeout}: give a positive finite number of seconds per cell, such as 120")
    validate_patterns(cosmetic)
    validate_images(images)
    notes = []
    notebooks = find_notebooks(paths, notes)
    named = {Path(p).resolve() for p in paths if Path(p).is_file()}
    for path in notebooks:                  # every input validated before the first kernel starts
        nb = load_notebook(path)
        if path.resolve() in named:
            refuse_other_language(nb, path)
    records, environment, wall = [], fingerprint(), time.perf_counter()
    options = {"runs": runs, "timeout": timeout, "cosmetic": tuple(cosmetic), "strict_digits": strict_digits,
               "images": images, "stat_runs": stat_runs}
    with _sigterm_interrupts():
        if check_all is not None:
            records = check_all(notebooks, options, environment, progress)
        else:
            for n, path in enumerate(notebooks, 1):
                if progress:
                    progress(f"[{n}/{len(notebooks)}] {path}")
                records.append(check_notebook(path, runs, timeout, cosmetic, strict_digits, images, stat_runs))
                if progress:
                    progress(f"      {path}: {records[-1]['verdict']}", advance=True)
    return {"schema_version": 1, "environment": environment, "strict_digits": strict_digits, "runs": runs,
            "stat_runs": stat_runs, "kernel": {"argv": kernel_argv()[:3], "language": "python"}, "skipped": notes,
            "summary": summary(records, notes, time.perf_counter() - wall), "notebooks": records,
            "exit_status": 0 if all(r["verdict"] in VERDICTS_OK for r in records) else 1}
