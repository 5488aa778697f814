"""``backprop-repro report``: HTML and CSV from stored results only (never re-running examples).

Writes ``index.html`` (self-contained: inline CSS and PNG figures, no scripts, no network),
``comparison.csv`` (one row per quantity), ``document_values.csv`` and ``claims.csv``; with a
benchmark directory (``bench.csv``, ``scaling.csv``, ``gates.csv``) also the benchmark table and
the scaling plot. Every string from a results file is escaped (Jinja2 autoescape). All writes are
atomic.
"""

import json
import math
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from backprop_repro.store import atomic
from backprop_repro.core import values
from backprop_repro.render.figures_ahead import _figure_inputs, _figures, draw_example_figures
from backprop_repro.core.policies import printed_decimals, printed_text
from backprop_repro.store.results import SCHEMA_VERSION, load_results  # noqa: F401 - read by `report`, `compare`

__all__ = ["load_results", "write_tables", "write_report", "SCHEMA_VERSION"]

COMPARISON_COLUMNS = ["example", "quantity", "dtype", "shape", "policy", "status", "max_abs_error",
                      "max_rel_error", "max_ulp", "n_mismatch", "actual", "expected", "message"]


def _summarise(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _comparison_frame(record):
    rows = [{**{k: r.get(k) for k in COMPARISON_COLUMNS},
             "shape": "x".join(map(str, r["shape"])) if r.get("shape") is not None else "",
             "actual": _summarise(r.get("actual")), "expected": _summarise(r.get("expected"))}
            for r in record["results"]]
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def write_tables(record, out):
    """comparison.csv, document_values.csv and claims.csv of one results record."""
    atomic.write_text(out / "comparison.csv", _comparison_frame(record).to_csv(index=False))
    dv = pd.DataFrame(record.get("document_values", [])).drop(columns=["actual"], errors="ignore")
    atomic.write_text(out / "document_values.csv", dv.to_csv(index=False))
    atomic.write_text(out / "claims.csv", pd.DataFrame(record["claims"]).to_csv(index=False))


def _fmt(value):
    """Numbers for people: 4 significant digits, integers as they are, blanks for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, int):   # bool included
        return str(value)
    if isinstance(value, float):
        return "0" if value == 0 else f"{value:.4g}"
    return str(value)


def _as_printed(actual, printed):
    """A fresh document value as the document prints it (its decimals), to read beside the printed text."""
    if actual is None or isinstance(actual, str) or isinstance(actual, bool):
        return _fmt(actual)
    try:
        float(printed)
        return printed_text(actual, printed_decimals(printed))
    except (TypeError, ValueError):   # a number where the document prints text
        return _fmt(actual)


def _env_value(value):
    """A fingerprint field as text: lists space-separated ("-" when empty), settings as k=v ("none")."""
    if isinstance(value, list):
        return " ".join(str(v) for v in value) or "-"
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items()) or "none"
    return str(value)


def _counts(rows):
    counts = {s: 0 for s in ("pass", "fail", "missing-pin", "error")}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def _view(record, rendered=None):
    """What the template needs from one results record (``rendered``: example -> figures drawn ahead)."""
    by_example = {}
    for r in record["results"]:
        by_example.setdefault(r["example"], []).append(r)
    examples = record.get("examples") or [{"example": e} for e in by_example]
    sections = []
    for e in examples:
        name = e["example"]
        rows = by_example.get(name, [])
        drawn = (rendered or {}).get(name)
        sections.append({"id": name, "meta": e, "rows": rows, "counts": _counts(rows),
                         "figures": drawn if drawn is not None else draw_example_figures(*_figure_inputs(e, rows)),
                         "document_values": [d for d in record.get("document_values", []) if d["example"] == name]})
    problems = ([r for r in record["results"] if r["status"] != "pass"],
                [c for c in record["claims"] if c["verdict"] == "not-reproduced" or c["status"] != "pass"],
                [d for d in record.get("document_values", []) if d["outcome"] != "reproduced" or d["status"] != "pass"])
    sweeps = [{"record": s, "figure": _figures().sweep_figure(s)} for s in record.get("sweeps") or []]
    return {"record": record, "env": record["environment"], "sweeps": sweeps, "counts": _counts(record["results"]),
            "sections": sections, "failures": problems[0], "claims_top": problems[1], "values_top": problems[2],
            "exit_status": record.get("exit_status"), "n_claims": len(record["claims"]),
            "claim_verdicts": pd.Series([c["verdict"] for c in record["claims"]], dtype=object).value_counts().to_dict(),
            "n_values": len(record.get("document_values", [])),
            "n_values_reproduced": sum(d["outcome"] == "reproduced" for d in record.get("document_values", []))}


def _bench_view(section):
    """The benchmark block from a record's ``bench`` section (or one loaded by ``report --bench``)."""
    if not section:
        return None
    table, scaling = pd.DataFrame(section.get("table", [])), pd.DataFrame(section.get("scaling", []))
    figure = _figures().scaling_figure(table, scaling) if len(table) and len(scaling) else None
    sweep_rows = [r for r in section.get("table", []) if r.get("limit_s")]
    return {"table": section.get("table", []), "scaling": section.get("scaling", []),
            "gates": section.get("gates", []), "figure": figure,
            "sweep_seeds": ", ".join(sorted({f"{int(r['n_params']):,}" for r in sweep_rows})),
            "sweep_ops": _sweep_operations(sweep_rows)}


def _sweep_operations(rows):
    """'<example>: E exp, D divisions, M multiply/add' per benchmarked sweep, from its spec's operation
    counts (derived from its layer sizes); a sweep this installation does not know is left out."""
    from backprop_repro.core import registry

    out = []
    for example_id in sorted({str(r["network"]).split(":", 1)[-1] for r in rows}):
        example = registry.examples().get(example_id)
        if example is None or example.sweep is None:
            continue
        ops = example.sweep.operation_counts()
        out.append(f"{example_id}: {ops['exp']} exp, {ops['divide']} divisions, "
                   f"{ops['multiply'] + ops['add']} multiply/add")
    return out


TEMPLATES = Environment(loader=PackageLoader("backprop_repro.render", "templates"), autoescape=select_autoescape(["html", "j2"]),
                   trim_blocks=True, lstrip_blocks=True)
TEMPLATES.filters["fmt"] = _fmt
TEMPLATES.filters["as_printed"] = _as_printed
TEMPLATES.filters["env_value"] = _env_value


def warm_up():
    """Compile the report's template now (for a caller with time to spare while it waits for its examples)."""
    TEMPLATES.get_template("report.html.j2")


def write_report(records, out, bench=None, rendered=None):
    """index.html for one or more results records (one block each) and the CSV tables of the first;
    ``bench`` a benchmark section to show when the first record carries none; ``rendered`` the first
    record's figures drawn ahead (:class:`backprop_repro.render.figures_ahead.FiguresAhead`)."""
    out = Path(out)
    write_tables(records[0], out)
    html = TEMPLATES.get_template("report.html.j2").render(views=[_view(r, rendered if k == 0 else None) for k, r in enumerate(records)],
                                                           bench=_bench_view(records[0].get("bench") or bench))
    atomic.write_text(out / "index.html", html)
    return out / "index.html"
