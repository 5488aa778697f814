"""``backprop-repro sweep``: statistical reproduction over many seeds.

Trains every seed with :func:`reference_impl.sweeps.train_batch` in chunks of seeds (a chunk is
the unit of progress and of Ctrl-C: an interrupted sweep keeps the finished chunks and marks its
statistics ``partial``), then computes per-output quantiles, convergence rates with Wilson 95 %
intervals, where each printed document value falls (its percentile), the share of seeds at least
as good as the document's run, and a verdict.

Sweep pins (``expected_outputs/sweeps/<id>.json``) are compared with a sampling-error policy:
a pinned rate p must satisfy |p_new - p| <= Z * sqrt(p (1 - p) (1/n_new + 1/n_pin)) + 1/n_new + 1/n_pin
(Z = 4), and for a pinned quantile at level q of value v, q must lie within the same bound of the
fresh empirical CDF at v (of the interval [P(X < v), P(X <= v)] where outputs tie). Identical seeds reproduce the pins exactly up to exp drift.
"""

import json
import math
import time
from pathlib import Path

import numpy as np

from reference_impl import sweeps

from . import atomic, pins
from .document_values import printed_array
from .environment import fingerprint
from .errors import BadInput

__all__ = ["SWEEPABLE", "DEFAULT_SEEDS", "run_sweep", "statistics", "wilson", "compare_with_pin", "Z"]

SWEEPABLE = tuple(sweeps.SPECS)
DEFAULT_SEEDS = {"xor_341": 10000, "cavar_hidden_layer": 200}
QUANTILES = (1, 5, 25, 50, 75, 95, 99)
THRESHOLDS = (0.1, 0.05)
CHUNK = 1000   # seeds per batch: cache-resident arrays for xor_341 (1500 iterations)
CHUNKS = {"xor_341": CHUNK, "cavar_hidden_layer": 100}   # 004's 100000 iterations: smaller units for Ctrl-C
Z = 4.0
PINNED_SEED = {"xor_341": 0, "cavar_hidden_layer": 1}   # the seed of the pinned single run (document's for 004)


def wilson(successes, n, z=1.959963984540054):
    """Wilson score interval for a binomial proportion (95 % by default)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def run_sweep(example_id, n_seeds, seed_start=0, chunk=None, iterations=None, progress=True):
    """Train seeds seed_start .. seed_start + n_seeds - 1. Returns (outputs, errors, seeds, partial)."""
    if example_id not in sweeps.SPECS:
        raise BadInput(f"sweep {example_id!r}: only {', '.join(SWEEPABLE)} have seed sweeps")
    if n_seeds < 1:
        raise BadInput(f"--seeds {n_seeds}: give a positive number of seeds")
    spec = sweeps.SPECS[example_id]
    iterations = spec.iterations if iterations is None else iterations
    chunk = chunk or CHUNKS[example_id]
    seeds = np.arange(seed_start, seed_start + n_seeds)
    outputs, errors, done = [], [], 0
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=n_seeds * iterations, unit="it", unit_scale=True, desc=f"sweep {example_id}",
                   disable=None, leave=False)
    partial = False
    try:
        for start in range(0, n_seeds, chunk):
            block = seeds[start:start + chunk]
            tick = _progress_callback(bar, len(block)) if bar is not None else None
            out, _, _, err = sweeps.train_batch(spec, block, iterations, progress=tick)
            outputs.append(out)
            errors.append(err)
            done += len(block)
    except KeyboardInterrupt:
        partial = True
    finally:
        if bar is not None:
            bar.close()
    if not outputs:
        return np.empty((0, 4)), np.empty((0, 0)), seeds[:0], True
    return np.concatenate(outputs), np.concatenate(errors), seeds[:done], partial


def _progress_callback(bar, size):
    """Advance ``bar`` by iterations x seeds as train_batch reports iterations done."""
    last = 0

    def tick(done):
        nonlocal last
        bar.update((done - last) * size)
        last = done

    return tick


def _max_error(outputs, targets):
    return np.max(np.abs(outputs - targets), axis=1)


def statistics(example_id, outputs, errors, seeds, partial=False, n_requested=None, seconds=None):
    """The sweep record: quantiles, convergence rates with intervals, printed values' percentiles, verdict."""
    spec = sweeps.SPECS[example_id]
    targets = spec.targets.astype(float)
    n = len(seeds)
    worst = _max_error(outputs, targets)
    record = {"example": example_id, "n_seeds": n, "n_requested": n_requested or n,
              "seed_start": int(seeds[0]) if n else None, "iterations": spec.iterations,
              "rng": "legacy MT19937 (RandomState.seed(s); 16 draws: hidden (3, 4) then output (4, 1))",
              "partial": bool(partial), "seconds": seconds,
              "quantiles": {f"output.{j}": {str(q): float(np.percentile(outputs[:, j], q)) for q in QUANTILES}
                            for j in range(outputs.shape[1])} if n else {},
              "convergence": {}, "failures": {}}
    for t in THRESHOLDS:
        ok = worst < t
        low, high = wilson(int(ok.sum()), n)
        record["convergence"][str(t)] = {"rate": float(ok.mean()) if n else 0.0, "converged": int(ok.sum()),
                                         "wilson95": [low, high]}
        record["failures"][str(t)] = seeds[~ok].tolist()
    pinned = PINNED_SEED[example_id]
    if n and seeds[0] <= pinned <= seeds[-1]:
        record["pinned_seed"] = {"seed": pinned, "max_error": float(worst[pinned - seeds[0]]),
                                 "percentile_of_max_error": float(100 * np.mean(worst <= worst[pinned - seeds[0]]))}
    if errors.size:
        record["final_printed_error"] = {str(q): float(np.percentile(errors[:, -1], q)) for q in QUANTILES}
    printed = printed_array(example_id, "output")
    if printed and n:
        printed = np.array(printed)
        percentiles = [float(100 * np.mean(outputs[:, j] <= printed[j])) for j in range(len(printed))]
        doc_error = float(np.max(np.abs(printed - targets)))
        share = float(np.mean(worst <= doc_error))
        low, high = wilson(int(np.sum(worst <= doc_error)), n)
        typical = all(1.0 <= p <= 99.0 for p in percentiles)
        record["document"] = {"printed": printed.tolist(), "percentiles": percentiles, "max_error": doc_error,
                              "share_at_least_as_good": share, "share_wilson95": [low, high]}
        record["verdict"] = "reproduced-statistically" if typical else "not-reproduced-statistically"
        record["verdict_rule"] = "every printed output between the 1st and 99th percentile of its output over seeds"
    else:
        record["verdict"] = "no-printed-values"
        record["verdict_rule"] = "the document's printed values are lost: only the method's behaviour is reported"
    record["histograms"] = {}
    for j in range(outputs.shape[1] if n else 0):
        counts, edges = np.histogram(outputs[:, j], bins=40)
        record["histograms"][f"output.{j}"] = {"counts": counts.tolist(), "edges": edges.tolist()}
    return record


def _bound(p, n_new, n_pin):
    return Z * math.sqrt(max(p * (1 - p), 0.0) * (1 / n_new + 1 / n_pin)) + 1 / n_new + 1 / n_pin


def compare_with_pin(record, outputs, pin):
    """Rows (quantity, pinned, fresh, bound, status) of a sweep against its pin under the sampling policy."""
    rows = []
    n_new, n_pin = record["n_seeds"], pin["n_seeds"]
    for t, pinned in pin["convergence"].items():
        fresh = record["convergence"][t]["rate"]
        bound = _bound(pinned["rate"], n_new, n_pin)
        rows.append((f"convergence.{t}.rate", pinned["rate"], fresh, bound, abs(fresh - pinned["rate"]) <= bound))
    for name, levels in pin["quantiles"].items():
        j = int(name.split(".")[1])
        for q, value in levels.items():
            level = float(q) / 100
            below, at_most = float(np.mean(outputs[:, j] < value)), float(np.mean(outputs[:, j] <= value))
            bound = _bound(level, n_new, n_pin)   # ties (e.g. saturated outputs): the CDF jumps from below to at_most
            rows.append((f"quantiles.{name}.{q}", level, at_most, bound, below - bound <= level <= at_most + bound))
    if "document" in pin:
        share, fresh = pin["document"]["share_at_least_as_good"], record["document"]["share_at_least_as_good"]
        bound = _bound(share, n_new, n_pin)
        rows.append(("document.share_at_least_as_good", share, fresh, bound, abs(fresh - share) <= bound))
    rows.append(("verdict", pin["verdict"], record["verdict"], None, pin["verdict"] == record["verdict"]))
    return [{"quantity": q, "pinned": p, "fresh": f, "bound": b, "status": "pass" if ok else "fail"}
            for q, p, f, b, ok in rows]


def sweep_pin_path(pins_dir, example_id):
    return Path(pins_dir) / "sweeps" / f"{example_id}.json"


def load_sweep_pin(pins_dir, example_id):
    path = sweep_pin_path(pins_dir, example_id)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("n_seeds", "convergence", "quantiles", "verdict"):
            data[key]  # noqa: B018 - presence check
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"{path}: malformed sweep pin ({type(exc).__name__}: {exc}); regenerate it with "
                       f"`backprop-repro sweep {example_id} --update-pin`") from None
    return data


def write_sweep_pin(pins_dir, record):
    path = sweep_pin_path(pins_dir, record["example"])
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {k: v for k, v in record.items() if k not in ("histograms", "failures", "seconds")}
    data["provenance"] = {"command": f"backprop-repro sweep {record['example']} --seeds {record['n_seeds']} "
                                     f"--update-pin", **fingerprint()}
    old = load_sweep_pin(pins_dir, record["example"])
    same = old is not None and {k: v for k, v in old.items() if k != "provenance"} == \
        {k: v for k, v in data.items() if k != "provenance"}
    if not same:
        atomic.write_text(path, pins.pin_text(data))
    return not same


def merge_into_results(out, record):
    """Add the sweep record to DIR/results.json (section "sweeps") when that file exists."""
    path = Path(out) / "results.json"
    if not path.exists():
        return False
    results = json.loads(path.read_text(encoding="utf-8"))
    results.setdefault("sweeps", {})[record["example"]] = record
    atomic.write_text(path, json.dumps(results, indent=1, allow_nan=False) + "\n")
    return True


def timed_sweep(example_id, n_seeds, seed_start=0, progress=True):
    start = time.perf_counter()
    outputs, errors, seeds, partial = run_sweep(example_id, n_seeds, seed_start, progress=progress)
    seconds = time.perf_counter() - start
    return statistics(example_id, outputs, errors, seeds, partial, n_seeds, round(seconds, 3)), outputs
