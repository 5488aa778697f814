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

from .errors import BadInput

__all__ = ["COSMETIC", "check_notebook", "find_notebooks", "compare_text", "typical", "VERDICTS_OK"]

VERDICTS_OK = ("reproduced", "reproduced-statistically", "no-stored-outputs")
#: The statistical rule's false-flag rate: the two-sided tail of a normal beyond 4 standard deviations (6.3e-5),
#: the same bound the seed sweeps use ('sampling:z=4').
ALPHA = 6.334248366623996e-05

#: (name, pattern, reason): text that differs between runs or versions without saying anything about the
#: computation. Matches are replaced by a placeholder on both sides before comparing.
COSMETIC = [
    ("figure-repr", r"<(Figure|Axes|matplotlib\.[\w.]+)[^>]*>",
     "matplotlib's object reprs carry sizes and addresses that follow rcParams defaults (432x288 became 640x480)"),
    ("object-address", r"<([\w.]+ )?(object|function|built-in function|bound method)[^>]* at 0x[0-9a-fA-F]+>",
     "memory addresses differ in every process"),
    ("hex-address", r"\b0x[0-9a-fA-F]{6,}\b", "memory addresses differ in every process"),
    ("timing", r"(?im)^.*\b(wall time|cpu times|elapsed|took|seconds|per loop|it/s|s/it)\b.*$",
     "timings differ on every run"),
    ("progress-bar", r"(?m)^.*(\d+%\|[^\n]*\||\[[=>.\- ]{5,}\]).*$", "progress bars are redrawn differently"),
    ("warning-path", r"(?m)^\S*[/\\][^\n:]*\.py:\d+: ", "warnings name the file and line of an installed package"),
    ("numpy-scalar-repr", r"np\.(float|int|uint|complex|bool|str)_?\d*\(([^()]*)\)",
     "NumPy 2 prints scalars as np.float64(0.5) where 1.x printed 0.5 (NEP 51)"),
]
_NUMPY_SCALAR = re.compile(COSMETIC[-1][1])

_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf)(?![\w.])", re.IGNORECASE)


@dataclass
class Number:
    text: str
    value: float
    unit: float        # one unit in the last printed digit


def parse_number(text):
    lower = text.lower().lstrip("+-")
    if lower in ("nan", "inf"):
        return Number(text, float(text), 0.0)
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exp = int(exponent) if exponent else 0
    return Number(text, float(text), 10.0 ** (exp - decimals))


def _unwrap_numpy_scalars(text):
    return _NUMPY_SCALAR.sub(lambda m: m.group(2), text)


def normalise(text, cosmetic):
    """(text with cosmetic matches replaced by placeholders, {pattern name: the matched strings})."""
    matched = {}
    unwrapped = _unwrap_numpy_scalars(text)
    if unwrapped != text:
        matched["numpy-scalar-repr"] = [m.group(0) for m in _NUMPY_SCALAR.finditer(text)]
        text = unwrapped
    for name, pattern, _ in cosmetic:
        if name == "numpy-scalar-repr":
            continue
        found = [m.group(0) for m in re.finditer(pattern, text)]
        if found:
            matched[name] = found
            text = re.sub(pattern, f"<{name}>", text)
    return text, matched


def tokens(text):
    """(skeleton with numbers replaced by '#', [Number]) of a text."""
    numbers = [parse_number(m.group(0)) for m in _NUMBER.finditer(text)]
    return _NUMBER.sub("#", text), numbers


def compare_number(stored, fresh, rtol=0.0):
    """'reproduced', 'rounding' or 'numeric' for a stored number against a fresh one."""
    if stored.text == fresh.text:
        return "reproduced"
    if math.isnan(stored.value) or math.isnan(fresh.value):
        return "reproduced" if math.isnan(stored.value) and math.isnan(fresh.value) else "numeric"
    if math.isinf(stored.value) or math.isinf(fresh.value):
        return "reproduced" if stored.value == fresh.value else "numeric"
    if rtol and abs(fresh.value - stored.value) <= rtol * abs(stored.value):
        return "reproduced"
    # in decimal, as printed: a binary difference cannot resolve the 17th digit of a printed float
    difference = abs(Decimal(fresh.text) - Decimal(stored.text))
    unit = Decimal(stored.text).as_tuple()
    unit = Decimal((0, (1,), unit.exponent))
    if difference * 2 <= unit:                    # the fresh value rounds to the stored digits
        return "reproduced"
    if difference * 2 <= 3 * unit:                # one unit in the last printed digit
        return "rounding"
    return "numeric"


@functools.lru_cache(maxsize=None)
def _t_bound(n):
    """Student's t quantile for n runs (n - 1 degrees of freedom) at the two-sided ALPHA."""
    from scipy.special import stdtrit   # imported here, only for varying numbers (0.3 s; scipy.stats takes 0.7)

    return float(stdtrit(n - 1, 1.0 - ALPHA / 2.0))


def typical(stored, fresh_values, unit=0.0):
    """The statistical rule for a nondeterministic number: (typical, |t|, bound).

    If the notebook is reproducible, its stored value is one more draw from the process that made the n
    fresh runs, so t = (stored - mean) / (s * sqrt(1 + 1/n)) follows Student's t with n - 1 degrees of
    freedom (a prediction interval; s is the runs' sample standard deviation, floored at the rounding
    noise of the printed digits, unit / sqrt(12)). The stored value is typical when |t| is within the
    two-sided ALPHA quantile: a reproducible notebook is flagged with probability ALPHA (measured: 4e-5 in
    400 000 simulated checks, 2 to 10 runs, with and without coarse printing). Few runs give a wide bound
    (n = 2: 10 050, n = 3: 126, n = 10: 7.0), so only a stored value far outside every run is flagged;
    more runs (--stat-runs, --runs) sharpen it. The earlier rule (the runs' range widened by 4 population standard
    deviations) flagged 7 % of reproducible 3-run checks and 20 % of 2-run ones.
    """
    n = len(fresh_values)
    if n < 2:
        raise ValueError("the statistical rule needs at least 2 fresh runs")
    mean = statistics.fmean(fresh_values)
    spread = math.sqrt(statistics.variance(fresh_values) + unit * unit / 12.0)
    bound = _t_bound(n)
    if spread == 0.0:
        return stored == mean, (0.0 if stored == mean else math.inf), bound
    t = abs(stored - mean) / (spread * math.sqrt(1.0 + 1.0 / n))
    return t <= bound, t, bound


@dataclass
class Difference:
    cell: int
    output: str
    kind: str
    stored: str
    fresh: str
    explanation: str

    def as_dict(self):
        return {"cell": self.cell, "output": self.output, "kind": self.kind, "stored": self.stored,
                "fresh": self.fresh, "explanation": self.explanation}


def compare_text(cell, label, stored, fresh_runs, cosmetic, rtol=0.0, random=False):
    """Differences and number rows between a stored text and its fresh texts (one per run)."""
    differences, rows = [], []
    s_norm, s_hits = normalise(stored, cosmetic)
    f_norms = [normalise(f, cosmetic) for f in fresh_runs]
    reasons = {name: reason for name, _, reason in cosmetic}
    for name in sorted(set(s_hits) | set(f_norms[0][1])):
        if s_hits.get(name) != f_norms[0][1].get(name):     # only where the cosmetic parts really differ
            differences.append(Difference(cell, label, "cosmetic", " ".join(map(str, s_hits.get(name, [])))[:200],
                                          " ".join(map(str, f_norms[0][1].get(name, [])))[:200],
                                          f"{name}: {reasons.get(name, '')}"))
    s_skel, s_nums = tokens(s_norm)
    parsed = [tokens(f) for f, _ in f_norms]
    f_skel, f_nums = parsed[0]
    if s_skel != f_skel or len(s_nums) != len(f_nums):
        differences.append(Difference(cell, label, "text", s_norm[:500], f_norms[0][0][:500],
                                      "the words or layout around the numbers changed"))
        return differences, rows
    varying = [i for i in range(len(s_nums)) if len({p[1][i].text for p in parsed if len(p[1]) == len(s_nums)}) > 1]
    for i, (s, f) in enumerate(zip(s_nums, f_nums)):
        values = [p[1][i].value for p in parsed if len(p[1]) == len(s_nums)]
        if i in varying or (random and len(values) > 1):
            ok, t, bound = typical(s.value, values, s.unit)
            kind = "nondeterministic" if ok else "numeric"
            rows.append({"cell": cell, "output": label, "stored": s.text, "fresh": f.text, "kind": kind,
                         "fresh_runs": [p[1][i].text for p in parsed]})
            where = (f"the stored value is {t:.3g} prediction standard errors from the {len(values)} runs' mean "
                     f"(a reproducible notebook exceeds {bound:.3g} with probability {ALPHA:.1e})")
            differences.append(Difference(cell, label, kind, s.text, " | ".join(p[1][i].text for p in parsed),
                                          f"changes between fresh runs; {where}" if ok else
                                          f"changes between fresh runs, and {where}: far outside every run"))
            continue
        kind = compare_number(s, f, rtol)
        rows.append({"cell": cell, "output": label, "stored": s.text, "fresh": f.text, "kind": kind,
                     "fresh_runs": [f.text]})
        if kind == "rounding":
            differences.append(Difference(cell, label, "rounding", s.text, f.text,
                                          "one unit in the last printed digit: a last-bit change, once printed"))
        elif kind == "numeric":
            differences.append(Difference(cell, label, "numeric", s.text, f.text,
                                          f"off by {abs(f.value - s.value):.3g}, more than one unit ({s.unit:g}) of "
                                          f"the last printed digit"))
    return differences, rows


def _joined_outputs(outputs):
    """[(label, kind, payload)]: streams joined per name (consecutive chunks), results/displays by text/plain,
    errors by ename: evalue, images by their PNG."""
    out, streams = [], {}
    for o in outputs:
        kind = o.get("output_type")
        if kind == "stream":
            name = o.get("name", "stdout")
            text = o.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            if name in streams:
                out[streams[name]] = (out[streams[name]][0], "text", out[streams[name]][2] + text)
            else:
                streams[name] = len(out)
                out.append((f"stream:{name}", "text", text))
        elif kind in ("execute_result", "display_data"):
            data = o.get("data", {})
            if "text/plain" in data:
                text = data["text/plain"]
                out.append((f"{kind}:text/plain", "text", "".join(text) if isinstance(text, list) else text))
            if "image/png" in data:
                png = data["image/png"]
                out.append((f"{kind}:image/png", "image", "".join(png) if isinstance(png, list) else png))
        elif kind == "error":
            out.append(("error", "error", f"{o.get('ename')}: {o.get('evalue')}"))
    return out


def _tags(cell):
    tags = set(cell.get("metadata", {}).get("tags", []))
    return tags


def _compare_images(stored_b64, fresh_b64):
    """(same_size, rms or None, note): matplotlib.testing.compare on the two PNGs when their sizes match."""
    import io

    from matplotlib.testing.compare import compare_images
    from PIL import Image

    a, b = base64.b64decode(stored_b64), base64.b64decode(fresh_b64)
    size_a, size_b = Image.open(io.BytesIO(a)).size, Image.open(io.BytesIO(b)).size
    if size_a != size_b:
        return False, None, f"stored {size_a[0]}x{size_a[1]}, fresh {size_b[0]}x{size_b[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        pa, pb = Path(tmp) / "stored.png", Path(tmp) / "fresh.png"
        pa.write_bytes(a)
        pb.write_bytes(b)
        result = compare_images(str(pa), str(pb), tol=0, in_decorator=True)
    rms = 0.0 if result is None else float(result["rms"])
    return True, rms, f"same size, RMS difference {rms:.3g}"


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
    return nb


def find_notebooks(paths):
    found = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found += sorted(q for q in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        elif path.is_file():
            if path.suffix != ".ipynb":
                raise BadInput(f"{path}: not a notebook (.ipynb); pass notebooks or folders of them")
            found.append(path)
        else:
            raise BadInput(f"{path}: no such notebook or folder")
    if not found:
        raise BadInput(f"{', '.join(map(str, paths))}: no notebooks found")
    return found


def execute(nb, path, timeout):
    """Execute a copy of ``nb`` in ``path``'s folder; returns (executed notebook, crash or None, seconds)."""
    import copy

    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    work = copy.deepcopy(nb)
    for cell in work.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            if _tags(cell) & {"nbval-skip", "repro-skip"}:
                cell["source"] = ""
    client = NotebookClient(work, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(Path(path).resolve().parent)}})
    start = time.perf_counter()
    crash = None
    import subprocess

    try:   # the kernel's own log lines (transport warnings, its interrupt traceback) are not ours to print
        client.execute(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except CellTimeoutError as exc:
        crash = f"a cell ran longer than --timeout {timeout} s ({str(exc).splitlines()[0][:120]})"
    except DeadKernelError as exc:
        crash = f"the kernel died ({exc})"
    return work, crash, time.perf_counter() - start


STAT_RUNS = 5   # fresh runs in all for a notebook whose numbers change between runs (t bound 17 instead of 10,050)


def _runs_differ(executed, code_cells, patterns):
    """Whether any compared code cell's text outputs (cosmetic parts masked) differ between the fresh runs."""
    for i, cell in code_cells:
        if _tags(cell) & {"nbval-ignore-output", "repro-ignore", "nbval-skip", "repro-skip"}:
            continue          # outputs nobody compares cannot ask for more runs
        seen = {tuple((lab, normalise(payload, patterns)[0]) for lab, kind, payload
                      in _joined_outputs(run.cells[i].get("outputs", [])) if kind != "image") for run in executed}
        if len(seen) > 1:
            return True
    return False


def check_notebook(path, runs=2, timeout=60, cosmetic=(), strict_digits=False, images=None, stat_runs=STAT_RUNS):
    """The record of one notebook (see the module docstring).

    ``runs`` fresh runs, and when their numbers differ (or a cell is tagged ``repro-random``), more, up to
    ``stat_runs`` in all: a deterministic notebook costs ``runs`` executions, and a nondeterministic one is
    judged on enough runs for the statistical rule (:func:`typical`) to flag a stored value that is out of
    place (with 2 runs only one beyond 10,050 prediction standard errors would be; with 5, beyond 17)."""
    nb = load_notebook(path)
    patterns = COSMETIC + [(f"user-{k}", p, "given with --cosmetic") for k, p in enumerate(cosmetic)]
    for name, pattern, _ in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise BadInput(f"--cosmetic {pattern!r}: not a regular expression ({exc})") from None
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"]
    stored_any = any(c.get("outputs") for _, c in code_cells)
    executed, crash, seconds = [], None, 0.0
    for _ in range(max(1, runs)):
        work, crash_k, sec = execute(nb, path, timeout)
        executed.append(work)
        seconds += sec
        crash = crash or crash_k
        if crash_k:
            break
    random_tagged = any("repro-random" in _tags(c) for _, c in code_cells)
    if not crash and len(executed) >= 2 and (random_tagged or _runs_differ(executed, code_cells, patterns)):
        while len(executed) < stat_runs and not crash:
            work, crash, sec = execute(nb, path, timeout)
            executed.append(work)
            seconds += sec
    compare_start = time.perf_counter()
    differences, rows, cells = [], [], []
    for i, cell in code_cells:
        tags = _tags(cell)
        meta = cell.get("metadata", {}).get("repro", {}) or {}
        if tags & {"nbval-skip", "repro-skip"}:
            continue
        stored = _joined_outputs(cell.get("outputs", []))
        fresh_all = [_joined_outputs(run.cells[i].get("outputs", [])) for run in executed]
        fresh = fresh_all[0]
        cells.append({"cell": i, "source": "".join(cell.get("source", ""))[:2000],
                      "stored": [(lab, kind, payload) for lab, kind, payload in stored],
                      "fresh": [(lab, kind, payload) for lab, kind, payload in fresh],
                      "ignored": bool(tags & {"nbval-ignore-output", "repro-ignore"})})
        fresh_errors = [p for lab, kind, p in fresh if kind == "error"]
        stored_errors = [p for lab, kind, p in stored if kind == "error"]
        expects_error = "raises-exception" in tags
        if fresh_errors and not stored_errors and not expects_error:
            differences.append(Difference(i, "error", "error", "", fresh_errors[0], "the cell raises now; its stored "
                                          "run did not"))
        elif stored_errors and not fresh_errors:
            differences.append(Difference(i, "error", "error", stored_errors[0], "",
                                          "the stored run raised here; the fresh run does not"))
        elif stored_errors and fresh_errors and stored_errors[0].split(":")[0] != fresh_errors[0].split(":")[0]:
            differences.append(Difference(i, "error", "error", stored_errors[0], fresh_errors[0],
                                          "a different exception is raised now"))
        if tags & {"nbval-ignore-output", "repro-ignore"}:
            continue
        fresh_by_label = {}
        for run in fresh_all:
            for lab, kind, payload in run:
                fresh_by_label.setdefault(lab, []).append(payload)
        for lab, kind, payload in stored:
            if kind == "error":
                continue
            if lab not in fresh_by_label:
                differences.append(Difference(i, lab, "text" if kind == "text" else kind, payload[:200], "",
                                              "the fresh run has no such output"))
                continue
            if kind == "image":
                same, rms, note = _compare_images(payload, fresh_by_label[lab][0])
                if not same or rms:
                    failing = images is not None and (not same or rms > images)
                    differences.append(Difference(i, lab, "image", "stored image", "fresh image",
                                                  note + (" (beyond --images)" if failing else "")))
                continue
            diffs, number_rows = compare_text(i, lab, payload, fresh_by_label[lab], patterns,
                                              rtol=float(meta.get("rtol", 0.0)), random="repro-random" in tags)
            differences += diffs
            rows += number_rows
    compare_seconds = time.perf_counter() - compare_start
    failing_kinds = {"numeric", "text", "error"} | ({"rounding"} if strict_digits else set())
    image_fail = images is not None and any(d.kind == "image" and "beyond --images" in d.explanation
                                            for d in differences)
    if crash or any(d.kind == "error" and d.fresh and not d.stored for d in differences):
        verdict = "crashed"
    elif not stored_any:
        verdict = "no-stored-outputs"
    elif any(d.kind in failing_kinds for d in differences) or image_fail:
        verdict = "not-reproduced"
    elif any(d.kind == "nondeterministic" for d in differences):
        verdict = "reproduced-statistically"
    else:
        verdict = "reproduced"
    return {"path": str(path), "verdict": verdict, "crash": crash, "runs": len(executed),
            "numbers_compared": len(rows),
            "numbers_reproduced": sum(r["kind"] in ("reproduced", "nondeterministic") for r in rows),
            "kinds": {k: sum(d.kind == k for d in differences) for k in
                      ("rounding", "numeric", "text", "error", "cosmetic", "nondeterministic", "image")},
            "differences": [d.as_dict() for d in differences], "numbers": rows, "cells": cells,
            "seconds_executing": round(seconds, 3), "seconds_comparing": round(compare_seconds, 4)}


def run_notebooks(paths, runs=2, timeout=60, cosmetic=(), strict_digits=False, images=None, progress=None,
                  stat_runs=STAT_RUNS):
    """The record of a `notebook` command: schema_version 1, environment, notebooks."""
    from .environment import fingerprint

    if runs < 1:
        raise BadInput(f"--runs {runs}: give 1 or more fresh runs (2 or more detect nondeterministic numbers)")
    if stat_runs < 2:
        raise BadInput(f"--stat-runs {stat_runs}: give 2 or more (the statistical rule needs at least 2 runs)")
    if timeout <= 0:
        raise BadInput(f"--timeout {timeout}: give a positive number of seconds per cell")
    notebooks = find_notebooks(paths)
    for path in notebooks:                  # every input validated before the first kernel starts
        load_notebook(path)
    records = []
    for n, path in enumerate(notebooks, 1):
        if progress:
            progress(f"[{n}/{len(notebooks)}] {path}")
        records.append(check_notebook(path, runs, timeout, cosmetic, strict_digits, images, stat_runs))
        if progress:
            progress(f"      {path}: {records[-1]['verdict']}", advance=True)
    return {"schema_version": 1, "environment": fingerprint(), "strict_digits": strict_digits, "runs": runs,
            "stat_runs": stat_runs,
            "notebooks": records,
            "exit_status": 0 if all(r["verdict"] in VERDICTS_OK for r in records) else 1}


def write_outputs(record, out):
    """notebooks.json, notebook_numbers.csv (one row per number) and notebooks.html into ``out``."""
    import csv
    import io
    import json

    from . import atomic, values

    slim = {**record, "notebooks": [{k: v for k, v in nb.items() if k != "cells"} for nb in record["notebooks"]]}
    atomic.write_text(out / "notebooks.json", json.dumps(values.json_safe(slim), indent=1, allow_nan=False) + "\n")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["notebook", "cell", "output", "stored", "fresh", "kind", "fresh_runs"])
    for nb in record["notebooks"]:
        for r in nb["numbers"]:
            writer.writerow([nb["path"], r["cell"], r["output"], r["stored"], r["fresh"], r["kind"],
                             " ".join(r["fresh_runs"])])
    atomic.write_text(out / "notebook_numbers.csv", buffer.getvalue())
    atomic.write_text(out / "notebooks.html", _html(record))


def _highlight(text, kinds_by_number):
    """HTML of a text with its numbers marked by their comparison kind."""
    from markupsafe import escape

    out, last = [], 0
    numbers = list(_NUMBER.finditer(text))
    for k, m in enumerate(numbers):
        out.append(str(escape(text[last:m.start()])))
        kind = kinds_by_number[k] if k < len(kinds_by_number) else ""
        out.append(f'<mark class="{kind}">{escape(m.group(0))}</mark>' if kind and kind != "reproduced"
                   else str(escape(m.group(0))))
        last = m.end()
    out.append(str(escape(text[last:])))
    return "".join(out)


def _html(record):
    from jinja2 import Environment, select_autoescape
    from markupsafe import Markup

    views = []
    for nb in record["notebooks"]:
        cells = []
        for cell in nb["cells"]:
            rows = []
            for lab, kind, payload in cell["stored"]:
                fresh = next((p for l2, k2, p in cell["fresh"] if l2 == lab), None)
                kinds = [r["kind"] for r in nb["numbers"] if r["cell"] == cell["cell"] and r["output"] == lab]
                if kind == "image":
                    rows.append({"label": lab, "image": True, "stored": payload, "fresh": fresh})
                else:
                    rows.append({"label": lab, "image": False, "stored": Markup(_highlight(payload, kinds)),
                                 "fresh": Markup(_highlight(fresh or "", kinds)) if fresh is not None else None})
            diffs = [d for d in nb["differences"] if d["cell"] == cell["cell"]]
            cells.append({"cell": cell["cell"], "source": cell["source"], "rows": rows, "diffs": diffs,
                          "ignored": cell["ignored"]})
        views.append({**nb, "cell_views": cells})
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(_TEMPLATE).render(record=record, views=views)


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>backprop-repro notebooks</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1280px;padding:0 1.2em 3em;color:#1d232b}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin:.4em 0 1em}th,td{border-bottom:1px solid #e3e7ed;padding:.25em .45em;text-align:left;vertical-align:top}
pre{margin:0;white-space:pre-wrap;font-size:12px}.cols{display:grid;grid-template-columns:1fr 1fr;gap:.6em}
mark.rounding{background:#fff4ce}mark.numeric{background:#f8d7da}mark.nondeterministic{background:#e0e7ff}
.reproduced,.reproduced-statistically,.no-stored-outputs{color:#17663a}.not-reproduced,.crashed{color:#b3261e;font-weight:600}
img{max-width:100%;border:1px solid #e3e7ed}.cell{border:1px solid #d5dbe3;border-radius:6px;padding:.5em .7em;margin:.6em 0}
code.src{display:block;white-space:pre-wrap;background:#f6f8fa;padding:.3em;font-size:12px}
</style></head><body>
<h1>Notebooks: stored outputs against fresh runs</h1>
<p>Python {{ record.environment.python }}, NumPy {{ record.environment.numpy }}; {{ record.runs }} fresh run(s) each.
Numbers are compared at the stored value's printed precision: <mark class="rounding">one unit in the last digit</mark>,
<mark class="numeric">more</mark>, <mark class="nondeterministic">varies between fresh runs</mark>.</p>
<table><tr><th>notebook</th><th>verdict</th><th>numbers reproduced</th><th>differences by kind</th></tr>
{% for nb in views %}<tr><td><a href="#nb{{ loop.index }}">{{ nb.path }}</a></td><td class="{{ nb.verdict }}">{{ nb.verdict }}</td>
<td>{{ nb.numbers_reproduced }} of {{ nb.numbers_compared }}</td><td>{% for k, n in nb.kinds.items() if n %}{{ n }} {{ k }} {% endfor %}</td></tr>{% endfor %}
</table>
{% for nb in views %}<section id="nb{{ loop.index }}"><h2>{{ nb.path }}: <span class="{{ nb.verdict }}">{{ nb.verdict }}</span></h2>
{% if nb.crash %}<p class="crashed">{{ nb.crash }}</p>{% endif %}
{% for c in nb.cell_views %}<div class="cell"><b>cell {{ c.cell }}</b>{% if c.ignored %} (outputs ignored by its tag){% endif %}
<code class="src">{{ c.source }}</code>
{% for r in c.rows %}<div class="cols"><div><i>stored {{ r.label }}</i>{% if r.image %}<img alt="stored" src="data:image/png;base64,{{ r.stored }}">{% else %}<pre>{{ r.stored }}</pre>{% endif %}</div>
<div><i>fresh</i>{% if r.fresh is none %}<p>(none)</p>{% elif r.image %}<img alt="fresh" src="data:image/png;base64,{{ r.fresh }}">{% else %}<pre>{{ r.fresh }}</pre>{% endif %}</div></div>{% endfor %}
{% if c.diffs %}<table><tr><th>kind</th><th>stored</th><th>fresh</th><th>explanation</th></tr>
{% for d in c.diffs %}<tr><td>{{ d.kind }}</td><td><code>{{ d.stored[:120] }}</code></td><td><code>{{ d.fresh[:120] }}</code></td><td>{{ d.explanation }}</td></tr>{% endfor %}</table>{% endif %}
</div>{% endfor %}</section>{% endfor %}
</body></html>
"""
