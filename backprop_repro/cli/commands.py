"""Command line: ``backprop-repro list | check | pins update | bench | sweep | report | compare | drift --cpu |
selftest | notebook`` (the README's table).

Exit codes: 0 everything holds; 1 a regression (a quantity, printed value or claim out of tolerance, a missing
or changed pin, a notebook not reproduced); 2 bad input or environment, with a one-line message; 130
interrupted. A broken, closed or missing stdout or stderr never changes the exit code.
"""

import os
import signal
import sys

from ._startup import install as _install_start_up_handler

if os.path.basename(sys.argv[0] or "").split(".")[0] == "backprop-repro":   # the console script (repro/__main__.py
    _install_start_up_handler()                                           # installs it for `python -m repro`)

import argparse  # noqa: E402
import errno  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

from . import __version__, atomic, pins, registry, runner  # noqa: E402
from .errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_REGRESSION, BadInput, RunFailed  # noqa: E402
from .locations import checkout_root, default_pins_dir  # noqa: E402
from .outputs import OWNED, destinations, output_set  # noqa: E402

__all__ = ["main"]

DEFAULT_OUT = "reports/latest"
PINS_HELP = ("pin directory (default: the checkout's expected_outputs/ when run from one, else the pins shipped in "
             "the package)")


def _say(message):
    print(message, file=sys.stderr, flush=True)


def _writable_dir(path, option):
    """Create ``path`` if needed and probe it with a uniquely named temporary file (parallel runs never collide)."""
    import tempfile

    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path, prefix=".write-probe-"):
            pass
    except OSError as exc:
        raise BadInput(f"{option} {path}: not a writable directory ({exc.strerror or exc}); "
                       f"pass a directory you can write to") from None
    return path


def _refuse_out_in_pins(args):
    """An ``--out`` that is a pin folder (the command's or the default one) or lies inside one is bad input: its
    files would be taken for orphaned pins by every later check."""
    out = getattr(args, "out", None)
    if out is None:
        return
    real = Path(os.path.realpath(out))
    for pins_dir in (_pins_dir(args, must_exist=False), default_pins_dir()):
        pins_real = Path(os.path.realpath(pins_dir))
        if real == pins_real or pins_real in real.parents:
            raise BadInput(f"--out {out}: is the pin folder {pins_dir} or inside it, where its files would be taken "
                           f"for orphaned pins; pass another --out (default {DEFAULT_OUT})")


def _pins_dir(args, must_exist=True, for_writing=False):
    """--pins DIR, else --project DIR/expected_outputs, else the default pins; a missing one is bad input."""
    if getattr(args, "pins", None):
        path, option = Path(args.pins), f"--pins {args.pins}"
    elif getattr(args, "project", None):
        path, option = Path(args.project) / "expected_outputs", f"--project {args.project}"
    else:
        path, option = default_pins_dir(), "the default pin directory"
        if for_writing and checkout_root() is None:
            raise BadInput(f"{path}: the pins shipped inside the installed package are read-only; pass --pins DIR or "
                           f"--project DIR (or run from a source checkout)")
    if must_exist and not path.is_dir():
        raise BadInput(f"{option}: no such directory {path}; pass the folder that holds the <id>.json pins "
                       f"(or --project DIR for DIR/expected_outputs)")
    return path


def _bench_section(bench):
    if bench is None:
        return None
    from . import bench as bench_mod

    return bench_mod.load_section(bench)


def write_outputs(record, out, render=True, rendered=None):
    """results.json, then (``render``) the report (index.html and the CSV tables) read from it; all atomic.
    ``rendered``: the record's figures drawn ahead (:class:`repro.report.FiguresAhead`)."""
    atomic.write_text(out / "results.json", json.dumps(record, indent=1, allow_nan=False) + "\n")
    if render:
        from . import report

        report.write_report([record], out, rendered=rendered)


def _print_check_summary(record):
    differs = dict(record["environment"].get("differs_from_pins") or {})
    cpu_path = [(key, differs.pop(key)) for key in ("simd_targets", "blas_core", "settings") if key in differs]
    differs.pop("simd", None)   # the features follow from the CPU line; the targets in use say what matters
    if cpu_path:
        made = "; ".join(f"{key} {_short(entry['now'])} (pins: {' | '.join(entry['pins'])})" for key, entry in cpu_path)
        print(f"note: the CPU path differs from the pins': {made}; judged by the policies all the same "
              f"(`backprop-repro drift --cpu` measures what that changes)")
    for key, entry in differs.items():
        made = "; ".join(f"{value} ({', '.join(ids)})" for value, ids in entry["pins"].items())
        print(f"note: running under {key} {entry['now']}, pins were made under {made}; judged by the policies all "
              f"the same")
    by_example = {}
    for r in record["results"]:
        by_example.setdefault(r["example"], []).append(r)
    print(f"{'example':<20} {'quantities':>10} {'pass':>5} {'fail':>5} {'missing':>8} {'error':>6} {'seconds':>8}")
    for e in record["examples"]:
        rs = by_example.get(e["example"], [])
        count = {s: sum(r["status"] == s for r in rs) for s in ("pass", "fail", "missing-pin", "error")}
        print(f"{e['example']:<20} {len(rs):>10} {count['pass']:>5} {count['fail']:>5} {count['missing-pin']:>8} "
              f"{count['error']:>6} {e['seconds']:>8.2f}")
    for r in record["results"]:
        if r["status"] != "pass":
            print(f"  {r['status'].upper()} {r['example']}:{r['quantity']}: {r['message']}")
    for e in record["examples"]:
        if e["warnings_status"] != "pass":
            print(f"  FAIL {e['example']}: warnings: {e['warnings_note']}")
    dvs = record["document_values"]
    print(f"document values: {sum(d['outcome'] == 'reproduced' for d in dvs)} of {len(dvs)} reproduced at printed "
          f"precision (the rest not reproduced as reviewed), {sum(d['status'] != 'pass' for d in dvs)} differ from the "
          f"reviewed outcome")
    for d in dvs:
        if d["status"] != "pass":
            print(f"  FAIL {d['document']} {d['example']}:{d['quantity']}{d['index']}: printed {d['printed']}, "
                  f"got {d['actual']} ({d['outcome']}, reviewed {d['expected_outcome']})")
    verdicts = {}
    for c in record["claims"]:
        verdicts[c["verdict"]] = verdicts.get(c["verdict"], 0) + 1
    changed = sum(c["status"] not in runner.NON_FAILING for c in record["claims"])
    print(f"claims: {len(record['claims'])} checked: " + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items()))
          + ("; every verdict as reviewed" if not changed else f"; {changed} differ from the reviewed verdict"))
    for c in record["claims"]:
        if c["status"] == "unavailable":
            print(f"  unavailable: claim {c['id']}: {c['note']}")
    for c in record["claims"]:
        if c["status"] != "pass":
            print(f"  {c['status'].upper()} claim {c['id']}: {c['verdict']} (reviewed {c['expected_verdict']}): "
                  f"{c['note']}")


def _short(value):
    if isinstance(value, list):
        return " ".join(value) or "-"
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items()) or "none"
    return str(value)


def cmd_list(args):
    pins_dir = _pins_dir(args, must_exist=False)
    for example_id in registry.example_ids():
        example = registry.get(example_id)
        print(f"{example.id}: {example.summary}  [{example.module_name}]")
        print(f"    source: {', '.join(example.documents)}, {example.section}")
        print("    policies:")
        for pattern, policy, reason in example.policies:
            print(f"      {pattern:<34} {policy:<28} {reason}")
        try:
            pin = pins.load_pin(pins_dir, example.id)
        except BadInput as exc:
            print(f"    quantities: unreadable pin ({exc})")
            continue
        if pin is None:
            print(f"    quantities: no pin in {pins_dir} (run `backprop-repro pins update {example.id}`)")
            continue
        print("    quantities (from the pin):")
        for name, q in pin.quantities.items():
            shape = "x".join(map(str, q["shape"])) or "scalar"
            print(f"      {name:<44} {q['dtype']:<8} {shape:<8} {q['policy']}")
    return EXIT_OK


class _Progress:
    """Progress of a run: a tqdm bar on a terminal (stderr), else plain lines, or nothing with --quiet."""

    def __init__(self, total, desc, quiet):
        self.quiet, self.bar = quiet, None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="step", leave=False, file=sys.stderr)

    def __call__(self, message, advance=False):
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(message.strip()[:60])
            if advance:
                self.bar.update(1)
        else:
            _say(message)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _junit_target(path, out=None):
    """``--junit-xml`` checked before the run: a regular file (or a new one) in an existing folder, written through
    its symlinks, and neither one of the output folder's files nor the step summary."""
    target = Path(path)
    atomic.resolve_target(target, f"--junit-xml {path}", "pass another --junit-xml")
    others = [] if out is None else [(f"{label} (--out)", p) for label, p in destinations(out, OWNED["check"])]
    atomic.distinct(others + [("GITHUB_STEP_SUMMARY", os.environ.get("GITHUB_STEP_SUMMARY") or None),
                              (f"--junit-xml {path}", target)])
    return target


def _step_summary_target(out):
    """``$GITHUB_STEP_SUMMARY`` checked before the run like ``--junit-xml`` (other steps append to it too)."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return None
    atomic.resolve_target(path, f"GITHUB_STEP_SUMMARY {path}", _SUMMARY_FIX)
    atomic.distinct([(f"{label} (--out)", p) for label, p in destinations(out, OWNED["check"])]
                    + [(f"GITHUB_STEP_SUMMARY {path}", path)])
    return Path(path)


_SUMMARY_FIX = "point GITHUB_STEP_SUMMARY at a writable file or unset it"


def cmd_check(args):
    if args.jobs < 1:
        raise BadInput(f"--jobs {args.jobs}: give 1 (one example after another) or more worker processes")
    out = _writable_dir(args.out, "--out")
    pins_dir = _pins_dir(args)
    if args.repeat < 1:
        raise BadInput(f"--repeat {args.repeat}: give 1 (no probe) or more runs")
    junit = _junit_target(args.junit_xml, out) if args.junit_xml else None
    summary = _step_summary_target(out)
    ids = runner.resolve_ids(args.ids)
    progress = _Progress(len(ids), "check", args.quiet)
    pool = runner.example_pool(min(args.jobs, len(ids)))
    try:
        ahead = None
        if pool is not None and not args.no_report:
            from .report import FiguresAhead

            ahead = FiguresAhead(pool)
        record = runner.check(ids, pins_dir, progress=progress, strict=args.strict, repeat=args.repeat,
                              bench=_bench_section(args.bench), pool=pool, on_example=ahead and ahead.submit)
        with output_set(out, OWNED["check"]) as staging:
            write_outputs(record, staging, render=not args.no_report, rendered=ahead and ahead.drawn())
    except BaseException:
        if pool is not None:   # an interrupt or an error: no worker outlives the run
            runner.stop_pool(pool)
        raise
    finally:
        progress.close()
    if pool is not None:
        pool.shutdown()
    from . import ci_output

    if junit is not None:
        atomic.write_text(junit, ci_output.junit_xml(record), f"--junit-xml {junit}",
                          elsewhere="pass another --junit-xml")
    if summary is not None:   # other steps' summaries stay in front of ours
        atomic.write_text(summary, ci_output.step_summary(record), f"GITHUB_STEP_SUMMARY {summary}", append=True,
                          elsewhere=_SUMMARY_FIX)
    if os.environ.get("GITHUB_ACTIONS"):
        for line in ci_output.annotations(record):
            print(line)
    _print_check_summary(record)
    if "determinism" in record:
        d = record["determinism"]
        print(f"determinism: {d['repeats']} separate processes, {len(d['differences'])} quantities differ in some bit"
              + "".join(f"\n  FAIL {x['example']}:{x['quantity']} differs in run {x['run']}" for x in d["differences"]))
    for gate in (record.get("bench") or {}).get("gates", []):
        print(f"bench gate {gate['name']} [{gate['subject']}]: {gate['status']}")
    written = ["results.json"] + ([] if args.no_report else ["index.html", "comparison.csv", "document_values.csv",
                                                            "claims.csv"])
    print("wrote " + ", ".join(str(out / name) for name in written))
    if record.get("strict"):
        print("strict: every quantity compared bitwise")
    code = record["exit_status"]
    print("PASS: everything holds" if code == EXIT_OK else "FAIL: regression (exit 1); see the lines above")
    return code


def cmd_report(args):
    from . import report

    records = [report.load_results(path) for path in args.results]
    out = _writable_dir(args.out, "--out")
    bench = _bench_section(args.bench)
    with output_set(out, OWNED["report"]) as staging:
        report.write_report(records, staging, bench)
    print(f"wrote {out / 'index.html'}, {out / 'comparison.csv'}, {out / 'document_values.csv'}, {out / 'claims.csv'}")
    return EXIT_OK


def cmd_compare(args):
    from . import drift

    out = _writable_dir(args.out, "--out")
    with output_set(out, OWNED["compare"]) as staging:
        _, counts = drift.write_drift(args.results, staging)
    for label, c in counts.items():
        print(f"{label}: " + ", ".join(f"{n} {k}" for k, n in c.items()))
    print(f"wrote {out / 'drift.html'}, {out / 'drift.csv'}")
    return EXIT_OK if all(c["out of tolerance"] == 0 and c["missing"] == 0 for c in counts.values()) \
        else EXIT_REGRESSION


def cmd_sweep(args):
    from . import sweep
    from .environment import fingerprint

    spec = sweep.spec_of(args.id)
    n_seeds = args.seeds if args.seeds is not None else spec.default_seeds
    if n_seeds < 1:
        raise BadInput(f"--seeds {n_seeds}: give a positive number of seeds")
    if args.seed_start < 0:
        raise BadInput(f"--seed-start {args.seed_start}: seeds are non-negative integers")
    out = _writable_dir(args.out, "--out")
    pins_dir = _pins_dir(args, must_exist=not args.update_pin, for_writing=args.update_pin)
    pin = None if args.update_pin else sweep.load_sweep_pin(pins_dir, args.id)
    target = pins.pin_path(sweep.sweep_pins_dir(pins_dir), args.id)
    if args.update_pin and target.parent.is_dir():   # a read-only pin or folder: bad input before the run
        atomic.resolve_target(target, str(target), "pass --pins DIR")
    elif args.update_pin and pins_dir.is_dir() and not os.access(pins_dir, os.W_OK | os.X_OK):
        raise BadInput(f"{target}: cannot create its folder ({pins_dir} is read-only); make it writable or pass "
                       f"--pins DIR")
    stats, outputs = sweep.timed_sweep(args.id, n_seeds, args.seed_start, progress=not args.no_progress,
                                       backend=args.backend)
    if stats["backend"]["name"] != "numpy" and stats["backend"]["agreement_with_numpy"]:
        a = stats["backend"]["agreement_with_numpy"]
        print(f"  backend {args.backend} {stats['backend']['version']} (not bitwise: its exp is not NumPy's): on "
              f"{a['seeds_checked']} seeds against the faithful NumPy path, {a['bitwise_share']:.1%} bit-identical, "
              f"median {a['median_ulp']:.0f} ULP, 99th percentile {a['p99_ulp']:.0f} ULP, max {a['max_ulp']:.0f} ULP "
              f"({a['max_rel']:.2g} relative, seed {a['worst_seed']})")
    n = stats["n_seeds"]
    print(f"{args.id}: {n} seeds x {stats['iterations']} iterations in {stats['seconds']} s"
          + (f" (PARTIAL: interrupted after {n} of {n_seeds} seeds)" if stats["partial"] else ""))
    for t, c in stats["convergence"].items():
        low, high = c["wilson95"]
        print(f"  converged within {t}: {c['converged']}/{n} = {c['rate']:.4f} (Wilson 95% {low:.4f}-{high:.4f}); "
              f"failures: {len(stats['failures'][t])} seeds, first {stats['failures'][t][:10]}")
    failing = stats["failures"].get("0.1") or []
    if failing:
        print(f"  re-run one failing seed alone: python -c \"from {registry.get(args.id).module_name.rsplit('.', 1)[0]} "
              f"import {args.id}; print({args.id}.run(seed={failing[0]})['output'])\"")
    if "document" in stats:
        d = stats["document"]
        print(f"  printed output {d['printed']}: percentiles {[round(p, 1) for p in d['percentiles']]}; "
              f"seeds at least as good as the document's run: {d['share_at_least_as_good']:.4f}")
    if "pinned_seed" in stats:
        p = stats["pinned_seed"]
        print(f"  seed {p['seed']} (the pinned run): max error {p['max_error']:.4g}, percentile "
              f"{p['percentile_of_max_error']:.1f}")
    print(f"  verdict: {stats['verdict']} ({stats['verdict_rule']})")
    env = fingerprint()
    if stats["partial"]:
        status, rows, note = "interrupted", [], "interrupted: statistics are partial; pins not compared or updated"
    elif args.update_pin:
        data = sweep.sweep_pin_data(stats, {"command": f"backprop-repro sweep {args.id} --seeds {n} --update-pin",
                                            **env})
        old = sweep.load_sweep_pin_or_none(pins_dir, args.id)
        lines = pins.diff_pins(old, data)
        if lines:
            try:
                sweep.sweep_pins_dir(pins_dir).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise BadInput(f"{pins.pin_path(sweep.sweep_pins_dir(pins_dir), args.id)}: cannot create its folder "
                               f"({exc.strerror or exc}); make {pins_dir} writable or pass --pins DIR") from None
            pins.write_pin(sweep.sweep_pins_dir(pins_dir), data)   # a read-only pin: WriteFailed naming it
        status, rows = ("fail" if lines else "pass"), []
        note = (f"{pins.pin_path(sweep.sweep_pins_dir(pins_dir), args.id)}: "
                + ("changed (review the diff)\n" + "\n".join(lines) if lines else "unchanged"))
    elif pin is None:
        status, rows = "missing-pin", []
        note = f"no sweep pin at {pins.pin_path(sweep.sweep_pins_dir(pins_dir), args.id)}; create it with --update-pin"
    else:
        rows = sweep.compare_with_pin(stats, outputs, pin)
        status, note = _sweep_status(rows, n, int(pin.quantities["n_seeds"]["value"]), sweep.Z)
    section = {**stats, "status": status, "comparison": rows, "note": note}
    record = runner.assemble(env, sweeps=[section])
    name = f"sweep-{args.id}.json"
    if stats["partial"] and _complete_sweep(out / name):
        name = f"sweep-{args.id}.partial.json"   # a partial sweep never replaces a complete one
    with output_set(out, (name,)) as staging:
        atomic.write_text(staging / name, json.dumps(record, indent=1, allow_nan=False) + "\n")
    print(f"  {note}")
    print(f"wrote {out / name} (render it with `backprop-repro report {out / name}`)")
    return 130 if stats["partial"] else record["exit_status"]


def cmd_drift(args):
    from . import cpu_drift

    if not args.cpu:
        raise BadInput("drift: give --cpu (drift across this machine's SIMD levels and BLAS kernels); across "
                       "environments use `backprop-repro compare RESULTS...`")
    out = _writable_dir(args.out, "--out")
    ids = runner.resolve_ids(args.ids)
    pins_dir = _pins_dir(args)
    info = cpu_drift.numpy_cpu_info()
    progress = _Progress(sum(reason is None for *_, reason in cpu_drift.plan(info)), "drift --cpu", args.quiet)
    try:
        with output_set(out, OWNED["drift"]) as staging:
            code, summary = cpu_drift.run_drift(staging, ids if args.ids else (), pins_dir, progress=progress,
                                                info=info)
    finally:
        progress.close()
    largest, example, quantity = summary["largest"]
    print(f"configurations run: {', '.join(summary['configurations']) or 'none'}")
    for name, reason in summary["skipped"]:
        print(f"skipped {name}: {reason}")
    print(f"{summary['bit_identical']} of {summary['quantities']} quantities bit-identical across the configurations "
          f"run; largest drift {largest} ULP ({example}:{quantity})")
    if summary["failed"]:
        print(f"FAIL: the default check fails under {', '.join(summary['failed'])}")
    else:
        print(f"PASS: the default check holds under every configuration that ran ({len(summary['configurations'])} "
              f"run, {len(summary['skipped'])} skipped)")
    print(f"wrote {out / 'cpu_drift.csv'}, {out / 'cpu_drift.html'}, {out / 'cpu_drift.json'}")
    return code


def _sweep_status(rows, n, n_pin, z):
    """The section status and note of a sweep compared with its pin: ``unavailable`` (exit 0) when no statistic
    could be judged with ``n`` seeds and the exact rows (iterations) hold."""
    seeds = f"{n} seed{'' if n == 1 else 's'}"
    against = f"against the pin ({n_pin} seeds, sampling bound Z={z:g})"
    judged = [r for r in rows if r["status"] != "unavailable"]
    failed = [r for r in judged if r["status"] != "pass"]
    skipped = [r for r in rows if r["status"] == "unavailable"]
    groups = {}
    for r in skipped:
        groups.setdefault(r["quantity"].split("/")[0], []).append(r["seeds_needed"])
    too_few = ", ".join(
        f"{len(need)} {kind}" + (f" (judged from {min(need)}" + (f"-{max(need)}" if max(need) > min(need) else "")
                                 + " seeds on)" if None not in need else " (not with any number of seeds)")
        for kind, need in groups.items())
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


def _complete_sweep(path):
    try:
        return not any(s.get("partial") for s in json.loads(path.read_text(encoding="utf-8")).get("sweeps", []))
    except (OSError, ValueError, AttributeError):
        return False


def _notebook_stat_runs():
    from .notebooks import STAT_RUNS     # a stdlib-only module: the parser stays cheap to build

    return STAT_RUNS


def cmd_notebook(args):
    from . import notebooks

    out = _writable_dir(args.out, "--out")
    progress = _Progress(len(notebooks.find_notebooks(args.paths)), "notebooks", args.quiet)
    try:
        record = notebooks.run_notebooks(args.paths, args.runs, args.timeout, args.cosmetic or (),
                                         args.strict_digits, args.images, progress=progress,
                                         stat_runs=args.stat_runs)
    finally:
        progress.close()
    with output_set(out, OWNED["notebook"]) as staging:
        notebooks.write_outputs(record, staging)
    for nb in record["notebooks"]:
        kinds = ", ".join(f"{n} {k}" for k, n in nb["kinds"].items() if n) or "no differences"
        print(f"{nb['verdict']:<25} {nb['path']}: {nb['numbers_reproduced']} of {nb['numbers_compared']} numbers "
              f"reproduced; {kinds}" + (f"; {nb['crash']}" if nb["crash"] else ""))
        for d in nb["differences"]:
            if d["kind"] in ("numeric", "text", "error") or (d["kind"] == "rounding" and args.strict_digits):
                print(f"  cell {d['cell']} {d['output']}: {d['kind']}: stored {d['stored'][:60]!r}, fresh "
                      f"{d['fresh'][:60]!r}: {d['explanation']}")
    print(f"wrote {out / 'notebooks.json'}, {out / 'notebook_numbers.csv'}, {out / 'notebooks.html'}")
    return record["exit_status"]


def cmd_selftest(args):
    from . import selftest

    out = _writable_dir(args.out, "--out")
    progress = _Progress(len(args.only or selftest.MUTATIONS) + 1, "selftest", args.quiet)
    try:
        rows = selftest.run_selftest(args.only, progress=progress)
    finally:
        progress.close()
    for r in rows:
        state = ("equiv.  " if r["equivalent_here"] and not r["killed_strict"] else
                 "killed  " if r["killed_default"] else "strict  " if r["killed_strict"] else "SURVIVED")
        print(f"{state} {r['id']:<38} {r['why']}" + (f"\n         {r['caught_by'][0][:150]}" if r["caught_by"] else "")
              + (f"\n         default survivor: {r['expected_default_survivor']}" if not r["killed_default"] and
                 r["expected_default_survivor"] else "")
              + (f"\n         equivalent here ({r['equivalent_here']})" if r["equivalent_here"] else ""))
    scored = [r for r in rows if not r["equivalent_here"]]    # equivalent mutants here cannot be killed
    n = max(len(scored), 1)
    default, strict = sum(r["killed_default"] for r in scored), sum(r["killed_strict"] for r in scored)
    equivalent = len(rows) - len(scored)
    print(f"kill rate: default {default}/{len(scored)} = {100 * default / n:.0f}%, strict {strict}/{len(scored)} = "
          f"{100 * strict / n:.0f}%" + (f" ({equivalent} equivalent here, proved bit-identical and not counted)"
                                        if equivalent else ""))
    unexplained = [r["id"] for r in rows if selftest.unexplained(r)]
    record = {"schema_version": 1, "mutations": rows, "kill_rate_default": default / n, "kill_rate_strict": strict / n,
              "equivalent_here": equivalent, "unexplained_survivors": unexplained}
    with output_set(out, OWNED["selftest"]) as staging:
        atomic.write_text(staging / "selftest.json", json.dumps(record, indent=1, allow_nan=False) + "\n")
    print(f"wrote {out / 'selftest.json'}")
    if unexplained:
        print(f"FAIL: survivors without a recorded reason, or 'equivalent' mutants that changed bits: "
              f"{', '.join(unexplained)}")
    return EXIT_OK if not unexplained else EXIT_REGRESSION


def cmd_pins_update(args):
    ids = runner.resolve_ids(args.ids)
    from .environment import fingerprint

    pins_dir = _writable_dir(_pins_dir(args, must_exist=False, for_writing=True), "--pins")
    provenance = {"command": "backprop-repro pins update " + " ".join(args.ids), **fingerprint()}
    changed, failed = [], []
    for example_id in ids:
        example = registry.get(example_id)
        try:
            old = pins.load_pin(pins_dir, example_id)
        except BadInput as exc:
            _say(f"replacing unreadable pin: {exc}")
            old = None
        run = runner.run_example(example)
        if run.error:
            failed.append(example_id)
            print(f"{example_id}: example raised {run.error}; pin left unchanged")
            continue
        new = pins.make_pin(example, run.quantities, provenance)
        lines = pins.diff_pins(old, new)
        if lines:
            pins.write_pin(pins_dir, new)
            changed.append(example_id)
            print(f"{pins.pin_path(pins_dir, example_id)}: changed")
            print("\n".join(lines))
        else:
            print(f"{example_id}: unchanged")
    if changed:
        print(f"{len(changed)} pin file(s) changed: {', '.join(changed)}. Review with `git diff "
              f"{pins_dir}` and commit; exit 1 so that a regeneration is never silent.")
    return EXIT_REGRESSION if changed or failed else EXIT_OK


def cmd_bench(args):
    from . import bench

    out = _writable_dir(args.out, "--out")
    with output_set(out, OWNED["bench"]) as staging:
        json_path = bench.run_benchmarks(staging, args.quick, args.benchmarks, progress=None if args.quiet else _say)
        table = bench.bench_table(json_path)
        scaling = bench.fit_scaling(table)
        gate_list = bench.gates(table, scaling)
        bench.write_outputs(staging, table, scaling, gate_list)
    print("\n".join(bench.summary(table)))
    for row in scaling.itertuples():
        print(f"scaling {row.method:<24} exponent {row.exponent:5.2f}  R^2 {row.r2:.3f}  (P {row.p_min}..{row.p_max})")
    for g in gate_list:
        print(f"gate {g.name} [{g.subject}]: measured {g.measured:.3g}, threshold {g.threshold:g}: "
              f"{'pass' if g.passed else 'FAIL'} {g.note}".rstrip())
    print(f"wrote {out / 'bench.csv'}, {out / 'bench.json'}, {out / 'scaling.csv'}, {out / 'gates.csv'}")
    return EXIT_OK if all(g.passed for g in gate_list) else EXIT_REGRESSION


def _add_pins(parser):
    parser.add_argument("--pins", default=None, metavar="DIR", help=PINS_HELP)
    parser.add_argument("--project", default=None, metavar="DIR", help="a project folder: use DIR/expected_outputs")


def build_parser():
    parser = argparse.ArgumentParser(prog="backprop-repro", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    list_parser = sub.add_parser("list", help="examples, their sources, quantities and tolerance policies")
    _add_pins(list_parser)
    list_parser.set_defaults(func=cmd_list)
    check = sub.add_parser("check", help="run examples, compare with pins, document values and claims")
    check.add_argument("ids", nargs="*", metavar="ID", help="example ids (default: all)")
    check.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    _add_pins(check)
    check.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    check.add_argument("--bench", default=None, metavar="DIR",
                       help="a `bench --out` directory: its gates join the verdict and its tables the report")
    check.add_argument("--no-report", action="store_true", help="write results.json only (no HTML, CSV or figures)")
    check.add_argument("--junit-xml", default=None, metavar="FILE",
                       help="also write JUnit XML: one test case per quantity, printed value and claim")
    check.add_argument("--strict", action="store_true",
                       help="compare every quantity bitwise, whatever its policy (in the environment that made "
                            "the pins; the mutation self-test uses it)")
    check.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                       help="run the examples (and draw the report's figures) in N worker processes (default: the "
                            "number of cores); the results are the same bit for bit")
    check.add_argument("--repeat", type=int, default=1, metavar="N",
                       help="determinism probe: also run every example N times in separate processes and fail if "
                            "any quantity differs in any bit")
    check.set_defaults(func=cmd_check)
    bench_parser = sub.add_parser("bench", help="finite differences vs chain rule: timings, scaling fits, gates")
    bench_parser.add_argument("--quick", action="store_true", help="fewer widths and shorter rounds (<= 60 s)")
    bench_parser.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    bench_parser.add_argument("--benchmarks", default=None, metavar="DIR",
                              help="benchmark suite directory (default: the checkout's or the shipped one)")
    bench_parser.add_argument("--quiet", action="store_true", help="no pytest output")
    bench_parser.set_defaults(func=cmd_bench)
    report_parser = sub.add_parser("report", help="render HTML + CSV from one or more results.json files")
    report_parser.add_argument("results", nargs="+", metavar="RESULTS", help="results.json files")
    report_parser.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    report_parser.add_argument("--bench", default=None, metavar="DIR", help="a `bench --out` directory to include")
    report_parser.set_defaults(func=cmd_report)
    compare_parser = sub.add_parser("compare", help="drift matrix across environments (baseline first)")
    compare_parser.add_argument("results", nargs="+", metavar="RESULTS",
                                help="results.json files, directories holding one, or glob patterns")
    compare_parser.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    compare_parser.set_defaults(func=cmd_compare)
    sweep_parser = sub.add_parser("sweep", help="statistical reproduction over many seeds (examples that declare SWEEP)")
    sweep_parser.add_argument("id", metavar="ID")
    sweep_parser.add_argument("--seeds", type=int, default=None, help="number of seeds (default: the example's SWEEP)")
    sweep_parser.add_argument("--seed-start", type=int, default=0, help="first seed (default 0)")
    sweep_parser.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    _add_pins(sweep_parser)
    sweep_parser.add_argument("--update-pin", action="store_true", help="write the sweep pin; exit 1 if it changed")
    sweep_parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    sweep_parser.add_argument("--backend", default="numpy", choices=("numpy", "numba", "jax"),
                              help="numpy: the faithful path (default); numba or jax: compiled (extras "
                                   "backprop-repro[numba] / [jax]), checked against the faithful path and reported, "
                                   "never bitwise")
    sweep_parser.set_defaults(func=cmd_sweep)
    nb_parser = sub.add_parser("notebook", help="a notebook's stored outputs against fresh runs, number by number")
    nb_parser.add_argument("paths", nargs="+", metavar="PATH", help="notebooks or folders of them")
    nb_parser.add_argument("--runs", type=int, default=2, metavar="N",
                           help="fresh runs per notebook (default 2: a number that changes between them is judged "
                                "statistically)")
    nb_parser.add_argument("--stat-runs", type=int, default=_notebook_stat_runs(), metavar="N",
                           help="fresh runs in all for a notebook whose numbers change between runs or that has a "
                                "repro-random cell (default %(default)s: the statistical rule then flags a stored "
                                "value beyond 17 prediction standard errors; 2 runs could flag only one beyond 10,050)")
    nb_parser.add_argument("--timeout", type=float, default=120, metavar="S", help="seconds per cell (default 120)")
    nb_parser.add_argument("--cosmetic", action="append", metavar="REGEX",
                           help="another pattern whose differences are cosmetic (repeatable)")
    nb_parser.add_argument("--strict-digits", action="store_true",
                           help="a difference of one unit in the last printed digit fails too")
    nb_parser.add_argument("--images", type=float, default=None, metavar="TOL",
                           help="images fail when their RMS difference exceeds TOL or their sizes differ")
    nb_parser.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    nb_parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    nb_parser.set_defaults(func=cmd_notebook)
    drift_parser = sub.add_parser("drift", help="drift across this machine's NumPy SIMD levels and OpenBLAS kernels")
    drift_parser.add_argument("ids", nargs="*", metavar="ID", help="example ids (default: all)")
    drift_parser.add_argument("--cpu", action="store_true", help="run check under every SIMD level and BLAS kernel")
    drift_parser.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    drift_parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    _add_pins(drift_parser)
    drift_parser.set_defaults(func=cmd_drift)
    selftest_parser = sub.add_parser("selftest", help="mutation self-test: every mutation must make check fail")
    selftest_parser.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    selftest_parser.add_argument("--only", nargs="*", metavar="MUTATION", help="run only these mutations")
    selftest_parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    selftest_parser.set_defaults(func=cmd_selftest)
    pins_parser = sub.add_parser("pins", help="manage pins")
    pins_sub = pins_parser.add_subparsers(dest="pins_command", required=True)
    update = pins_sub.add_parser("update", help="regenerate pins, print what changed, exit 1 if anything did")
    update.add_argument("ids", nargs="*", metavar="ID", help="example ids (default: all)")
    _add_pins(update)
    update.set_defaults(func=cmd_pins_update)
    return parser


class _Stdout:
    """stdout (or stderr) that a closed reader, a closed descriptor or a full device cannot turn into another exit
    code: when the stream is missing (closed at start: Python made it None), closed, or its reader went away
    (EPIPE), the rest of the output goes nowhere and the command runs to its end (a pin update never stops
    half-way); after ENOSPC the same, and the command ends with exit 2 naming stdout."""

    _DROPPED = (errno.EPIPE, errno.EBADF, errno.EINVAL)      # EINVAL: some platforms' write to a closed socket
    _FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)

    def __init__(self, stream):
        self.stream = stream
        self.broken = stream is None
        self.full = False

    def _guard(self, action):
        if self.broken or self.full:
            return None
        try:
            return action()
        except BrokenPipeError:
            self.broken = True
        except ValueError:          # the file object was closed
            self.broken = True
            return None
        except OSError as exc:
            if exc.errno not in self._DROPPED + self._FULL:
                raise
            self.full = exc.errno in self._FULL
            self.broken = not self.full
        try:   # later flushes (also at interpreter exit) must find a sink that takes anything
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, self.stream.fileno())
            finally:
                os.close(null)
        except (OSError, ValueError):
            pass
        return None

    def write(self, text):
        self._guard(lambda: self.stream.write(text))
        return len(text)

    def flush(self):
        self._guard(lambda: self.stream.flush())

    def isatty(self):
        return bool(self._guard(lambda: self.stream.isatty()))

    def __getattr__(self, name):
        if self.stream is None:
            raise AttributeError(name)
        return getattr(self.stream, name)


def main(argv=None):
    stdout = sys.stdout if isinstance(sys.stdout, _Stdout) else _Stdout(sys.stdout)
    stderr = sys.stderr if isinstance(sys.stderr, _Stdout) else _Stdout(sys.stderr)
    previous, sys.stdout, sys.stderr = (sys.stdout, sys.stderr), stdout, stderr
    try:
        code = _main(argv)
        stdout.flush()
        stderr.flush()
    except KeyboardInterrupt:   # an interrupt between the handlers of _main (start-up is covered by __main__)
        code = _interrupted()
    except Exception as exc:    # noqa: BLE001 - re-raised unless Ctrl-C caused it
        # Ctrl-C inside a C extension's module init (matplotlib's ft2font, imported lazily when the report is
        # drawn) surfaces as "ImportError: initialization failed" caused by the KeyboardInterrupt
        if not _caused_by_interrupt(exc):
            raise
        code = _interrupted()
    finally:
        sys.stdout, sys.stderr = previous
    if stdout.full:
        print("backprop-repro: error: stdout: no space left on the device it writes to; free space or redirect it "
              f"(the run itself ended with exit {code})", file=stderr, flush=True)
        return EXIT_BAD_INPUT
    if code == 130 and _running_as_program():
        # An interrupt that landed inside a C extension's PyRun_* call (torch's import does this) makes CPython
        # re-raise SIGINT at exit whatever we caught; leave with 130 directly, streams flushed.
        for stream in (stdout, stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(130)
    return code


def _caused_by_interrupt(exc):
    """Whether a KeyboardInterrupt lies in ``exc``'s chain of causes and contexts."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _running_as_program():
    """True under `backprop-repro ...` or `python -m repro ...`, False when main() is called in-process."""
    main_module = sys.modules.get("__main__")
    spec = getattr(main_module, "__spec__", None)
    return (spec is not None and spec.name == "repro.__main__") or Path(sys.argv[0] or "").stem == "backprop-repro"


def _interrupted():
    print("backprop-repro: interrupted; pins and output folders keep their previous complete contents",
          file=sys.stderr)
    return 130


def _main(argv=None):
    try:
        if _running_as_program():
            signal.signal(signal.SIGINT, signal.default_int_handler)   # from here on Ctrl-C is KeyboardInterrupt
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:   # argparse: --help (0) or a usage error (2), already printed
            return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
        _refuse_out_in_pins(args)
        return args.func(args)
    except BadInput as exc:
        print(f"backprop-repro: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunFailed as exc:
        print(f"backprop-repro: failed: {exc}", file=sys.stderr)
        return EXIT_REGRESSION
    except MemoryError:
        print("backprop-repro: error: out of memory; ask for less (e.g. fewer --seeds)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return _interrupted()


if __name__ == "__main__":
    sys.exit(main())
