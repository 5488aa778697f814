"""``backprop-repro sweep``: statistical reproduction over many seeds.

Trains every seed with :func:`reference_impl.sweeps.train_batch` in chunks of seeds (a chunk is
the unit of progress and of Ctrl-C: an interrupted sweep stops at once, keeps the finished chunks and marks its
statistics ``partial``), then computes per-output quantiles, convergence rates with Wilson 95 %
intervals, where each printed document value falls (its percentile), the share of seeds at least
as good as the document's run, and a verdict.

An example has a sweep when its module declares ``SWEEP`` (a :class:`reference_impl.sweeps.SweepSpec`).

Sweep pins (``expected_outputs/sweeps/<id>.json``, the ordinary versioned pin format of
:mod:`backprop_repro.store.pins`, each statistic a quantity with policy ``sampling:z=4`` or ``exact``) are compared
with a sampling-error policy:
a pinned rate p must satisfy |p_new - p| <= Z * sqrt(p (1 - p) (1/n_new + 1/n_pin)) + 1/n_new + 1/n_pin
(Z = 4), and for a pinned quantile at level q of value v, q must lie within the same bound of the
fresh empirical CDF at v (of the interval [P(X < v), P(X <= v)] where outputs tie). Identical seeds reproduce the pins exactly up to exp drift.
The verdict ("every printed value between the 1st and 99th percentile", i.e. the CDF at each printed value within
[0.01, 0.99]) is compared exactly when the fresh sweep has the pin's number of seeds, else by the same bound at
levels 0.01 and 0.99. A statistic whose bound admits every possible fresh value (few seeds: with 1 seed every
bound exceeds 1) is not judged (status ``unavailable``, with the number of seeds from which it would be).
"""

import math
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

from reference_impl import sweeps

from backprop_repro.store import pins
from backprop_repro.core import registry, values
from backprop_repro.core.errors import BadInput

__all__ = ["sweepable", "spec_of", "run_sweep", "statistics", "wilson", "compare_with_pin", "Z", "sweep_pin_data",
           "load_sweep_pin", "sweep_pins_dir", "judge", "update_pin", "pin_status", "check_pin_writable",
           "output_name", "rerun_command"]

QUANTILES = (1, 5, 25, 50, 75, 95, 99)
THRESHOLDS = (0.1, 0.05)
Z = 4.0
SAMPLING = f"sampling:z={Z:g}"
_SAMPLING_REASON = ("a statistic over seeds: |fresh - pinned| within Z standard errors of both samples plus one seed "
                    "of discreteness each (backprop_repro.sources.sweep)")
MAX_SEED = 2**32 - 1   # RandomState.seed accepts 0 .. 2**32 - 1
VERDICT_PERCENTILES = (1.0, 99.0)   # a printed value is typical between these percentiles of its output


def sweepable():
    """Ids of the examples that declare a sweep."""
    return [i for i in registry.example_ids() if registry.get(i).sweep is not None]


def spec_of(example_id):
    if example_id not in registry.example_ids() or registry.get(example_id).sweep is None:
        raise BadInput(f"sweep {example_id!r}: unknown or not sweepable; sweepable ids: {', '.join(sweepable())} "
                       f"(an example is sweepable when its module declares SWEEP)")
    return registry.get(example_id).sweep


def wilson(successes, n, z=1.959963984540054):
    """Wilson score interval for a binomial proportion (95 % by default)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def available_cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _ignore_sigint():   # workers: Ctrl-C is the parent's to handle (it stops them)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _train_chunk(spec, block, iterations):
    out, _, _, err = sweeps.train_batch(spec, block, iterations)
    return out, err


def _pool(workers):
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    # fork is cheap and safe while this process runs no other thread; else spawn
    method = "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method),
                               initializer=_ignore_sigint)


BACKENDS = ("numpy", "numba", "jax")
AGREEMENT_SEEDS = 500   # seeds on which a compiled backend is checked against the faithful NumPy path


def _compiled(backend):
    from reference_impl import sweeps_compiled

    ok, why = sweeps_compiled.available(backend)
    if not ok:
        raise BadInput(f"--backend {backend}: {why}")
    return sweeps_compiled, why


def agreement(example_id, outputs, seeds, iterations=None):
    """ULP spread between a compiled backend's outputs and the faithful path on the first seeds."""
    from backprop_repro.core.policies import ulp_distance

    spec = spec_of(example_id)
    k = min(len(seeds), AGREEMENT_SEEDS)
    reference, _, _, _ = sweeps.train_batch(spec, seeds[:k], iterations)
    ulps = np.array(ulp_distance(outputs[:k], reference), dtype=float).reshape(reference.shape)
    rel = np.abs(outputs[:k] - reference) / np.maximum(np.abs(reference), np.finfo(float).tiny)
    per_seed = ulps.max(axis=1)
    return {"seeds_checked": int(k), "bitwise_share": float(np.mean(per_seed == 0)),
            "median_ulp": float(np.median(per_seed)), "p99_ulp": float(np.percentile(per_seed, 99)),
            "max_ulp": float(per_seed.max()), "max_rel": float(rel.max()),
            "worst_seed": int(seeds[int(np.argmax(per_seed))])}


MAX_CHUNK = 10000   # seeds: about 7 MB of working arrays, and the most work a Ctrl-C drops per process


def chunk_size(spec, n_seeds, workers, backend="numpy"):
    """Seeds per chunk: an equal share per process, between the example's ``chunk`` and MAX_CHUNK.

    A NumPy call costs about 1 us whatever its length, and the sweep makes ~37 of them per iteration, so long
    arrays pay: 10,000 seeds of xor_341 over 2 processes took 0.80 s in chunks of 1000 seeds, 0.70 s in 2500
    and 0.61 s in 5000 (same run; train_batch alone: 109, 97 and 86 ns per seed-iteration). XLA pays per call
    too, so the jax backend takes MAX_CHUNK seeds at a time."""
    if backend == "jax":
        return max(spec.chunk, MAX_CHUNK)
    return int(min(MAX_CHUNK, max(spec.chunk, -(-n_seeds // workers))))


def run_sweep(example_id, n_seeds, seed_start=0, chunk=None, iterations=None, progress=True, workers=None,
              backend="numpy"):
    """Train seeds seed_start .. seed_start + n_seeds - 1 in chunks, over ``workers`` processes (default: the
    available cores). Returns (outputs, errors, seeds, partial). Results do not depend on the chunking or the
    number of processes (every seed's arithmetic is its own; tested bitwise)."""
    spec = spec_of(example_id)
    if n_seeds < 1:
        raise BadInput(f"--seeds {n_seeds}: give a positive number of seeds")
    if seed_start < 0 or seed_start + n_seeds - 1 > MAX_SEED:
        raise BadInput(f"--seed-start {seed_start} --seeds {n_seeds}: seeds must lie in 0..{MAX_SEED} (the legacy "
                       f"RandomState's range)")
    iterations = spec.iterations if iterations is None else iterations
    workers = max(1, workers or available_cores())
    chunk = chunk or chunk_size(spec, n_seeds, workers, backend)
    seeds = np.arange(seed_start, seed_start + n_seeds)
    blocks = [seeds[start:start + chunk] for start in range(0, n_seeds, chunk)]
    workers = min(workers, len(blocks))
    results = {}
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=n_seeds * iterations, unit="it", unit_scale=True, desc=f"sweep {example_id}",
                   disable=None, leave=False)
    partial = False
    try:
        if backend != "numpy":   # compiled: parallel inside the kernel; chunks stay the unit of Ctrl-C
            compiled, _ = _compiled(backend)
            for k, block in enumerate(blocks):
                results[k] = compiled.train_batch(spec, block, iterations, backend=backend)
                if bar is not None:
                    bar.update(len(block) * iterations)
        elif workers == 1:
            for k, block in enumerate(blocks):
                tick = _progress_callback(bar, len(block)) if bar is not None else None
                out, _, _, err = sweeps.train_batch(spec, block, iterations, progress=tick)
                results[k] = (out, err)
        else:
            _train_in_pool(spec, blocks, iterations, workers, bar, results)
    except KeyboardInterrupt:
        partial = True
    finally:
        if bar is not None:
            bar.close()
    done = 0
    while done in results:            # the finished prefix of chunks: seeds[:n] stays a contiguous range
        done += 1
    partial = partial or done < len(blocks)
    if not done:
        return np.empty((0, 4)), np.empty((0, 0)), seeds[:0], True
    outputs = np.concatenate([results[k][0] for k in range(done)])
    errors = np.concatenate([results[k][1] for k in range(done)])
    return outputs, errors, seeds[:len(outputs)], partial


def _train_in_pool(spec, blocks, iterations, workers, bar, results):
    """Train ``blocks`` in ``workers`` processes into ``results`` (chunk index -> (outputs, errors)); on Ctrl-C
    the chunks already finished are kept, the running ones are dropped with their workers (a chunk of 10,000
    seeds takes seconds, and a Ctrl-C should not wait for every running and queued one), then the interrupt goes
    on."""
    from concurrent.futures import as_completed

    from backprop_repro.core.pool import stop_pool

    pool = _pool(workers)
    futures = {}
    try:
        for k, block in enumerate(blocks):
            futures[pool.submit(_train_chunk, spec, block, iterations)] = k
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if bar is not None:
                bar.update(len(blocks[futures[future]]) * iterations)
    except BaseException:
        stop_pool(pool)   # at once: no wait for a running chunk or for the pool's manager thread
        for future, k in futures.items():
            if k not in results and future.done() and not future.cancelled() and future.exception() is None:
                results[k] = future.result()    # finished just before the interrupt
        raise
    pool.shutdown()


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
    spec = spec_of(example_id)
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
    pinned = spec.pinned_seed
    if n and seeds[0] <= pinned <= seeds[-1]:
        record["pinned_seed"] = {"seed": pinned, "max_error": float(worst[pinned - seeds[0]]),
                                 "percentile_of_max_error": float(100 * np.mean(worst <= worst[pinned - seeds[0]]))}
    if errors.size:
        record["final_printed_error"] = {str(q): float(np.percentile(errors[:, -1], q)) for q in QUANTILES}
    printed = [float(p.printed) for p in registry.get(example_id).printed if p.quantity == spec.printed_quantity]
    if printed and n:
        printed = np.array(printed)
        percentiles = [float(100 * np.mean(outputs[:, j] <= printed[j])) for j in range(len(printed))]
        doc_error = float(np.max(np.abs(printed - targets)))
        share = float(np.mean(worst <= doc_error))
        low, high = wilson(int(np.sum(worst <= doc_error)), n)
        typical = all(VERDICT_PERCENTILES[0] <= p <= VERDICT_PERCENTILES[1] for p in percentiles)
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


def _seeds_needed(p, reach, n_pin):
    """The fewest fresh seeds whose bound at level ``p`` lies below ``reach`` (so that some sample could fail),
    or None when even infinitely many seeds would not do against a pin of ``n_pin`` seeds."""
    if Z * math.sqrt(max(p * (1 - p), 0.0) / n_pin) + 1 / n_pin >= reach:
        return None
    low, high = 1, 2
    while _bound(p, high, n_pin) >= reach:    # the bound falls as n grows
        low, high = high, 2 * high
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if _bound(p, mid, n_pin) < reach else (mid + 1, high)
    return low


def sweep_pin_data(record, provenance):
    """The ordinary pin format for a sweep: each pinned statistic a quantity with its policy."""
    q = {"n_seeds": (np.int64(record["n_seeds"]), "exact", "the sample size the sampling bounds use"),
         "iterations": (np.int64(record["iterations"]), "exact", "the training length of every seed"),
         "verdict": (record["verdict"], "exact", "the statistical verdict must not change")}
    for t, c in record["convergence"].items():
        q[f"convergence/{t}/rate"] = (np.float64(c["rate"]), SAMPLING, _SAMPLING_REASON)
    for name, levels in record["quantiles"].items():
        for level, value in levels.items():
            q[f"quantiles/{name}/{level}"] = (np.float64(value), SAMPLING, _SAMPLING_REASON +
                                              "; a quantile is judged by the fresh CDF at its pinned value")
    if "document" in record:
        q["document/share_at_least_as_good"] = (np.float64(record["document"]["share_at_least_as_good"]), SAMPLING,
                                                _SAMPLING_REASON)
    example = registry.get(record["example"])
    quantities = {}
    for name, (value, policy, reason) in q.items():
        encoded = values.encode(value)
        quantities[name] = {"dtype": encoded["dtype"], "shape": encoded["shape"], "policy": policy,
                            "reason": reason, "value": encoded["value"]}
    return {"schema_version": pins.PIN_SCHEMA_VERSION, "example": record["example"], "kind": "sweep",
            "source": {"documents": list(example.documents), "section": example.section},
            "provenance": provenance, "quantities": quantities}


def compare_with_pin(record, outputs, pin):
    """Rows (quantity, pinned, fresh, bound, status) of a sweep against its pin (a :class:`backprop_repro.store.pins.Pin`).

    A row whose bound admits every fresh value that ``n_seeds`` seeds could give has status ``unavailable``, a
    ``reason`` and ``seeds_needed`` (None: not with any number of seeds against this pin)."""
    rows = []
    pinned = {name: q["value"] for name, q in pin.quantities.items()}
    n_new, n_pin = record["n_seeds"], int(pinned["n_seeds"])
    low, high = VERDICT_PERCENTILES[0] / 100, VERDICT_PERCENTILES[1] / 100
    for name, value in pinned.items():
        parts = name.split("/")
        if parts[0] == "convergence":   # a fresh rate in [0, 1] can miss p by max(p, 1 - p): the bound's reach
            fresh = record["convergence"][parts[1]]["rate"]
            bound = _bound(float(value), n_new, n_pin)
            rows.append((name, float(value), fresh, bound, abs(fresh - float(value)) <= bound,
                         (float(value), max(float(value), 1 - float(value)))))
        elif parts[0] == "quantiles":
            j = int(parts[1].split(".")[1])
            level = float(parts[2]) / 100
            below, at_most = float(np.mean(outputs[:, j] < value)), float(np.mean(outputs[:, j] <= value))
            bound = _bound(level, n_new, n_pin)   # ties (e.g. saturated outputs): the CDF jumps from below to at_most
            rows.append((name, level, at_most, bound, below - bound <= level <= at_most + bound,
                         (level, max(level, 1 - level))))
        elif name == "document/share_at_least_as_good":
            fresh = record["document"]["share_at_least_as_good"]
            bound = _bound(float(value), n_new, n_pin)
            rows.append((name, float(value), fresh, bound, abs(fresh - float(value)) <= bound,
                         (float(value), max(float(value), 1 - float(value)))))
        elif name == "verdict" and n_new != n_pin and "document" in record and value in _VERDICTS:
            rows.append(_verdict_row(value, record, outputs, n_new, n_pin, low, high))
        elif name == "verdict":   # the pin's own sample size: the verdict must not change
            rows.append((name, value, record["verdict"], None, value == record["verdict"], None))
        elif name == "iterations":
            rows.append((name, int(value), record["iterations"], None, int(value) == record["iterations"], None))
    out = []
    for q, p, f, b, ok, reach in rows:
        row = {"quantity": q, "pinned": p, "fresh": f, "bound": b, "status": "pass" if ok else "fail"}
        if reach is not None and b >= reach[1]:     # no sample of n_new seeds could fail: not judged
            needed = _seeds_needed(reach[0], reach[1], n_pin)
            row.update(status="unavailable", seeds_needed=needed,
                       reason=f"with {n_new} seeds the bound {b:.4g} admits every possible value; "
                              + (f"judged from {needed} seeds on" if needed else
                                 f"not judgeable against a pin of {n_pin} seeds"))
        out.append(row)
    return out


_VERDICTS = ("reproduced-statistically", "not-reproduced-statistically")


def _verdict_row(pinned, record, outputs, n_new, n_pin, low, high):
    """The verdict against a pin of another sample size: the pinned verdict says the CDF at every printed value
    lies in [low, high] (or, not reproduced, at some printed value outside); the fresh CDF there ([P(X < v),
    P(X <= v)]) must be consistent with that within the sampling bound at those levels (the same for both)."""
    bound = _bound(low, n_new, n_pin)
    printed = record["document"]["printed"]
    cdf = [(float(np.mean(outputs[:, j] < v)), float(np.mean(outputs[:, j] <= v))) for j, v in enumerate(printed)]
    if pinned == "reproduced-statistically":   # refuted by a printed value clearly outside the range
        ok = all(at_most >= low - bound and below <= high + bound for below, at_most in cdf)
        reach = low                            # a CDF of 0 or 1 refutes it once the bound is below `low`
    else:                                      # refuted by every printed value clearly inside the range
        ok = not all(below > low + bound and at_most < high - bound for below, at_most in cdf)
        reach = (high - low) / 2               # a CDF of 0.5 everywhere refutes it once the bound is below this
    return ("verdict", pinned, record["verdict"], bound, ok, (low, reach))


def sweep_pins_dir(pins_dir):
    return Path(pins_dir) / "sweeps"


def load_sweep_pin(pins_dir, example_id):
    """The sweep pin (a :class:`backprop_repro.store.pins.Pin`) or None; malformed pins are bad input naming the file."""
    pin = pins.load_pin(sweep_pins_dir(pins_dir), example_id,
                        fix=f"regenerate it with `backprop-repro sweep {example_id} --update-pin` and review the diff")
    if pin is not None:
        for required in ("n_seeds", "verdict"):
            if required not in pin.quantities:
                raise BadInput(f"{pin.path}: quantities.{required}: missing; regenerate it with `backprop-repro sweep "
                               f"{example_id} --update-pin` and review the diff")
    return pin


def timed_sweep(example_id, n_seeds, seed_start=0, progress=True, backend="numpy"):
    if backend not in BACKENDS:
        raise BadInput(f"--backend {backend}: one of {', '.join(BACKENDS)}")
    version = _compiled(backend)[1] if backend != "numpy" else None   # absent: bad input before anything runs
    start = time.perf_counter()
    outputs, errors, seeds, partial = run_sweep(example_id, n_seeds, seed_start, progress=progress, backend=backend)
    seconds = time.perf_counter() - start
    stats = statistics(example_id, outputs, errors, seeds, partial, n_seeds, round(seconds, 3))
    if backend != "numpy":
        stats["backend"] = {"name": backend, "version": version, "faithful": False,
                            "agreement_with_numpy": agreement(example_id, outputs, seeds) if len(seeds) else None}
    else:
        stats["backend"] = {"name": "numpy", "faithful": True}
    return stats, outputs


def load_sweep_pin_or_none(pins_dir, example_id):
    """The sweep pin, or None when it is missing or unreadable (``--update-pin`` replaces it)."""
    try:
        return load_sweep_pin(pins_dir, example_id)
    except BadInput:
        return None


def pin_from_data(data, path="<sweep pin>"):
    """A :class:`backprop_repro.store.pins.Pin` from sweep pin data (as :func:`sweep_pin_data` makes it), decoded."""
    return pins.Pin(data["example"], Path(path), data["provenance"],
                    {name: {**q, "value": values.decode(q)} for name, q in data["quantities"].items()})


def as_pin(stats):
    """The pin a sweep's statistics would write (for comparing two sweeps)."""
    return pin_from_data(sweep_pin_data(stats, {}))


# --- the sweep's verdict: compared with its pin, or the pin written --------------------------------------------------

def check_pin_writable(pins_dir, example_id):
    """``--update-pin``: a read-only pin or pin folder is bad input before the run, naming the pin."""
    from backprop_repro.store import atomic

    target = pins.pin_path(sweep_pins_dir(pins_dir), example_id)
    if target.parent.is_dir():
        atomic.resolve_target(target, str(target), "pass --pins DIR")
    elif pins_dir.is_dir() and not os.access(pins_dir, os.W_OK | os.X_OK):
        raise BadInput(f"{target}: cannot create its folder ({pins_dir} is read-only); make it writable or pass "
                       f"--pins DIR")


def update_pin(pins_dir, example_id, stats, environment):
    """Write the sweep pin of ``stats`` when it differs from the stored one; (status, note with the diff)."""
    command = f"backprop-repro sweep {example_id} --seeds {stats['n_seeds']} --update-pin"
    data = sweep_pin_data(stats, {"command": command, **environment})
    path = pins.pin_path(sweep_pins_dir(pins_dir), example_id)
    lines = pins.diff_pins(load_sweep_pin_or_none(pins_dir, example_id), data)
    if lines:
        try:
            sweep_pins_dir(pins_dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BadInput(f"{path}: cannot create its folder ({exc.strerror or exc}); make {pins_dir} writable or "
                           f"pass --pins DIR") from None
        pins.write_pin(sweep_pins_dir(pins_dir), data)   # a read-only pin: WriteFailed naming it
    return ("fail" if lines else "pass"), f"{path}: " + ("changed (review the diff)\n" + "\n".join(lines) if lines
                                                          else "unchanged")


def pin_status(rows, n, n_pin, z=Z):
    """The section status and note of a sweep compared with its pin: ``unavailable`` (exit 0) when no statistic
    could be judged with ``n`` seeds and the exact rows (iterations) hold."""
    seeds = f"{n} seed{'' if n == 1 else 's'}"
    against = f"against the pin ({n_pin} seeds, sampling bound Z={z:g})"
    judged = [r for r in rows if r["status"] != "unavailable"]
    failed = [r for r in judged if r["status"] != "pass"]
    skipped = [r for r in rows if r["status"] == "unavailable"]
    too_few = _too_few(skipped)
    if not failed and all(r["bound"] is None for r in judged):   # nothing statistical could be judged
        needed = [r["seeds_needed"] for r in skipped if r["seeds_needed"]]
        return "unavailable", (f"too few seeds to judge {against}: with {seeds} every statistic's bound admits any "
                               f"value ({too_few})" + (f"; pass --seeds {min(needed)} or more" if needed else ""))
    note = (f"{against}: {len(judged) - len(failed)} of {len(judged)} within bounds"
            + (f"; not judged with {seeds} (too few): {too_few}" if skipped else "")
            + "".join(f"\n  FAIL {r['quantity']}: pinned {r['pinned']}, fresh {r['fresh']}, "
                      + (f"bound {r['bound']:.4g}" if r["bound"] is not None else "compared exactly")
                      for r in failed))
    return ("fail" if failed else "pass"), note


def _too_few(skipped):
    """The statistics not judged, per kind, with the seeds from which they would be."""
    groups = {}
    for r in skipped:
        groups.setdefault(r["quantity"].split("/")[0], []).append(r["seeds_needed"])
    return ", ".join(
        f"{len(need)} {kind}" + (f" (judged from {min(need)}" + (f"-{max(need)}" if max(need) > min(need) else "")
                                 + " seeds on)" if None not in need else " (not with any number of seeds)")
        for kind, need in groups.items())


def judge(example_id, stats, outputs, pin, pins_dir, update, environment):
    """The sweep's verdict record (results.json form, one ``sweeps`` section): partial statistics are neither
    compared nor pinned; ``update`` writes the pin; else the statistics are compared with ``pin`` (loaded before
    the run, so that a malformed one is bad input before any seed runs)."""
    from backprop_repro.sources import runner

    rows = []
    if stats["partial"]:
        status, note = "interrupted", "interrupted: statistics are partial; pins not compared or updated"
    elif update:
        status, note = update_pin(pins_dir, example_id, stats, environment)
    elif pin is None:
        status = "missing-pin"
        note = f"no sweep pin at {pins.pin_path(sweep_pins_dir(pins_dir), example_id)}; create it with --update-pin"
    else:
        rows = compare_with_pin(stats, outputs, pin)
        status, note = pin_status(rows, stats["n_seeds"], int(pin.quantities["n_seeds"]["value"]))
    return runner.assemble(environment, sweeps=[{**stats, "status": status, "comparison": rows, "note": note}])


def output_name(out, example_id, partial):
    """The sweep's file in ``out``: a partial sweep never replaces a complete one."""
    name = f"sweep-{example_id}.json"
    if partial and _complete_sweep(Path(out) / name):
        name = f"sweep-{example_id}.partial.json"
    return name


def _complete_sweep(path):
    import json

    try:
        return not any(s.get("partial") for s in json.loads(path.read_text(encoding="utf-8")).get("sweeps", []))
    except (OSError, ValueError, AttributeError):
        return False


def rerun_command(example_id, stats):
    """A command that re-runs the first seed that did not converge within 0.1, alone (None when all did)."""
    failing = stats["failures"].get("0.1") or []
    if not failing:
        return None
    package = registry.get(example_id).module_name.rsplit(".", 1)[0]
    return (f"python -c \"from {package} import {example_id}; print({example_id}.run(seed={failing[0]})"
            f"['output'])\"")
