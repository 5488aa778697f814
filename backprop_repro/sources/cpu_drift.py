"""``backprop-repro drift --cpu``: which quantities depend on the CPU's SIMD width or the BLAS kernel,
measured on one machine.

NumPy picks its SIMD code paths at run time and OpenBLAS its kernels; both can be forced down
(``NPY_DISABLE_CPU_FEATURES``, ``OPENBLAS_CORETYPE``). This runs the default ``check`` in a fresh
subprocess per configuration:

- every NumPy SIMD level this CPU supports, from the highest down to the baseline (NumPy 2.4+ names
  ``X86_V4`` / ``X86_V3``; NumPy 1.26 names ``AVX512F`` / ``AVX2``; the dispatch targets at and above a
  level are disabled together), with the BLAS kernel left as it is;
- the OpenBLAS core types of this machine's architecture whose kernels this CPU can execute
  (``OPENBLAS_REQUIRES``: the CPU features each core type's kernels use, asked of NumPy's
  ``__cpu_features__`` and, for what NumPy does not name, ``/proc/cpuinfo``), with NumPy's SIMD left as
  it is, and the default kernel when ``OPENBLAS_CORETYPE`` is set in the caller's environment.

A user's ``NPY_DISABLE_CPU_FEATURES`` / ``NPY_ENABLE_CPU_FEATURES`` is kept in every configuration, and
the features of the targets it turns off count as absent (so it stands in for a CPU without them); names in
it that NumPy ignores (not a dispatch target, or a target this CPU lacks) are reported in one note. A
configuration that cannot run here is skipped with its reason: a level or core type this CPU lacks, or a
forced configuration whose process a signal killed (SIGILL: an instruction the CPU lacks); the signal is
named. A signal in a configuration that forces nothing is a failure, not a skip.

Each configuration that ran records what took effect (NumPy's SIMD targets in force, threadpoolctl's BLAS
``architecture``), not what was asked for. Outputs: ``DIR/cpu_drift.csv`` (one row per example and
quantity: policy, the largest ULP distance from the pins per configuration that ran, whether it is
bit-identical across them, and for traces how the drift grows from the first tenth to the last),
``DIR/cpu_drift.html`` (the matrix, and the skipped configurations with their reasons) and
``DIR/cpu_drift.json`` (both). Exit 0 when the default check passes in every configuration that ran, 1
when it fails in any.
"""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from backprop_repro.store import atomic
from backprop_repro.core.errors import EXIT_INTERRUPTED, BadInput, RunFailed

__all__ = ["numpy_cpu_info", "plan", "run_drift", "OPENBLAS_CORE_TYPES", "OPENBLAS_REQUIRES"]

_NEHALEM = ("SSE3", "SSSE3", "SSE41", "SSE42", "POPCNT")
_HASWELL = _NEHALEM + ("AVX", "AVX2", "FMA3")
_SKYLAKEX = _HASWELL + ("AVX512F", "AVX512CD", "AVX512BW", "AVX512DQ", "AVX512VL")
_NEOVERSEN1 = ("ASIMD", "ASIMDHP", "ASIMDDP")   # ARMv8.2 with fp16 and dot product, as the kernels are built
#: OpenBLAS core type -> the CPU features its kernels are built to use (NumPy's feature names; AMX only in
#: /proc/cpuinfo), per architecture. OpenBLAS checks none of them when the type is forced.
OPENBLAS_REQUIRES = {
    "x86_64": {
        "Prescott": ("SSE3",), "Core2": ("SSE3", "SSSE3"), "Nehalem": _NEHALEM,
        "Sandybridge": _NEHALEM + ("AVX",), "Haswell": _HASWELL, "Zen": _HASWELL,
        "SkylakeX": _SKYLAKEX, "Cooperlake": _SKYLAKEX + ("AVX512VNNI", "AVX512BF16"),
        "SapphireRapids": _SKYLAKEX + ("AVX512VNNI", "AVX512BF16", "AVX512FP16", "AMX_TILE", "AMX_BF16"),
    },
    "aarch64": {
        "armv8": ("ASIMD",), "cortexa57": ("ASIMD",), "neoversen1": _NEOVERSEN1,
        "neoversev1": _NEOVERSEN1 + ("SVE",), "armv8sve": ("ASIMD", "SVE"),
    },
}
#: The core types run per architecture (an unknown or unbuilt one falls back quietly; what took effect is
#: recorded).
OPENBLAS_CORE_TYPES = {"x86_64": ("Haswell", "SkylakeX", "Sandybridge", "Zen", "Nehalem"),
                       "aarch64": ("armv8", "neoversen1", "neoversev1")}
#: NumPy dispatch target -> the features it stands for (2.4 groups, 1.26 names); turning it off takes them.
_TARGET_FEATURES = {
    "X86_V3": ("AVX", "F16C", "FMA3", "AVX2", "BMI", "BMI2", "LZCNT", "MOVBE"),
    "X86_V4": ("AVX512F", "AVX512CD", "AVX512VL", "AVX512BW", "AVX512DQ"),
    "AVX512_SKX": ("AVX512VL", "AVX512BW", "AVX512DQ"), "AVX512_CLX": ("AVX512VNNI",),
    "AVX512_ICL": ("AVX512VBMI", "AVX512VBMI2", "AVX512VNNI", "AVX512BITALG", "AVX512VPOPCNTDQ", "AVX512IFMA"),
    "AVX512_SPR": ("AVX512FP16",),
}
#: NumPy feature name -> /proc/cpuinfo flag, where the lower-case name is not it.
_CPUINFO_FLAG = {"SSE3": "pni", "SSE41": "sse4_1", "SSE42": "sse4_2", "FMA3": "fma", "AVX512VNNI": "avx512_vnni",
                 "AVX512BF16": "avx512_bf16", "AVX512FP16": "avx512_fp16"}
_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "x64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
#: Major SIMD levels, highest first: NumPy 2.4+ names, then NumPy 1.x names.
_MAJOR_LEVELS = ("X86_V4", "AVX512F", "X86_V3", "AVX2")
_FORCING = ("NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES", "OPENBLAS_CORETYPE")
#: Configurations that force nothing beyond the caller's environment: a signal there is a failure.
_UNFORCED = ("numpy:native", "openblas:default")

_PROBE = r"""
import json, platform
try:
    from numpy._core import _multiarray_umath as u
except ImportError:
    from numpy.core import _multiarray_umath as u
import numpy
try:
    from threadpoolctl import threadpool_info
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"][:1]
except Exception:
    blas = []
try:
    name = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"].get("name")
except Exception:
    name = None
print(json.dumps({"numpy": numpy.__version__, "machine": platform.machine(), "baseline": list(u.__cpu_baseline__),
                  "dispatch": list(u.__cpu_dispatch__), "features": {k: bool(v) for k, v in u.__cpu_features__.items()},
                  "blas": {"internal_api": blas[0].get("internal_api") if blas else None,
                           "architecture": blas[0].get("architecture") if blas else None, "name": name}}))
"""


def _clean_env():
    return {k: v for k, v in os.environ.items() if k not in _FORCING}


def _cpuinfo_flags(path="/proc/cpuinfo"):
    """The first ``flags`` (x86) or ``Features`` (arm) line of /proc/cpuinfo as a list, or None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip().lower() in ("flags", "features"):
                    return value.split()
    except OSError:
        pass
    return None


def numpy_cpu_info():
    """This CPU as NumPy sees it in a fresh process with nothing forced (baseline, dispatch targets,
    features), NumPy's BLAS (threadpoolctl) and the /proc/cpuinfo flags (None where there is none)."""
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=_clean_env())
    if done.returncode != 0:
        raise BadInput(f"drift --cpu: cannot query NumPy's CPU features ({done.stderr.strip()[-200:]})")
    info = json.loads(done.stdout)
    info["cpu_flags"] = _cpuinfo_flags()
    return info


def _user_npy_request(environ):
    """(variable, the names it lists, in order and without repeats) of the caller's NPY_DISABLE_CPU_FEATURES or
    NPY_ENABLE_CPU_FEATURES, or (None, []); both set is bad input, as NumPy refuses it."""
    disable = (environ.get("NPY_DISABLE_CPU_FEATURES") or "").strip()
    enable = (environ.get("NPY_ENABLE_CPU_FEATURES") or "").strip()
    if disable and enable:
        raise BadInput("drift --cpu: NPY_DISABLE_CPU_FEATURES and NPY_ENABLE_CPU_FEATURES are both set, which "
                       "NumPy refuses; unset one of them")
    var = "NPY_DISABLE_CPU_FEATURES" if disable else "NPY_ENABLE_CPU_FEATURES" if enable else None
    return var, list(dict.fromkeys((disable or enable).replace(",", " ").split()))


def _user_off(info, environ):
    """(variable, the dispatch targets this CPU has that the caller's NumPy variable turns off)."""
    var, listed = _user_npy_request(environ)
    disable, enable = var == "NPY_DISABLE_CPU_FEATURES", var == "NPY_ENABLE_CPU_FEATURES"
    names = set(listed)
    baseline = sorted(names & set(info["baseline"]))
    if disable and baseline:
        raise BadInput(f"drift --cpu: NPY_DISABLE_CPU_FEATURES names {' '.join(baseline)}, part of NumPy's baseline "
                       f"({' '.join(info['baseline'])}), which NumPy refuses; name only dispatch targets "
                       f"({' '.join(info['dispatch'])})")
    have = [t for t in info["dispatch"] if info["features"].get(t)]
    lacking = sorted(n for n in names if n in info["dispatch"] and not info["features"].get(n))
    if enable and lacking:
        raise BadInput(f"drift --cpu: NPY_ENABLE_CPU_FEATURES names {' '.join(lacking)}, which this CPU lacks, and "
                       f"NumPy refuses to import then; name only targets this CPU has ({' '.join(have)})")
    if disable:
        return var, [t for t in have if t in names]
    if enable:
        return var, [t for t in have if t not in names]
    return None, []


def ignored_note(info, environ=None):
    """One line naming what the caller's NPY_DISABLE_CPU_FEATURES / NPY_ENABLE_CPU_FEATURES asks for that NumPy
    ignores, or None. NumPy (``npy_cpu_features.c``, at import) only warns, with an ImportWarning that Python
    hides by default, for a name that is not one of its dispatch targets (a misspelling, or a plain feature such
    as AVX512F where NumPy 2.4 dispatches X86_V4), and says nothing at all when asked to disable a target this
    CPU lacks; so a run would silently measure something other than what was asked."""
    var, names = _user_npy_request(os.environ if environ is None else environ)
    if var is None:
        return None
    unknown = [n for n in names if n not in info["dispatch"] and n not in info["baseline"]]
    lacking = [n for n in names if n in info["dispatch"] and not info["features"].get(n)]
    parts = []
    if unknown:
        parts.append(f"{' '.join(unknown)} (not among its dispatch targets {' '.join(info['dispatch']) or '(none)'}; "
                     f"NumPy only warns, with an ImportWarning hidden by default)")
    if lacking:
        parts.append(f"{' '.join(lacking)} (this CPU lacks {'it' if len(lacking) == 1 else 'them'}: nothing to turn "
                     f"off)")
    return f"{var}: NumPy ignores {'; and '.join(parts)}" if parts else None


def _feature(info, name, off):
    """True / False / None (cannot tell) for one CPU feature, with the caller's turned-off targets absent."""
    if name in off or any(name in _TARGET_FEATURES.get(t, ()) for t in off):
        return False
    if name in info["features"]:
        return bool(info["features"][name])
    flags = info.get("cpu_flags")
    if flags is None:
        return None
    return _CPUINFO_FLAG.get(name, name.lower()) in flags


def _core_reason(info, core, needs, var, off):
    """Why OpenBLAS core type ``core`` cannot run here, or None when this CPU has every feature it needs."""
    missing = [f for f in needs if _feature(info, f, []) is False]
    if missing:
        return f"its kernels need {' '.join(missing)}, which this CPU lacks"
    turned_off = [f for f in needs if _feature(info, f, off) is False]
    if turned_off:
        return (f"its kernels need {' '.join(turned_off)}, which {var} turns off ({' '.join(off)}); taken as "
                f"absent")
    unknown = [f for f in needs if _feature(info, f, off) is None]
    if unknown:
        return f"its kernels need {' '.join(unknown)}, which neither NumPy nor /proc/cpuinfo reports here"
    return None


def plan(info, environ=None):
    """[(name, env overrides, reason it is skipped or None)] for this CPU: the SIMD levels highest to
    lowest, then OpenBLAS core types. An override of None unsets the variable."""
    environ = os.environ if environ is None else environ
    var, off = _user_off(info, environ)
    keep = {"NPY_DISABLE_CPU_FEATURES": " ".join(off)} if off else {}
    usable = [t for t in info["dispatch"] if info["features"].get(t) and t not in off]
    configs = [("numpy:native", dict(keep), None)]
    for level in _MAJOR_LEVELS:
        if level not in info["dispatch"]:
            continue                     # the other NumPy's name
        if level in usable:
            disabled = off + usable[usable.index(level):]
            configs.append((f"numpy:no-{level}", {"NPY_DISABLE_CPU_FEATURES": " ".join(disabled)}, None))
        else:
            why = f"{var} turns {level} off already" if level in off else f"this CPU lacks {level}"
            configs.append((f"numpy:no-{level}", dict(keep), f"{why}: the same as numpy:native"))
    machine = info.get("machine") or "unknown"
    arch = _MACHINES.get(machine.lower())
    if arch is None:
        configs.append(("openblas:*", {}, f"no OpenBLAS core types are listed for {machine}"))
        return configs
    blas = info.get("blas") or {}
    not_openblas = None
    if blas.get("internal_api") != "openblas":
        which = blas.get("internal_api") or blas.get("name") or "not one threadpoolctl names"
        not_openblas = f"NumPy's BLAS is {which}, not OpenBLAS: OPENBLAS_CORETYPE has no effect"
    unset = None if environ.get("OPENBLAS_CORETYPE") else "OPENBLAS_CORETYPE is not set: the same as numpy:native"
    configs.append(("openblas:default", {"OPENBLAS_CORETYPE": None, **keep}, not_openblas or unset))
    for core in OPENBLAS_CORE_TYPES.get(arch, ()):
        reason = not_openblas or _core_reason(info, core, OPENBLAS_REQUIRES[arch][core], var, off)
        configs.append((f"openblas:{core}", {"OPENBLAS_CORETYPE": core, **keep}, reason))
    return configs


def _run_check(cmd, env):
    """The check's process (tests replace this to stand in a child that dies)."""
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


#: Windows exit statuses of a process the CPU or the memory system stopped (there are no signals there).
_WINDOWS_FAULTS = {0xC000001D: "STATUS_ILLEGAL_INSTRUCTION", 0xC0000005: "STATUS_ACCESS_VIOLATION"}


def _signal_name(returncode):
    """The signal (or Windows fault) that killed a child with this return code, or None if it exited."""
    if returncode in _WINDOWS_FAULTS:
        return _WINDOWS_FAULTS[returncode]
    if returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _run_config(name, overrides, ids, pins, workdir):
    """One configuration's run: its record, or (record None) the signal that killed it."""
    env = _clean_env()
    for key, value in overrides.items():
        if value is not None:
            env[key] = value
    if "OPENBLAS_CORETYPE" not in overrides and "OPENBLAS_CORETYPE" in os.environ:
        env["OPENBLAS_CORETYPE"] = os.environ["OPENBLAS_CORETYPE"]   # SIMD levels keep the kernel in force
    out = workdir / name.replace(":", "_")
    cmd = [sys.executable, "-m", "backprop_repro", "check", "--no-report", "--quiet", "--out", str(out), *ids]
    if pins is not None:
        cmd += ["--pins", str(pins)]
    done = _run_check(cmd, env)
    run = {"name": name, "asked": dict(overrides), "exit": done.returncode, "signal": None, "simd_targets": None,
           "blas_core": None, "record": None}
    if done.returncode in (-signal.SIGINT, EXIT_INTERRUPTED):
        raise KeyboardInterrupt    # Ctrl-C reached the child first
    run["signal"] = _signal_name(done.returncode)
    if run["signal"]:
        return run
    if done.returncode == 2 or not (out / "results.json").is_file():
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        fault = BadInput if done.returncode == 2 else RunFailed
        raise fault(f"drift --cpu: configuration {name} could not run check: {last}")
    run["record"] = json.loads((out / "results.json").read_text())
    envrec = run["record"]["environment"]
    run["simd_targets"], run["blas_core"] = envrec.get("simd_targets"), envrec.get("blas_core")
    return run


def _growth(actual, expected, dtype):
    """For a 1-D float trace: (max ULP in the first tenth, max ULP in the last tenth), else None."""
    from backprop_repro.core.policies import ulp_distance

    if dtype not in ("float32", "float64"):
        return None
    a, e = np.asarray(actual, dtype=dtype), np.asarray(expected, dtype=dtype)
    if a.ndim != 1 or a.size < 10 or a.shape != e.shape:
        return None
    ulps = np.array(ulp_distance(a, e), dtype=float)
    tenth = max(1, a.size // 10)
    return int(ulps[:tenth].max()), int(ulps[-tenth:].max())


def run_drift(out, ids=(), pins=None, progress=None, info=None):
    """Run every configuration this CPU can execute, write cpu_drift.csv/.html/.json into ``out``; returns the
    verdict record (its summaries: configurations run, failed and skipped, bit-identical quantities, largest drift)."""
    info = info or numpy_cpu_info()
    configs = plan(info)
    notes = [note for note in (ignored_note(info),) if note]
    runnable = [c for c in configs if c[2] is None]
    runs, skipped = [], [{"name": name, "asked": asked, "reason": reason} for name, asked, reason in configs if reason]
    with tempfile.TemporaryDirectory(prefix="backprop-drift-") as tmp:
        for n, (name, overrides, _) in enumerate(runnable, 1):
            if progress:
                progress(f"[{n}/{len(runnable)}] {name} {' '.join(f'{k}={v}' for k, v in overrides.items() if v)}")
            run = _run_config(name, overrides, list(ids), pins, Path(tmp))
            if run["signal"] and name not in _UNFORCED:
                skipped.append({"name": name, "asked": run["asked"], "signal": run["signal"],
                                "reason": f"killed by {run['signal']}: not runnable here"
                                + (" (an instruction this CPU lacks)" if "ILL" in run["signal"] else "")})
            else:
                runs.append(run)
            if progress:
                progress(f"{name}: {run['signal'] or 'exit ' + str(run['exit'])}", advance=True)
    rows = {}
    for run in (r for r in runs if r["record"] is not None):
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
    names = [r["name"] for r in runs if r["record"] is not None]
    table = list(rows.values())
    for row in table:
        row["bit_identical"] = all(row["cells"].get(n) == 0 for n in names)
    _write(out, info, runs, skipped, names, table, notes)
    # a signal where nothing was forced is the check itself crashing here: a failure, never a skip
    failed = [r["name"] + (f" ({r['signal']})" if r["signal"] else "") for r in runs if r["exit"] != 0]
    summary = {"configurations": names, "failed": failed, "skipped": [(s["name"], s["reason"]) for s in skipped],
               "quantities": len(table), "bit_identical": sum(r["bit_identical"] for r in table),
               # ratio-policy rows are noise-dominated error measures, whose ULP distance means nothing
               "largest": max(((max((v or 0) for v in r["cells"].values()), r["example"], r["quantity"])
                               for r in table if not (r["policy"] or "").startswith("ratio")), default=(0, "", "")),
               "notes": notes}
    return _verdict(runs, skipped, summary)


def _verdict(runs, skipped, summary):
    """The record: one observation per configuration (the default check's exit under it), skipped ones
    ``unavailable`` with their reason."""
    from backprop_repro.core import record

    ran = [record.Observation(record.Kind.CPU_CONFIGURATION, r["name"], "pass" if r["exit"] == 0 else "fail",
                              expected=0, actual=r["signal"] or r["exit"], rule="the default check passes")
           for r in runs]
    unrun = [record.Observation(record.Kind.CPU_CONFIGURATION, s["name"], "unavailable", note=s["reason"])
             for s in skipped]
    return record.build("drift --cpu", ran + unrun, summaries=summary)


def _write(out, info, runs, skipped, names, table, notes=()):
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
    configs = [{"name": r["name"], "asked": r["asked"], "exit": r["exit"], "signal": r["signal"],
                "simd_targets": r["simd_targets"], "blas_core": r["blas_core"]} for r in runs]
    cpu = {"features": sorted(k for k, v in info["features"].items() if v), "cpu_flags": info.get("cpu_flags"),
           "blas": info.get("blas")}
    atomic.write_text(out / "cpu_drift.json", json.dumps(
        {"schema_version": 1, "numpy": info["numpy"], "machine": info["machine"], "cpu": cpu,
         "configurations": configs, "skipped": skipped, "notes": list(notes),
         "rows": [{k: v for k, v in row.items()} for row in table]}, indent=1, default=list) + "\n")
    template = Environment(autoescape=select_autoescape(default=True, default_for_string=True)).from_string(_HTML)
    atomic.write_text(out / "cpu_drift.html", template.render(info=info, configs=configs, skipped=skipped,
                                                              names=names, table=table, notes=notes))


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>CPU drift matrix</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1400px}
table{border-collapse:collapse;font-size:12px}th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}
td.q,th.q{text-align:left}.same{background:#e6f4ea}.within{background:#fff4ce}.fail{background:#f8d7da}.skip{background:#eee}
</style></head><body>
<h1>CPU drift matrix (NumPy {{ info.numpy }}, {{ info.machine }})</h1>
<p>Largest ULP distance from the pins per configuration; green bit-identical, yellow within the quantity's
policy, red outside it. A configuration is what took effect in its process; a skipped one could not run
on this CPU (its reason beside it) and has no column.</p>
{% for n in notes %}<p class="note">Note: {{ n }}</p>
{% endfor %}<table><tr><th class="q">configuration</th><th>asked</th><th>SIMD targets in force</th><th>BLAS kernel</th><th>check</th></tr>
{% for c in configs %}<tr><td class="q">{{ c.name }}</td><td>{% for k, v in c.asked.items() %}{{ k }}={{ v if v else "(unset)" }} {% endfor %}</td>
<td>{{ (c.simd_targets or [])|join(" ") }}</td><td>{{ c.blas_core or "" }}</td><td class="{{ 'same' if c.exit == 0 else 'fail' }}">{{ "pass" if c.exit == 0 else ("FAIL: killed by " ~ c.signal if c.signal else "FAIL") }}</td></tr>
{% endfor %}{% for s in skipped %}<tr><td class="q">{{ s.name }}</td><td>{% for k, v in s.asked.items() %}{{ k }}={{ v if v else "(unset)" }} {% endfor %}</td>
<td colspan="2" class="q">{{ s.reason }}</td><td class="skip">skipped</td></tr>
{% endfor %}</table>
<h2>Quantities</h2>
<table><tr><th class="q">example</th><th class="q">quantity</th><th class="q">policy</th>{% for n in names %}<th>{{ n }}</th>{% endfor %}<th>trace growth (ULP first tenth &rarr; last tenth)</th></tr>
{% for r in table %}<tr><td class="q">{{ r.example }}</td><td class="q">{{ r.quantity }}</td><td class="q">{{ r.policy }}</td>
{% for n in names %}{% set u = r.cells.get(n) %}{% set s = r.status.get(n) %}<td class="{{ 'same' if u == 0 else ('within' if s == 'pass' else 'fail') }}">{{ "" if u is none else u }}</td>{% endfor %}
<td>{% if r.growth %}{{ r.growth[0] }} &rarr; {{ r.growth[1] }}{% endif %}</td></tr>
{% endfor %}</table>
</body></html>
"""
