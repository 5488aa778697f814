"""``backprop-repro selftest --notebooks``: prove that the notebook checker bites.

The notebook shipped beside this module (``selftest_notebooks/outputs.ipynb``, written for this purpose: stored
floats, integers, an array, a DataFrame, two displays, an exception, a timing, a NumPy scalar, a figure repr, a
set and an image, and beside each excuse rule a number it must not swallow: counts after timing words, an Axes
title, a line after a warning, two sets, a negative zero, a float32 word, a hex after 'at', a log line) is executed
once, in a temporary copy, by the same kernel as ``backprop-repro notebook``. Each entry of the catalogue then
changes one thing in a copy of its *stored* outputs, and that copy is judged against
the one fresh run by the notebook checker itself (:func:`.judge.check_notebook`, no kernel per change):

- a *mutation* (:data:`MUTATIONS`) must be caught: the notebook fails, with a difference of the expected kind in the
  changed cell (and output, where given): ``killed``; else it survived (or was caught with another kind);
- an *equivalence* (:data:`EQUIVALENCES`) is a change that says nothing about the computation (legacy NumPy spacing,
  another line width, CRLF, NumPy 2 scalar reprs, a figure size, a set's order, a timing): it must pass, else it is
  a *false alarm*. The unmutated stored outputs are the first equivalence.

The record (``notebooks`` in selftest.json) gives every row, the kill rate (goal 100 %) and the false alarms (goal
0); any survivor or false alarm fails (exit 1).
"""

import base64
import copy
import io
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from backprop_repro.core.errors import BadInput, RunFailed

__all__ = ["NOTEBOOK", "Change", "MUTATIONS", "EQUIVALENCES", "catalogue", "mutated", "run_notebook_selftest",
           "verdict"]

#: The notebook whose stored outputs are changed (package data: the installed tool carries it).
NOTEBOOK = Path(__file__).resolve().parent / "selftest_notebooks" / "outputs.ipynb"
TIMEOUT = 120   # seconds per cell of the one fresh run


@dataclass(frozen=True)
class Change:
    """One change to the stored outputs of the cell with id ``cell``: every ``old`` in its outputs' texts (stream
    text, MIME texts, an error's type and message) becomes ``new``, or ``edit(outputs)`` changes the list itself.
    No cell ('') changes nothing: the stored outputs as they are. ``expect`` is the kind a mutation must be caught
    with ('' for an equivalence, which must pass); ``output`` the label the difference must carry (a prefix, such as
    'display_data#2'); ``rule`` the cosmetic rule expected to excuse an equivalence (recorded, not required: another
    NumPy may print the stored text already); ``options`` the judge's (``images``)."""
    id: str
    cell: str
    why: str
    old: str = ""
    new: str = ""
    edit: object = None
    expect: str = ""
    output: str = ""
    rule: str = ""
    options: dict = field(default_factory=dict)


def _texts(output):
    """(container, key) of every text field of one output."""
    found = [(output, k) for k in ("text", "ename", "evalue") if k in output]
    data = output.get("data") or {}
    return found + [(data, m) for m in data if m.startswith("text/") or m == "application/json"]


def _drop(index):
    def edit(outputs):
        del outputs[index]
    return edit


def _append(output):
    def edit(outputs):
        outputs.append(copy.deepcopy(output))
    return edit


def _crlf(outputs):
    for output in outputs:
        for box, key in _texts(output):
            box[key] = _joined(box[key]).replace("\n", "\r\n")


def _pixel(outputs):
    """One pixel of the first PNG changed by 9 grey levels, re-encoded (a decodable image that differs)."""
    from PIL import Image

    data = next(o["data"] for o in outputs if "image/png" in (o.get("data") or {}))
    image = Image.open(io.BytesIO(base64.b64decode(_joined(data["image/png"]))))
    image.putpixel((3, 3), (image.getpixel((3, 3)) + 9) % 256)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data["image/png"] = base64.b64encode(buffer.getvalue()).decode()


def _png_byte(outputs):
    """One byte in the middle of the first PNG flipped: an image that no longer decodes (its checksum fails)."""
    data = next(o["data"] for o in outputs if "image/png" in (o.get("data") or {}))
    raw = bytearray(base64.b64decode(_joined(data["image/png"])))
    raw[len(raw) // 2] ^= 0x55
    data["image/png"] = base64.b64encode(bytes(raw)).decode()


def _both(*edits):
    def edit(outputs):
        for one in edits:
            one(outputs)
    return edit


def _replace(old, new):
    def edit(outputs):
        for output in outputs:
            for box, key in _texts(output):
                box[key] = _joined(box[key]).replace(old, new)
    return edit


def _sub(pattern, new):
    """Every match of a regular expression in the outputs' texts replaced (a stored address, a clock time)."""
    import re

    def edit(outputs):
        for output in outputs:
            for box, key in _texts(output):
                box[key] = re.sub(pattern, new, _joined(box[key]))
    return edit


def _joined(value):
    return "".join(value) if isinstance(value, list) else value


_ARRAY = ("array([0.   , 0.125, 0.25 , 0.375, 0.5  , 0.625, 0.75 , 0.875, 1.   ,\n"
          "       1.125, 1.25 , 1.375])")
_LEGACY = ("array([ 0.   ,  0.125,  0.25 ,  0.375,  0.5  ,  0.625,  0.75 ,  0.875,\n"
           "        1.   ,  1.125,  1.25 ,  1.375])")          # NumPy's legacy='1.13' printing: a sign space
_NARROW = ("array([0.   , 0.125, 0.25 , 0.375,\n       0.5  , 0.625, 0.75 , 0.875,\n"
           "       1.   , 1.125, 1.25 , 1.375])")             # np.set_printoptions(linewidth=40)

#: Changes that must be caught, each with the kind of difference that names it.
MUTATIONS = [
    Change("float-last-digit", "floats", "a float printed to 6 digits, changed by one unit in its last digit",
           "loss 0.333333", "loss 0.333334", expect="numeric"),
    Change("float-full-precision", "floats", "a float printed at full precision (17 digits) moved by 4 ULP, more "
           "than a last-bit change", "0.30000000000000004", "0.30000000000000027", expect="numeric"),
    Change("integer-plus-1", "integer", "an integer + 1", "42", "43", expect="numeric"),
    Change("integer-minus-1", "integer", "an integer - 1", "42", "41", expect="numeric"),
    Change("array-element", "array", "one element of a NumPy array", "0.375", "0.385", expect="numeric"),
    Change("frame-cell", "frame", "one cell of a DataFrame (its text and its HTML)", "2.25", "2.35", expect="numeric"),
    Change("second-display", "displays", "the second of two display() values", edit=lambda o: _replace("2.5", "2.6")(
        o[1:]), expect="numeric", output="display_data#2"),
    Change("word", "two-outputs", "a word of printed text", "fitting", "fitted", expect="text"),
    Change("output-added", "two-outputs", "an output the stored run did not have (its printed line removed from the "
           "stored outputs)", edit=_drop(0), expect="added", output="stream:stdout"),
    Change("output-removed", "scalar", "a stored output the fresh run does not make (one more display stored)",
           edit=_append({"output_type": "display_data", "metadata": {}, "data": {"text/plain": "7"}}),
           expect="missing", output="display_data"),
    Change("exception-type", "error", "another exception type, same message", "ValueError", "TypeError",
           expect="error"),
    Change("exception-message", "error", "another exception message, same type", "bad value", "bad input",
           expect="error"),
    Change("number-beside-timing", "timing", "a number on the line of a masked timing", "loss 0.25", "loss 0.35",
           expect="numeric"),
    Change("number-in-numpy-scalar", "scalar", "the number inside a NumPy 2 scalar repr", "(0.5)", "(0.75)",
           expect="numeric"),
    Change("axes-beside-figure-size", "figure", "the axes count beside a masked figure size", "with 1 Axes",
           "with 2 Axes", expect="numeric"),
    Change("set-element", "set", "an element of a printed set", "3}", "4}", expect="numeric"),
    Change("digit-in-crlf-text", "floats", "a digit in a text that also has CRLF line ends",
           edit=_both(_crlf, _replace("0.333333", "0.333334")), expect="numeric"),
    # a real change right beside each excuse rule: a rule that grows to swallow its neighbour is caught
    Change("count-after-took", "timing-words", "a count after 'took' with no time unit ('took 12 iterations')",
           "took 12 iterations", "took 99 iterations", expect="numeric"),
    Change("count-after-duration", "timing-words", "a count after 'Duration' ('Duration 5 epochs')",
           "Duration 5 epochs", "Duration 50 epochs", expect="numeric"),
    Change("eta-learning-rate", "timing-words", "'eta=0.3', a learning rate, not an ETA", "eta=0.3", "eta=0.9",
           expect="numeric"),
    Change("loss-beside-eta", "timing-words", "the loss beside a masked ETA clock", "0:01:02, loss 0.5",
           "0:01:02, loss 0.6", expect="numeric"),
    Change("duration-row", "timing-words", "the 'duration' row of a pandas Series", "duration    12.0",
           "duration    13.0", expect="numeric", output="execute_result"),
    Change("count-before-loops", "timing-words", "a count before 'loops' that is no %timeit loop count",
           "found 3 loops", "found 7 loops", expect="numeric"),
    Change("timeit-run-count", "timing-words", "%timeit's run count beside its masked loop count", "of 7 runs",
           "of 5 runs", expect="numeric"),
    Change("axes-title-number", "axes", "the number in an Axes repr's title", "acc 0.93", "acc 0.13",
           expect="numeric"),
    Change("axes-label-number", "axes", "the number in an Axes repr's xlabel", "epoch 3", "epoch 4",
           expect="numeric"),
    Change("line-after-warning", "warning", "an indented stderr line after a warning and its source line",
           "loss 0.5", "loss 9.5", expect="numeric", output="stream:stderr"),
    Change("element-between-sets", "sets", "an element moved from one printed set to another", "{1, 2}\n{3, 4}",
           "{4, 2}\n{3, 1}", expect="numeric"),
    Change("frozenset-as-set", "sets", "a frozenset printed as a set (its type changed)", "frozenset({5, 6})",
           "{5, 6}", expect="text"),
    Change("zero-sign", "zero", "a negative zero printed as 0.0", "-0.0 -0.0", "-0.0 0.0", expect="numeric"),
    Change("float64-beside-float32-word", "float32", "a 7-digit float64 in an output that names float32 elsewhere, "
           "one unit in its last digit", "lr 0.1234567", "lr 0.1234568", expect="numeric"),
    Change("hex-after-at", "address", "a hex checksum after 'at' (no object repr)", "0xdeadbeef", "0x00000000",
           expect="text"),
    Change("loss-beside-log-timestamp", "log", "the loss on a log line whose timestamp is masked", "INFO loss 0.5",
           "INFO loss 0.6", expect="numeric"),
    Change("image-pixel", "image", "one pixel of a PNG (judged with --images 0)", edit=_pixel, expect="image",
           options={"images": 0.0}),
    Change("image-bytes", "image", "one byte of a PNG flipped, so that it no longer decodes (default options)",
           edit=_png_byte, expect="image"),
]

#: Changes that must pass: each says nothing about the computation.
EQUIVALENCES = [
    Change("unmutated", "", "the stored outputs as they are (judged with --images 0)", options={"images": 0.0}),
    Change("legacy-spacing", "array", "NumPy's legacy (1.13) printing, a space before each sign", _ARRAY, _LEGACY,
           rule="layout"),
    Change("line-width", "array", "the array printed at another line width (40)", _ARRAY, _NARROW, rule="layout"),
    Change("crlf", "floats", "CRLF line ends", edit=_crlf, rule="layout"),
    Change("numpy2-scalar-repr", "scalar", "NumPy 1.x's 0.5 for NumPy 2's np.float64(0.5)", "np.float64(0.5)", "0.5",
           rule="numpy-scalar-repr"),
    Change("figure-size", "figure", "a figure repr of another default size", "640x480", "432x288",
           rule="figure-repr"),
    Change("set-order", "set", "a set printed in another order", "{1, 2, 3}", "{3, 1, 2}", rule="collection-order"),
    Change("timing", "timing", "another duration after 'took'", "took 0.0 s", "took 1.3 s", rule="timing"),
    Change("eta-clock", "timing-words", "another ETA clock time", "ETA 0:01:02", "ETA 0:00:07", rule="timing"),
    Change("elapsed-without-unit", "timing-words", "another bare duration after 'Elapsed time'", "Elapsed time 3.2",
           "Elapsed time 4.1", rule="timing"),
    Change("timeit-loops", "timing-words", "another %timeit result and loop count",
           "1.2 ms ± 30.1 µs per loop (mean ± std. dev. of 7 runs, 1,000 loops each)",
           "950 µs ± 12 µs per loop (mean ± std. dev. of 7 runs, 10,000 loops each)", rule="timing"),
    Change("axes-type-name", "axes", "matplotlib 3.3-3.6's AxesSubplot repr of the same axes",
           "<Axes: title={'center': 'acc 0.93'}, xlabel='epoch 3'>",
           "<AxesSubplot:title={'center':'acc 0.93'}, xlabel='epoch 3'>", rule="figure-repr"),
    Change("warning-source-line", "warning", "another source line echoed under the warning",
           'warnings.warn("careful")', 'warnings.warn("careful", stacklevel=2)', rule="warnings"),
    Change("sets-order", "sets", "two printed sets, each in another order", "{1, 2}\n{3, 4}", "{2, 1}\n{4, 3}",
           rule="collection-order"),
    Change("object-address", "address", "another address in an object's repr", edit=_sub(r"object at 0x[0-9a-f]+",
                                                                                        "object at 0x7f0012345678"),
           rule="object-address"),
    Change("log-timestamp", "log", "another timestamp on a log line",
           edit=_sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", "2031-01-02 03:04:05,678"), rule="log-timestamp"),
]


def catalogue(only=None):
    """(mutations, equivalences), restricted to the ids in ``only`` (bad input: an unknown id, or none given)."""
    known = [c.id for c in MUTATIONS + EQUIVALENCES]
    if only is not None and not only:
        raise BadInput("--only: no names given; name one or more of: " + ", ".join(known))
    unknown = sorted(set(only or ()) - set(known))
    if unknown:
        raise BadInput(f"--only {unknown[0]}: unknown notebook change; known: {', '.join(known)}")
    keep = (lambda c: c.id in only) if only else (lambda c: True)
    return [c for c in MUTATIONS if keep(c)], [c for c in EQUIVALENCES if keep(c)]


def mutated(nb, change):
    """A copy of notebook ``nb`` with ``change`` applied to its stored outputs; RunFailed when it changes nothing
    (the catalogue and the notebook disagree: the selftest would prove nothing)."""
    import json

    work = copy.deepcopy(nb)
    if not change.cell:                 # the unmutated stored outputs
        return work
    cell = next((c for c in work.cells if c.get("id") == change.cell), None)
    if cell is None:
        raise RunFailed(f"selftest --notebooks: {change.id}: no cell {change.cell!r} in {NOTEBOOK.name}")
    before = json.dumps(cell.get("outputs", []), sort_keys=True)
    (change.edit or _replace(change.old, change.new))(cell["outputs"])
    if json.dumps(cell["outputs"], sort_keys=True) == before:
        raise RunFailed(f"selftest --notebooks: {change.id}: changes nothing in the stored outputs of cell "
                        f"{change.cell!r} of {NOTEBOOK.name} ({change.old!r} not there); the catalogue and the "
                        f"notebook disagree")
    return work


def _judge(nb, change, folder, fresh):
    """The checker's record of ``nb`` with ``change`` applied, against the fresh run ``fresh``."""
    import json

    from .judge import check_notebook

    path = folder / f"{change.id}.ipynb"
    path.write_text(json.dumps(mutated(nb, change)), encoding="utf-8")
    return check_notebook(path, runs=1, images=change.options.get("images"), fresh=fresh)


def _row(change, record, index):
    """One selftest row: what the checker found in the changed cell, and whether that is what the change asks."""
    from .judge import VERDICTS_OK

    here = [d for d in record["differences"] if index is None or d["cell"] == index]
    found = sorted({d["kind"] for d in here if d["kind"] != "cosmetic"})
    rules = sorted({d["explanation"].split(":")[0] for d in here if d["kind"] == "cosmetic"})
    failed = record["verdict"] not in VERDICTS_OK
    row = {"id": change.id, "why": change.why, "cell": change.cell, "verdict": record["verdict"],
           "kinds_found": found, "excused_by": rules}
    if not change.expect:
        alarm = next((d for d in record["differences"] if d["kind"] != "cosmetic"), None)
        return {**row, "rule": change.rule, "passed": not failed,
                "alarm": "" if alarm is None else f"cell {alarm['cell']} {alarm['kind']}: {alarm['explanation']}"}
    match = [d for d in here if d["kind"] == change.expect and d["output"].startswith(change.output)]
    other = [d for d in record["differences"] if d["kind"] != "cosmetic"]
    return {**row, "expected_kind": change.expect, "expected_output": change.output or None,
            "killed": failed and bool(match),
            "caught_by": (match or other or [{"explanation": ""}])[0]["explanation"][:300]}


def run_notebook_selftest(only=None, progress=None):
    """(rows of the mutations, rows of the equivalences, seconds of the fresh run, seconds judging): :data:`NOTEBOOK`
    (the catalogue names its cells) executed once in a temporary copy, each change judged against that one run."""
    import shutil

    from .judge import _sigterm_interrupts, execute, load_notebook

    mutations, equivalences = catalogue(only)
    source = NOTEBOOK
    with tempfile.TemporaryDirectory(prefix="backprop-nb-selftest-") as tmp:
        folder = Path(tmp)
        copied = folder / source.name
        shutil.copyfile(source, copied)
        nb = load_notebook(copied)
        for change in mutations + equivalences:       # the whole catalogue checked before the kernel starts
            mutated(nb, change)
        index = {c.get("id"): i for i, c in enumerate(nb.cells)}
        if progress:
            progress(f"selftest --notebooks: one fresh run of {source.name}", advance=True)
        with _sigterm_interrupts():
            work, crash, seconds = execute(nb, copied, TIMEOUT)
        if crash:
            raise RunFailed(f"selftest --notebooks: {source} crashed in its fresh run ({crash['detail'][:200]}); "
                            f"nothing can be judged against it")
        start, rows = time.perf_counter(), ([], [])
        for change in mutations + equivalences:
            row = _row(change, _judge(nb, change, folder, ([work], None, seconds)), index.get(change.cell))
            rows[0 if change.expect else 1].append(row)
            if progress:
                state = ("killed" if row["killed"] else "SURVIVED") if change.expect else (
                    "passed" if row["passed"] else "FALSE ALARM")
                progress(f"{change.id}: {state}", advance=True)
        return rows[0], rows[1], seconds, time.perf_counter() - start


def verdict(mutation_rows, equivalence_rows, seconds_fresh=0.0, seconds_judging=0.0):
    """The record (selftest.json's ``notebooks`` section): one observation per change, failing for a survivor or a
    false alarm; the kill rate over the mutations and the count of false alarms."""
    from backprop_repro.core import record

    survivors = [r["id"] for r in mutation_rows if not r["killed"]]
    alarms = [r["id"] for r in equivalence_rows if not r["passed"]]
    killed = len(mutation_rows) - len(survivors)
    section = {"notebook": NOTEBOOK.name, "mutations": mutation_rows, "equivalences": equivalence_rows,
               "killed": killed, "mutations_total": len(mutation_rows),
               "kill_rate": killed / len(mutation_rows) if mutation_rows else None,
               "false_alarms": len(alarms), "equivalences_total": len(equivalence_rows), "survivors": survivors,
               "false_alarm_ids": alarms, "seconds_fresh_run": round(seconds_fresh, 2),
               "seconds_judging": round(seconds_judging, 2)}
    observations = [record.Observation(record.Kind.MUTATION, f"notebook:{r['id']}",
                                       "fail" if r["id"] in survivors else "pass", r["cell"], r["expected_kind"],
                                       ", ".join(r["kinds_found"]) or "none", note=r["why"]) for r in mutation_rows]
    observations += [record.Observation(record.Kind.NOTEBOOK, f"notebook:{r['id']}",
                                        "fail" if r["id"] in alarms else "pass", r["cell"], "pass",
                                        "pass" if r["passed"] else "false alarm", note=r["why"])
                     for r in equivalence_rows]
    return record.build("selftest", observations, payload={"schema_version": 1, "notebooks": section},
                        summaries={"killed": killed, "mutations": len(mutation_rows), "false_alarms": len(alarms),
                                   "equivalences": len(equivalence_rows)})
