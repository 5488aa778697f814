"""``backprop-repro bench``: run the pytest-benchmark suites, tabulate, fit cost scaling, apply gates.

Gates are ratios measured in one run, never absolute times:

- ``chain_rule_vs_forward``: on every example's network (its ``GRADIENT_PROBLEM``, from the registry:
  the documents' and any third party's) the chain-rule gradient costs at most
  3x a forward pass (the cheap-gradient principle puts the floor at about 2 to 5 for large
  networks; these tiny ones are dominated by per-call overhead, which both share);
- ``fd_chapter_exponent``: the chapter's finite differences cost grows at least like P^0.8 over
  the width sweep (one forward pass per parameter: the exponent should be about 1 or more).
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backprop_repro.store import atomic
from backprop_repro.core.errors import BadInput, RunFailed

__all__ = ["run_benchmarks", "bench_table", "fit_scaling", "gates", "Gate", "CHAIN_RULE_MAX_RATIO",
           "FD_CHAPTER_MIN_EXPONENT", "example_networks", "load_section", "default_benchmarks_dir"]

CHAIN_RULE_MAX_RATIO = 3.0
FD_CHAPTER_MIN_EXPONENT = 0.8
BENCH_COLUMNS = ["network", "n_params", "method", "median_s", "iqr_s", "rounds", "mean_s", "min_s",
                 "seed_iter_per_s", "limit_s", "ratio_to_limit", "limit_numpy_s"]


@dataclass
class Gate:
    name: str
    subject: str
    measured: float
    threshold: float
    passed: bool
    note: str = ""


def example_networks():
    """Names of the examples' gradient problems (the registry's), the networks the suite times one by one."""
    from backprop_repro.core import registry

    return tuple(registry.gradient_problems())


def default_benchmarks_dir():
    """The checkout's ``benchmarks/`` when run from one, else the copy shipped inside the package."""
    from backprop_repro.store.locations import resource_dir

    return resource_dir("benchmarks")


def load_section(bench_dir):
    """The ``bench`` section of a verdict record from a ``bench --out`` directory (bench/scaling/gates CSV)."""
    import csv

    bench_dir = Path(bench_dir)
    section = {"dir": str(bench_dir)}
    try:
        for name in ("bench", "scaling", "gates"):
            with open(bench_dir / f"{name}.csv", newline="", encoding="utf-8") as handle:
                section["table" if name == "bench" else name] = [_typed(r) for r in csv.DictReader(handle)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadInput(f"--bench {bench_dir}: cannot read bench.csv, scaling.csv and gates.csv ({exc}); run "
                       f"`backprop-repro bench --out {bench_dir}` first") from None
    for gate in section["gates"]:
        if "passed" not in gate:
            raise BadInput(f"--bench {bench_dir / 'gates.csv'}: no 'passed' column; regenerate it with "
                           f"`backprop-repro bench --out {bench_dir}`")
        gate["status"] = "pass" if gate["passed"] in (True, "True") else "fail"
    return section


_TEXT_COLUMNS = ("network", "method", "name", "subject", "note")


def _typed(row):
    out = {}
    for key, value in row.items():
        if key in _TEXT_COLUMNS:
            out[key] = value
            continue
        try:
            out[key] = int(value)
        except (TypeError, ValueError):
            try:
                out[key] = float(value)
            except (TypeError, ValueError):
                out[key] = True if value == "True" else False if value == "False" else value
    return out


def run_benchmarks(out, quick, benchmarks_dir=None, progress=None):
    """Run pytest-benchmark on ``benchmarks_dir``; returns the path of its JSON (``out/bench.json``)."""
    bench_dir = Path(benchmarks_dir) if benchmarks_dir else default_benchmarks_dir()
    if not (bench_dir / "test_gradient_costs.py").is_file():
        raise BadInput(f"--benchmarks {bench_dir}: no benchmark suite there; run from the project root or pass "
                       f"--benchmarks DIR")
    try:
        import pytest_benchmark  # noqa: F401
    except ImportError:
        raise BadInput("pytest-benchmark is not installed; install the extra: pip install 'backprop-repro[bench]'") \
            from None
    raw = out / ".bench-raw.json"
    cmd = [sys.executable, "-m", "pytest", str(bench_dir), "--benchmark-only", "-q", "-p", "no:cacheprovider",
           "--rootdir", str(bench_dir), "-c", os.devnull,
           f"--benchmark-json={raw}", "--benchmark-max-time=0.2" if quick else "--benchmark-max-time=0.5",
           "--benchmark-columns=median,iqr,rounds", "--benchmark-sort=name", "-o", "addopts="]
    if quick:
        cmd.append("--bench-quick")
    if progress:
        progress("running: " + " ".join(cmd[2:]))
    result = subprocess.run(cmd, env={**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"},
                            capture_output=not progress, text=True)
    if result.returncode != 0:
        tail = (result.stdout or "")[-2000:] if not progress else ""
        raise RunFailed(f"benchmark run failed (pytest exit {result.returncode}){': ' + tail if tail else ''}")
    target = out / "bench.json"
    shutil.move(raw, target)
    return target


def bench_table(benchmark_json):
    """One row per benchmark: network, n_params, method, median_s, iqr_s, rounds (+ mean, min)."""
    data = json.loads(Path(benchmark_json).read_text())
    rows = []
    for b in data["benchmarks"]:
        info, stats = b["extra_info"], b["stats"]
        row = {"network": info["network"], "n_params": info["n_params"], "method": info["method"],
               "median_s": stats["median"], "iqr_s": stats["iqr"], "rounds": stats["rounds"],
               "mean_s": stats["mean"], "min_s": stats["min"]}
        if info.get("seed_iterations"):   # the sweep: throughput and distance from this machine's limit
            row.update({"seed_iter_per_s": info["seed_iterations"] / stats["median"], "limit_s": info["limit_s"],
                        "ratio_to_limit": stats["median"] / info["limit_s"], "limit_numpy_s": info.get("limit_numpy_s")})
        rows.append(row)
    import pandas as pd

    return pd.DataFrame(rows, columns=BENCH_COLUMNS)


def fit_scaling(table):
    """Per method, least squares of log(median) on log(P) over the width sweep: exponent and R^2."""
    sweep = table[table["network"].str.startswith("mlp")]
    rows = []
    for method, group in sweep.groupby("method", sort=True):
        if len(group) < 2:
            continue
        lx, ly = np.log(group["n_params"].to_numpy(float)), np.log(group["median_s"].to_numpy(float))
        slope, intercept = np.polyfit(lx, ly, 1)
        residual = ly - (slope * lx + intercept)
        total = ly - ly.mean()
        r2 = 1.0 - float(residual @ residual) / float(total @ total) if total @ total > 0 else 1.0
        rows.append({"method": method, "exponent": float(slope), "r2": r2, "n_points": len(group),
                     "p_min": int(group["n_params"].min()), "p_max": int(group["n_params"].max())})
    import pandas as pd

    return pd.DataFrame(rows, columns=["method", "exponent", "r2", "n_points", "p_min", "p_max"])


def _median(table, network, method):
    rows = table[(table["network"] == network) & (table["method"] == method)]
    return float(rows["median_s"].iloc[0]) if len(rows) else None


def gates(table, scaling, networks=None):
    """The declared gates over one run's timings (pure: tested with fabricated tables); ``networks``
    defaults to :func:`example_networks`."""
    out = []
    for network in example_networks() if networks is None else networks:
        forward, chain = _median(table, network, "forward"), _median(table, network, "chain_rule")
        if forward is None or chain is None:
            out.append(Gate("chain_rule_vs_forward", network, float("nan"), CHAIN_RULE_MAX_RATIO, False,
                            "not measured"))
            continue
        ratio = chain / forward
        out.append(Gate("chain_rule_vs_forward", network, ratio, CHAIN_RULE_MAX_RATIO, ratio <= CHAIN_RULE_MAX_RATIO))
    fd = scaling[scaling["method"] == "fd_chapter"]
    if len(fd):
        exponent = float(fd["exponent"].iloc[0])
        out.append(Gate("fd_chapter_exponent", "width sweep", exponent, FD_CHAPTER_MIN_EXPONENT,
                        exponent >= FD_CHAPTER_MIN_EXPONENT, f"R^2 {float(fd['r2'].iloc[0]):.3f}"))
    else:
        out.append(Gate("fd_chapter_exponent", "width sweep", float("nan"), FD_CHAPTER_MIN_EXPONENT, False,
                        "fewer than two widths measured"))
    return out


def summary(table, networks=None):
    """Human-readable figures: chain-rule/forward per network, FD/chain-rule speedup at the largest P, peers."""
    lines = []
    for network in example_networks() if networks is None else networks:
        f, c = _median(table, network, "forward"), _median(table, network, "chain_rule")
        parts = [f"{network}: chain_rule/forward {c / f:.2f}" if f and c else f"{network}: -"]
        for method in ("fd_chapter", "fd_central_vectorized", "torch_autograd", "jax_grad"):
            m = _median(table, network, method)
            if m and c:
                parts.append(f"{method}/chain_rule {m / c:.1f}")
        lines.append(", ".join(parts))
    for row in table[table["network"].str.startswith("sweep:")].itertuples():
        lines.append(f"{row.network} {row.method}: {row.median_s:.2f} s, {row.seed_iter_per_s:.3g} seed-iterations/s, "
                     f"{row.ratio_to_limit:.1f}x the estimated fused limit of this machine ({row.limit_s:.2f} s; "
                     f"op by op through NumPy {row.limit_numpy_s:.2f} s)")
    sweep = table[table["network"].str.startswith("mlp")]
    both = sweep[sweep["method"] == "fd_chapter"]
    if len(both):
        largest = both.loc[both["n_params"].idxmax()]
        c = _median(table, largest["network"], "chain_rule")
        if c:
            lines.append(f"largest P with the chapter's method: {largest['n_params']}: fd_chapter/chain_rule "
                         f"{largest['median_s'] / c:.0f}x")
    return lines


def write_outputs(out, table, scaling, gate_list):
    import pandas as pd

    atomic.write_text(out / "bench.csv", table.to_csv(index=False))
    atomic.write_text(out / "scaling.csv", scaling.to_csv(index=False))
    atomic.write_text(out / "gates.csv", pd.DataFrame([g.__dict__ for g in gate_list]).to_csv(index=False))


def verdict(gate_list):
    """The record of a benchmark run: one observation per gate (its measured ratio against its threshold)."""
    from backprop_repro.core import record

    return record.build("bench", [record.Observation(record.Kind.BENCH_GATE, g.name, "pass" if g.passed else "fail",
                                                     g.subject, g.threshold, g.measured, note=g.note)
                                  for g in gate_list])
