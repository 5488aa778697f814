"""Run examples, compare them with their pins, the documents' printed values and claims.

Produces the ``results.json`` record of the contract (schema_version 1) and the exit code.
"""

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import claims as claims_mod
from . import pins, registry, values
from .document_values import DOCUMENT_VALUES
from .environment import fingerprint
from .errors import EXIT_OK, EXIT_REGRESSION, BadInput
from .policies import compare, compare_printed

__all__ = ["ExampleRun", "run_example", "resolve_ids", "check", "RESULTS_SCHEMA_VERSION"]

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
    if not ids:
        return registry.example_ids()
    unknown = [i for i in ids if i not in registry.EXAMPLES]
    if unknown:
        raise BadInput(f"unknown example id {', '.join(map(repr, unknown))}; valid ids: "
                       f"{', '.join(registry.example_ids())} (see `backprop-repro list`)")
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
            "max_abs_error": None if c is None else _finite(c.max_abs_error),
            "max_rel_error": None if c is None else _finite(c.max_rel_error),
            "max_ulp": None if c is None else c.max_ulp,
            "n_mismatch": None if c is None else c.n_mismatch,
            "status": status, "message": message or ("" if c is None else c.message)}


def _finite(x):
    return values.json_safe(x)


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
            message = (f"policy is {policy!r} in the registry but {pinned['policy']!r} in the pin; run "
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


def document_value_rows(runs):
    rows = []
    for dv in DOCUMENT_VALUES:
        run = runs.get(dv.example)
        if run is None:
            continue
        actual = run.quantities.get(dv.quantity) if not run.error else None
        if actual is None:
            outcome, comparison, value = "error", None, None
        else:
            value = actual if isinstance(actual, str) else actual[dv.index]
            comparison = compare_printed(value, dv.printed)
            outcome = "reproduced" if comparison.passed else "not-reproduced"
        status = "pass" if outcome == dv.expected else "fail"
        rows.append({"example": dv.example, "quantity": dv.quantity, "index": list(dv.index),
                     "document": dv.document, "section": dv.section, "printed": dv.printed,
                     "actual": jsonable(value), "policy": "printed",
                     "abs_error": None if comparison is None else _finite(comparison.max_abs_error),
                     "outcome": outcome, "expected_outcome": dv.expected, "status": status,
                     "note": dv.note or ("" if comparison is None or comparison.passed else comparison.message)})
    return rows


def claim_rows(runs):
    def get(example_id, quantity):
        return runs[example_id].quantities[quantity]

    return [claims_mod.evaluate(c, get) for c in claims_mod.CLAIMS
            if all(e in runs and not runs[e].error for e in c.examples)
            and (c.examples or len(runs) == len(registry.EXAMPLES))]


_ENV_KEYS = ("numpy", "python", "platform", "machine", "cpu", "blas")


def environment_differences(env, loaded):
    """Fingerprint fields in which this run differs from the environment that made each pin set."""
    differences = {}
    for example_id, pin in loaded.items():
        if pin is None:
            continue
        for key in _ENV_KEYS + ("simd",):
            pinned, now = pin.provenance.get(key), env.get(key)
            if pinned is not None and pinned != now:
                entry = differences.setdefault(key, {"now": now, "pins": {}})
                entry["pins"].setdefault(_json_key(pinned), []).append(example_id)
    return differences


def _json_key(value):
    return " ".join(value) if isinstance(value, list) else str(value)


def check(ids, pins_dir, progress=None, strict=False):
    """Run and compare; returns (results record, exit code). Bad pins raise BadInput before anything runs.
    ``strict`` compares every quantity bitwise (for the environment that made the pins)."""
    ids = resolve_ids(ids)
    orphans = pins.orphaned_pins(pins_dir)
    if orphans:
        raise BadInput(f"{orphans[0]}: orphaned pin (no example {orphans[0].stem!r}); delete it or register the "
                       f"example (valid ids: {', '.join(registry.example_ids())})")
    loaded = {i: pins.load_pin(pins_dir, i) for i in ids}
    runs, rows, examples = {}, [], []
    for n, example_id in enumerate(ids, 1):
        example = registry.get(example_id)
        if progress:
            progress(f"[{n}/{len(ids)}] {example_id} ...")
        run = run_example(example)
        runs[example_id] = run
        rows.extend(compare_example(run, loaded[example_id], strict))
        ok, note = _warning_check(run)
        examples.append({"example": example_id, "documents": list(example.documents), "section": example.section,
                         "summary": example.summary, "seconds": round(run.seconds, 4), "warnings": run.warnings,
                         "expected_warnings": list(example.expected_warnings),
                         "warnings_status": "pass" if ok else "fail", "warnings_note": note,
                         "pin_provenance": loaded[example_id].provenance if loaded[example_id] else None})
        if progress:
            progress(f"      {example_id}: {run.seconds:.2f} s")
    env = fingerprint()
    env["differs_from_pins"] = environment_differences(env, loaded)
    record = {"schema_version": RESULTS_SCHEMA_VERSION, "environment": env, "strict": strict, "examples": examples,
              "results": rows, "document_values": document_value_rows(runs), "claims": claim_rows(runs)}
    failed = (any(r["status"] != "pass" for r in rows)
              or any(e["warnings_status"] != "pass" for e in examples)
              or any(d["status"] != "pass" for d in record["document_values"])
              or any(c["status"] != "pass" for c in record["claims"]))
    record["exit_status"] = EXIT_REGRESSION if failed else EXIT_OK
    return record, record["exit_status"]
