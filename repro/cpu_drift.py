"""``backprop-repro drift --cpu``: which quantities depend on the CPU's SIMD width or the BLAS kernel,
measured on one machine.

NumPy picks its SIMD code paths at run time and OpenBLAS its kernels; both can be forced down
(``NPY_DISABLE_CPU_FEATURES``, ``OPENBLAS_CORETYPE``). This runs the default ``check`` in a fresh
subprocess per configuration:

- every NumPy SIMD level this CPU supports, from the highest down to the baseline (NumPy 2.4+ names
  ``X86_V4`` / ``X86_V3``; NumPy 1.26 names ``AVX512F`` / ``AVX2``; the dispatch targets at and above a
  level are disabled together), with the BLAS kernel left as it is;
- the OpenBLAS core types that run here (x86-64), with NumPy's SIMD left as it is, and the default
  kernel (``OPENBLAS_CORETYPE`` unset).

Each configuration records what took effect (NumPy's SIMD targets in force, threadpoolctl's BLAS
``architecture``), not what was asked for. Outputs: ``DIR/cpu_drift.csv`` (one row per example and
quantity: policy, the largest ULP distance from the pins per configuration, whether it is bit-identical
across all, and for traces how the drift grows from the first tenth to the last), ``DIR/cpu_drift.html``
(the matrix) and ``DIR/cpu_drift.json``. Exit 0 when the default check passes in every configuration.
"""

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import atomic
from .errors import EXIT_OK, EXIT_REGRESSION, BadInput

__all__ = ["numpy_cpu_info", "plan", "run_drift", "OPENBLAS_CORE_TYPES"]

#: Candidate OpenBLAS core types on x86-64 (an unknown or unsupported one falls back quietly; what took
#: effect is recorded).
OPENBLAS_CORE_TYPES = ("Haswell", "SkylakeX", "Sandybridge", "Zen", "Nehalem")
#: Major SIMD levels, highest first: NumPy 2.4+ names, then NumPy 1.x names.
_MAJOR_LEVELS = ("X86_V4", "AVX512F", "X86_V3", "AVX2")
_FORCING = ("NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES", "OPENBLAS_CORETYPE")

_PROBE = r"""
import json, platform
try:
    from numpy._core import _multiarray_umath as u
except ImportError:
    from numpy.core import _multiarray_umath as u
import numpy
print(json.dumps({"numpy": numpy.__version__, "machine": platform.machine(), "baseline": list(u.__cpu_baseline__),
                  "dispatch": list(u.__cpu_dispatch__), "features": {k: bool(v) for k, v in u.__cpu_features__.items()}}))
"""


def _clean_env():
    return {k: v for k, v in os.environ.items() if k not in _FORCING}


def numpy_cpu_info():
    """NumPy's baseline, dispatch targets and CPU features in a fresh process with nothing forced."""
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=_clean_env())
    if done.returncode != 0:
        raise BadInput(f"drift --cpu: cannot query NumPy's CPU features ({done.stderr.strip()[-200:]})")
    return json.loads(done.stdout)


def plan(info):
    """[(name, env overrides)] for this CPU: SIMD levels highest to lowest, then OpenBLAS core types."""
    supported = [t for t in info["dispatch"] if info["features"].get(t)]
    configs = [("numpy:native", {})]
    for level in _MAJOR_LEVELS:
        if level in supported:
            disabled = supported[supported.index(level):]
            configs.append((f"numpy:no-{level}", {"NPY_DISABLE_CPU_FEATURES": " ".join(disabled)}))
    if info.get("machine") in ("x86_64", "AMD64"):
        configs.append(("openblas:default", {"OPENBLAS_CORETYPE": None}))
        configs += [(f"openblas:{core}", {"OPENBLAS_CORETYPE": core}) for core in OPENBLAS_CORE_TYPES]
    return configs


def _run_config(name, overrides, ids, pins, workdir):
    env = _clean_env()
    for key, value in overrides.items():
        if value is not None:
            env[key] = value
    if "OPENBLAS_CORETYPE" not in overrides and "OPENBLAS_CORETYPE" in os.environ:
        env["OPENBLAS_CORETYPE"] = os.environ["OPENBLAS_CORETYPE"]   # SIMD levels keep the kernel in force
    out = workdir / name.replace(":", "_")
    cmd = [sys.executable, "-m", "repro", "check", "--no-report", "--quiet", "--out", str(out), *ids]
    if pins is not None:
        cmd += ["--pins", str(pins)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode == 2 or not (out / "results.json").is_file():
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        raise BadInput(f"drift --cpu: configuration {name} could not run check: {last}")
    record = json.loads((out / "results.json").read_text())
    envrec = record["environment"]
    return {"name": name, "asked": {k: v for k, v in overrides.items()}, "exit": done.returncode,
            "simd_targets": envrec.get("simd_targets"), "blas_core": envrec.get("blas_core"),
            "record": record}


def _growth(actual, expected, dtype):
    """For a 1-D float trace: (max ULP in the first tenth, max ULP in the last tenth), else None."""
    from .policies import ulp_distance

    if dtype not in ("float32", "float64"):
        return None
    a, e = np.asarray(actual, dtype=dtype), np.asarray(expected, dtype=dtype)
    if a.ndim != 1 or a.size < 10 or a.shape != e.shape:
        return None
    ulps = np.array(ulp_distance(a, e), dtype=float)
    tenth = max(1, a.size // 10)
    return int(ulps[:tenth].max()), int(ulps[-tenth:].max())


def run_drift(out, ids=(), pins=None, progress=None, info=None):
    """Run every configuration, write cpu_drift.csv/.html/.json into ``out``; returns (exit code, summary)."""
    info = info or numpy_cpu_info()
    configs = plan(info)
    runs = []
    with tempfile.TemporaryDirectory(prefix="backprop-drift-") as tmp:
        for n, (name, overrides) in enumerate(configs, 1):
            if progress:
                progress(f"[{n}/{len(configs)}] {name} {' '.join(f'{k}={v}' for k, v in overrides.items() if v)}")
            runs.append(_run_config(name, overrides, list(ids), pins, Path(tmp)))
            if progress:
                progress(f"{name}: exit {runs[-1]['exit']}", advance=True)
    rows = {}
    for run in runs:
        for r in run["record"]["results"]:
            key = (r["example"], r["quantity"])
            row = rows.setdefault(key, {"example": r["example"], "quantity": r["quantity"], "policy": r["policy"],
                                        "cells": {}, "status": {}, "growth": None})
            ulps = r["max_ulp"]
            if ulps is None and r["dtype"] == "str":   # a text: equal or not
                ulps = 0 if r["status"] == "pass" else None
            row["cells"][run["name"]] = ulps
            row["status"][run["name"]] = r["status"]
            if r.get("actual") is not None and r.get("expected") is not None and r["max_ulp"]:
                g = _growth(r["actual"], r["expected"], r["dtype"])
                if g is not None and (row["growth"] is None or g[1] > row["growth"][1]):
                    row["growth"] = g
    names = [r["name"] for r in runs]
    table = list(rows.values())
    for row in table:
        row["bit_identical"] = all(row["cells"].get(n) == 0 for n in names)
    _write(out, info, runs, names, table)
    failed = [r["name"] for r in runs if r["exit"] != 0]
    summary = {"configurations": names, "failed": failed, "quantities": len(table),
               "bit_identical": sum(r["bit_identical"] for r in table),
               # ratio-policy rows are noise-dominated error measures, whose ULP distance means nothing
               "largest": max(((max((v or 0) for v in r["cells"].values()), r["example"], r["quantity"])
                               for r in table if not (r["policy"] or "").startswith("ratio")), default=(0, "", ""))}
    return (EXIT_REGRESSION if failed else EXIT_OK), summary


def _write(out, info, runs, names, table):
    from jinja2 import Environment, select_autoescape

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["example", "quantity", "policy", *names, "bit_identical", "trace_first_tenth_ulp",
                     "trace_last_tenth_ulp"])
    for row in table:
        growth = row["growth"] or ("", "")
        writer.writerow([row["example"], row["quantity"], row["policy"],
                         *[("" if row["cells"].get(n) is None else row["cells"][n]) for n in names],
                         row["bit_identical"], *growth])
    atomic.write_text(out / "cpu_drift.csv", buffer.getvalue())
    configs = [{"name": r["name"], "asked": r["asked"], "exit": r["exit"], "simd_targets": r["simd_targets"],
                "blas_core": r["blas_core"]} for r in runs]
    atomic.write_text(out / "cpu_drift.json", json.dumps(
        {"schema_version": 1, "numpy": info["numpy"], "machine": info["machine"], "configurations": configs,
         "rows": [{k: v for k, v in row.items()} for row in table]}, indent=1, default=list) + "\n")
    template = Environment(autoescape=select_autoescape(default=True, default_for_string=True)).from_string(_HTML)
    atomic.write_text(out / "cpu_drift.html", template.render(info=info, configs=configs, names=names, table=table))


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>CPU drift matrix</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1400px}
table{border-collapse:collapse;font-size:12px}th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}
td.q,th.q{text-align:left}.same{background:#e6f4ea}.within{background:#fff4ce}.fail{background:#f8d7da}
</style></head><body>
<h1>CPU drift matrix (NumPy {{ info.numpy }}, {{ info.machine }})</h1>
<p>Largest ULP distance from the pins per configuration; green bit-identical, yellow within the quantity's
policy, red outside it. A configuration is what took effect in its process.</p>
<table><tr><th class="q">configuration</th><th>asked</th><th>SIMD targets in force</th><th>BLAS kernel</th><th>check</th></tr>
{% for c in configs %}<tr><td class="q">{{ c.name }}</td><td>{% for k, v in c.asked.items() %}{{ k }}={{ v if v else "(unset)" }} {% endfor %}</td>
<td>{{ (c.simd_targets or [])|join(" ") }}</td><td>{{ c.blas_core or "" }}</td><td class="{{ 'same' if c.exit == 0 else 'fail' }}">{{ "pass" if c.exit == 0 else "FAIL" }}</td></tr>
{% endfor %}</table>
<h2>Quantities</h2>
<table><tr><th class="q">example</th><th class="q">quantity</th><th class="q">policy</th>{% for n in names %}<th>{{ n }}</th>{% endfor %}<th>trace growth (ULP first tenth &rarr; last tenth)</th></tr>
{% for r in table %}<tr><td class="q">{{ r.example }}</td><td class="q">{{ r.quantity }}</td><td class="q">{{ r.policy }}</td>
{% for n in names %}{% set u = r.cells.get(n) %}{% set s = r.status.get(n) %}<td class="{{ 'same' if u == 0 else ('within' if s == 'pass' else 'fail') }}">{{ "" if u is none else u }}</td>{% endfor %}
<td>{% if r.growth %}{{ r.growth[0] }} &rarr; {{ r.growth[1] }}{% endif %}</td></tr>
{% endfor %}</table>
</body></html>
"""
