"""The pipeline: sources of observations -> typed comparisons -> one verdict record.

Sources: example runs (:func:`run_example`), the determinism probe (:mod:`backprop_repro.sources.probe`), seed sweeps
(:mod:`backprop_repro.sources.sweep`) and benchmark gates (:mod:`backprop_repro.sources.bench`). Comparisons, one kind per row type:

- a tolerance policy against a pin (``results``),
- printed digits against a document's text (``document_values``),
- a claim predicate (``claims``),
- declared RuntimeWarnings (``examples[].warnings_status``),
- bitwise equality across processes (``determinism``), a sampling bound (``sweeps``), a ratio gate
  (``bench``).

:func:`assemble` builds the record of a run once (:class:`backprop_repro.core.record.VerdictRecord`), with
its ``exit_status`` from :func:`backprop_repro.core.record.exit_code`, the one place that turns observations into
an exit code. Renderers (console, CSV, JSON, HTML) only read it.
"""

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from backprop_repro.store import pins
from backprop_repro.core import registry, values
from backprop_repro.core.environment import fingerprint
from backprop_repro.core import record as verdict
from backprop_repro.core.errors import BadInput
from backprop_repro.core.policies import compare, compare_printed

__all__ = ["ExampleRun", "ExampleOutcome", "run_example", "run_and_judge", "resolve_ids", "check", "assemble", "evaluate_claim",
           "RESULTS_SCHEMA_VERSION"]

RESULTS_SCHEMA_VERSION = 1


@dataclass
class ExampleRun:
    example: registry.Example
    quantities: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


def run_example(example):
    """Run one example, recording (not raising) the RuntimeWarnings its document code raises."""
    start = time.perf_counter()
    run = ExampleRun(example)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            run.quantities = {name: values.normalize(v) for name, v in example.run().items()}
        except Exception as exc:  # reported as status "error", never as a pass
            run.error = f"{type(exc).__name__}: {exc}"
    run.warnings = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    run.seconds = time.perf_counter() - start
    return run


def resolve_ids(ids):
    """Validate example ids (all when empty); unknown ids are bad input."""
    known = registry.example_ids()
    if not ids:
        return known
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise BadInput(f"unknown example id {', '.join(map(repr, unknown))}; valid ids: {', '.join(known)} "
                       f"(see `backprop-repro list`)")
    return list(dict.fromkeys(ids))


def jsonable(value):
    """Nested lists of Python scalars; non-finite floats become None (JSON has no NaN)."""
    if isinstance(value, str) or value is None:
        return value
    return values.json_safe(np.asarray(value).tolist())


def _row(example_id, name, actual, expected, policy, reason, comparison, status, message=""):
    def meta(v):
        if v is None:
            return None, None
        if isinstance(v, str):
            return "str", []
        return np.asarray(v).dtype.name, list(np.shape(v))

    dtype, shape = meta(actual if actual is not None else expected)
    c = comparison
    return {"example": example_id, "quantity": name, "dtype": dtype, "shape": shape,
            "actual": jsonable(actual), "expected": jsonable(expected), "policy": policy, "reason": reason,
            "max_abs_error": None if c is None else values.json_safe(c.max_abs_error),
            "max_rel_error": None if c is None else values.json_safe(c.max_rel_error),
            "max_ulp": None if c is None else c.max_ulp,
            "n_mismatch": None if c is None else c.n_mismatch,
            "status": status, "message": message or ("" if c is None else c.message)}


def compare_example(run, pin, strict=False):
    """Result rows of one example run against its pin (None when the pin file is missing)."""
    ex = run.example
    if run.error:
        return [_row(ex.id, "*", None, None, None, None, None, "error", f"example raised {run.error}")]
    if pin is not None:
        missing = [q for q in run.quantities if q not in pin.quantities]
        extra = [q for q in pin.quantities if q not in run.quantities]
        if missing or extra:
            problem = (f"lacks quantity {missing[0]!r} that the example produces" if missing
                       else f"has quantity {extra[0]!r} that the example does not produce")
            raise BadInput(f"{pin.path}: quantities: {problem}; if the example changed on purpose run "
                           f"`backprop-repro pins update {ex.id}` and review the diff, else restore the file")
    rows = []
    for name, actual in run.quantities.items():
        policy, reason = registry.policy_for(ex, name)
        if pin is None:
            rows.append(_row(ex.id, name, actual, None, policy, reason, None, "missing-pin",
                             f"no pin file; run `backprop-repro pins update {ex.id}` and review the diff"))
            continue
        pinned = pin.quantities[name]
        comparison = compare(actual, pinned["value"], policy, strict=strict)
        status, message = ("pass" if comparison.passed else "fail"), comparison.message
        if pinned["policy"] != policy:
            status = "fail"
            message = (f"policy is {policy!r} in {ex.module_name} but {pinned['policy']!r} in the pin; run "
                       f"`backprop-repro pins update {ex.id}`. {message}").strip()
        rows.append(_row(ex.id, name, actual, pinned["value"], policy, reason, comparison, status, message))
    return rows


def _warning_check(run):
    expected = run.example.expected_warnings
    unexpected = [w for w in run.warnings if not any(e in w for e in expected)]
    absent = [e for e in expected if not any(e in w for w in run.warnings)]
    ok = not unexpected and not absent
    note = "; ".join([f"unexpected: {w}" for w in unexpected] + [f"expected but not raised: {e}" for e in absent])
    return ok, note


def printed_rows(run):
    """The document's printed values of one example at printed precision, against the reviewed outcomes."""
    ex, rows = run.example, []
    for dv in ex.printed:
        actual = run.quantities.get(dv.quantity) if not run.error else None
        if actual is None:
            outcome, comparison, value = "error", None, None
        else:
            value = actual if isinstance(actual, str) else actual[dv.index]
            comparison = compare_printed(value, dv.printed)
            outcome = "reproduced" if comparison.passed else "not-reproduced"
        status = "pass" if outcome == dv.expected else "fail"
        rows.append({"id": ex.printed_id(dv), "example": ex.id, "quantity": dv.quantity, "index": list(dv.index),
                     "document": dv.document, "section": dv.section, "printed": dv.printed,
                     "actual": jsonable(value), "policy": "printed",
                     "abs_error": None if comparison is None else values.json_safe(comparison.max_abs_error),
                     "outcome": outcome, "expected_outcome": dv.expected, "status": status,
                     "note": dv.note or ("" if comparison is None or comparison.passed else comparison.message)})
    return rows


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def evaluate_claim(example, claim, quantities):
    """The ledger row of a claim over an example's fresh quantities (name -> value)."""
    try:
        measured, holds = claim.measure(quantities)
        if holds is None:      # the measure could not run here (an optional oracle is missing)
            verdict, status, note = "unavailable", "unavailable", str(measured)
            measured = None
        else:
            verdict, note = (("reproduced-with-caveat", claim.caveat) if claim.caveat else ("reproduced", "")) \
                if holds else ("not-reproduced", claim.explanation)
            status = "pass" if verdict == claim.expected else "fail"
            if status == "fail":
                note = f"verdict changed from the reviewed {claim.expected!r}. {note}".strip()
    except Exception as exc:  # a measure that breaks is reported, never passed
        measured, verdict, status, note = None, "error", "error", f"{type(exc).__name__}: {exc}"
    return {"id": example.claim_id(claim), "example": example.id, "document": claim.document,
            "section": claim.section, "claim": claim.claim, "predicate": claim.predicate,
            "measured": values.json_safe(_plain(measured)), "verdict": verdict, "expected_verdict": claim.expected,
            "status": status, "note": note}


def claim_rows(run):
    if run.error:
        return [{"id": run.example.claim_id(c), "example": run.example.id, "document": c.document,
                 "section": c.section, "claim": c.claim, "predicate": c.predicate, "measured": None,
                 "verdict": "error", "expected_verdict": c.expected, "status": "error",
                 "note": f"example raised {run.error}"} for c in run.example.claims]
    return [evaluate_claim(run.example, c, run.quantities) for c in run.example.claims]


# "platform" is left out: it carries the kernel build, which changes with every host update and no bit.
_ENV_KEYS = ("numpy", "python", "system", "machine", "cpu", "blas")


def environment_differences(env, loaded):
    """Fingerprint fields in which this run differs from the environment that made each pin set."""
    differences = {}
    for example_id, pin in loaded.items():
        if pin is None:
            continue
        for key in _ENV_KEYS + ("simd", "simd_targets", "blas_core", "settings"):
            pinned, now = pin.provenance.get(key), env.get(key)
            if pinned is not None and pinned != now:
                entry = differences.setdefault(key, {"now": now, "pins": {}})
                entry["pins"].setdefault(_json_key(pinned), []).append(example_id)
    return differences


def _json_key(value):
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items()) or "none"
    return " ".join(value) if isinstance(value, list) else str(value)


def assemble(environment, *, examples=(), results=(), document_values=(), claims=(), strict=False,
             determinism=None, sweeps=(), bench=None):
    """The verdict record of one run (results.json, schema_version 1), built once with its exit status."""
    payload = {"schema_version": RESULTS_SCHEMA_VERSION, "environment": environment, "strict": strict,
              "examples": list(examples), "results": list(results), "document_values": list(document_values),
              "claims": list(claims), "sweeps": list(sweeps)}
    if determinism is not None:
        payload["determinism"] = determinism
    if bench is not None:
        payload["bench"] = bench
    payload = values.json_safe(payload)
    return verdict.build("sweep" if sweeps else "check", verdict.results_observations(payload),
                         environment=payload["environment"], payload=payload, status_key=True)


def load_pins(ids, pins_dir):
    """The pins of ``ids`` (None where a file is missing); orphans and malformed pins are bad input."""
    orphans = pins.orphaned_pins(pins_dir)
    if orphans:
        raise BadInput(f"{orphans[0]}: orphaned pin (no example {orphans[0].stem!r}); delete it or add the example "
                       f"(valid ids: {', '.join(registry.example_ids())})")
    return {i: pins.load_pin(pins_dir, i) for i in ids}


def _example_entry(example, run, pin, warnings_ok, warnings_note):
    return {"example": example.id, "module": example.module_name, "documents": list(example.documents),
            "section": example.section, "summary": example.summary, "seconds": round(run.seconds, 4),
            "warnings": run.warnings, "expected_warnings": list(example.expected_warnings),
            "warnings_status": "pass" if warnings_ok else "fail", "warnings_note": warnings_note,
            "figures": [_figure_spec(f) for f in example.figures],
            "pin_provenance": pin.provenance if pin else None}


@dataclass(frozen=True)
class ExampleOutcome:
    """What one example's run yields, built where it ran: its quantities, warnings, error and time, and its
    printed-value and claim rows."""
    quantities: dict
    warnings: list
    error: str | None
    seconds: float
    printed: list
    claims: list

    @classmethod
    def of(cls, run):
        return cls(run.quantities, run.warnings, run.error, run.seconds, printed_rows(run), claim_rows(run))


def run_and_judge(example_id, module_name):
    """Run one example and evaluate its printed values and claims (a worker process's task)."""
    return ExampleOutcome.of(run_example(registry.Example(example_id, module_name)))


# the quiet process pool is shared with `notebook --jobs` (backprop_repro/core/pool.py)


def _outcomes(examples, pool, while_waiting=None):
    """(example, outcome) as each finishes: in this process without a pool, else in the pool's workers
    (``while_waiting()`` is called once they are all submitted)."""
    if pool is None:
        for example in examples:
            yield example, ExampleOutcome.of(run_example(example))
        return
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    futures = {pool.submit(run_and_judge, e.id, e.module_name): e for e in examples}
    try:
        if while_waiting:
            while_waiting()
        for future in as_completed(futures):
            example = futures[future]
            try:
                yield example, future.result()
            except BrokenProcessPool as exc:   # a worker died (a crash in C code, a kill): that example errs
                yield example, ExampleOutcome.of(ExampleRun(example, error=f"the worker process running it died "
                                                                          f"({exc})"))
    finally:
        for future in futures:
            future.cancel()


def check(ids, pins_dir, progress=None, strict=False, repeat=1, bench=None, pool=None, on_example=None,
          while_waiting=None):
    """Run, compare and assemble; returns the record. Bad pins raise BadInput before anything runs.

    ``strict`` compares every quantity bitwise (for the environment that made the pins); ``repeat``
    > 1 adds the determinism probe; ``bench`` is a benchmark section (:func:`backprop_repro.sources.bench.load_section`).
    ``pool`` (:func:`backprop_repro.core.pool.example_pool`) runs the examples in parallel; the record is the same bit for bit and
    in the order of ``ids``. ``on_example(entry, rows)`` is called as each example is judged; ``while_waiting()``
    once the pool has them all (work for this process while the workers start)."""
    ids = resolve_ids(ids)
    loaded = load_pins(ids, pins_dir)
    examples = [registry.get(example_id) for example_id in ids]
    judged = {}
    if progress:
        progress(f"running {len(ids)} example{'s' * (len(ids) != 1)}" + (" in parallel" if pool else "") + " ...")
    for n, (example, outcome) in enumerate(_outcomes(examples, pool, while_waiting), 1):
        run = ExampleRun(example, outcome.quantities, outcome.warnings, outcome.error, outcome.seconds)
        rows = compare_example(run, loaded[example.id], strict)
        ok, note = _warning_check(run)
        entry = _example_entry(example, run, loaded[example.id], ok, note)
        judged[example.id] = (entry, rows, outcome)
        if on_example:
            on_example(entry, rows)
        if progress:
            progress(f"[{n}/{len(ids)}] {example.id}: {run.seconds:.2f} s", advance=True)
    entries, rows, printed, claims = [], [], [], []
    for example_id in ids:
        entry, example_rows, outcome = judged[example_id]
        entries.append(entry)
        rows.extend(example_rows)
        printed.extend(outcome.printed)
        claims.extend(outcome.claims)
    determinism = None
    if repeat > 1:
        from backprop_repro.sources import probe

        _, differences = probe.repeat(ids, repeat, progress)
        determinism = {"repeats": repeat, "processes": "separate", "status": "fail" if differences else "pass",
                       "differences": differences}
    env = fingerprint()
    env["differs_from_pins"] = environment_differences(env, loaded)
    return assemble(env, examples=entries, results=rows, document_values=printed, claims=claims, strict=strict,
                    determinism=determinism, bench=bench)


def _figure_spec(figure):
    return {"caption": figure.caption, "title": figure.title, "xlabel": figure.xlabel, "ylabel": figure.ylabel,
            "series": [list(s) for s in figure.series], "x": figure.x, "logx": figure.logx, "logy": figure.logy}
