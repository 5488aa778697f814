"""``backprop-repro compare``: a drift matrix of quantities x environments from several results files.

The first results file is the baseline. Each cell says how another environment's fresh value
relates to the baseline's: ``identical`` (same bits), ``N ULP`` (differs, within the quantity's
policy), ``out of tolerance`` (differs beyond the policy), or ``missing``.
"""

import glob
from pathlib import Path

import numpy as np
import pandas as pd

from backprop_repro.core import record
from backprop_repro.core.errors import BadInput
from backprop_repro.core.policies import compare
from backprop_repro.store.results import load_results

__all__ = ["expand", "environment_label", "drift_matrix", "compare_results"]

FINGERPRINT_KEYS = ("numpy", "python", "platform", "cpu", "blas", "simd", "settings")


def expand(patterns):
    """Results files from paths, directories (their results.json) and glob patterns, in order."""
    paths = []
    for pattern in patterns:
        if any(c in pattern for c in "*?["):
            matches = sorted(glob.glob(pattern))   # a pattern may match nothing (an env that was not run)
        else:
            matches = [pattern]
        for match in matches:
            path = Path(match)
            path = path / "results.json" if path.is_dir() else path
            if not path.is_file():
                raise BadInput(f"{path}: no such results file; run `backprop-repro check --out DIR` first")
            paths.append(path)
    if len(paths) < 2:
        raise BadInput("compare needs at least two results files (baseline first)")
    return paths


def environment_label(env, path):
    return f"NumPy {env.get('numpy')} · Python {env.get('python')} ({Path(path).parent.name or path})"


def _value(row):
    actual = row.get("actual")
    if actual is None:
        return None
    if row.get("dtype") == "str":
        return actual
    try:
        value = np.array(actual, dtype=row["dtype"])
        if value.dtype.kind not in "fiub":   # a dtype a results file should not hold (object, text, dates)
            raise BadInput(f"quantity {row.get('example')}:{row.get('quantity')}: dtype {row['dtype']} is not a "
                           f"numeric dtype of a results file; regenerate it with `backprop-repro check`")
        return value
    except (TypeError, ValueError):   # None (non-finite) inside: not comparable bitwise
        try:
            return np.array([np.nan if v is None else v for v in np.ravel(np.array(actual, dtype=object))],
                            dtype=float)
        except (TypeError, ValueError) as exc:
            raise BadInput(f"quantity {row.get('example')}:{row.get('quantity')}: a value is not a number of dtype "
                           f"{row.get('dtype')} ({exc}); regenerate the results file with `backprop-repro check`") \
                from None


def _cell(base_row, row):
    if row is None or base_row is None:
        return "missing", None
    a, b = _value(row), _value(base_row)
    if a is None or b is None:
        return "missing", None
    result = compare(a, b, base_row["policy"])
    identical = result.passed and (a == b if isinstance(a, str) else a.tobytes() == b.tobytes())
    if identical:
        return "identical", 0
    if result.passed:
        return f"{result.max_ulp} ULP", result.max_ulp
    if result.max_abs_error is None:   # shapes or dtypes differ: nothing element by element
        return f"out of tolerance ({result.message})", None
    return f"out of tolerance ({result.max_ulp} ULP, abs {result.max_abs_error:.3g})", result.max_ulp


def drift_matrix(records, paths):
    """(DataFrame of cells, environment rows, counts per environment)."""
    labels = [environment_label(r["environment"], p) for r, p in zip(records, paths)]
    for i, label in enumerate(labels):   # two folders of the same name and environment: tell them apart
        if labels.count(label) > 1:
            labels[i] = f"{label} [{i + 1}: {paths[i]}]"
    keyed = [{(row["example"], row["quantity"]): row for row in r["results"]} for r in records]
    keys = list(dict.fromkeys(k for table in keyed for k in table))
    rows = []
    for key in keys:
        base = keyed[0].get(key)
        cells = {"example": key[0], "quantity": key[1], "policy": base["policy"] if base else ""}
        for label, table in zip(labels, keyed):
            cells[label] = _cell(base, table.get(key))[0]
        rows.append(cells)
    frame = pd.DataFrame(rows, columns=["example", "quantity", "policy", *labels])
    envs = [{"label": label, **{k: r["environment"].get(k) for k in FINGERPRINT_KEYS}}
            for label, r in zip(labels, records)]
    counts = {}
    for label in labels[1:]:
        column = frame[label]
        counts[label] = {"identical": int((column == "identical").sum()),
                         "within policy": int(column.str.endswith(" ULP").sum()),
                         "out of tolerance": int(column.str.startswith("out of tolerance").sum()),
                         "missing": int((column == "missing").sum())}
    return frame, envs, counts


def compare_results(patterns):
    """The drift record of the results files ``patterns`` name (baseline first): one observation per other
    environment, failing when a quantity is out of tolerance or missing there. Its JSON form holds the matrix
    (a DataFrame), the environments and the fingerprint keys that differ; its summaries the counts."""
    paths = expand(patterns)
    frame, envs, counts = drift_matrix([load_results(p) for p in paths], paths)
    differing = [k for k in FINGERPRINT_KEYS if len({str(e[k]) for e in envs}) > 1]
    observations = [record.Observation(record.Kind.ENVIRONMENT, label,
                                       "fail" if c["out of tolerance"] or c["missing"] else "pass",
                                       where=envs[0]["label"], rule="each quantity's policy", note=str(c))
                    for label, c in counts.items()]
    return record.build("compare", observations, summaries=counts,
                        payload={"frame": frame, "envs": envs, "differing": differing})
