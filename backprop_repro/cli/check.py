"""``backprop-repro check``: run the examples, compare them with their pins, the documents' printed values and
claims; write results.json and the report; JUnit XML and the GitHub step summary on request."""

import json
import os
from pathlib import Path

from backprop_repro.cli import common
from backprop_repro.core.errors import BadInput

HELP = "run examples, compare with pins, document values and claims"
_SUMMARY_FIX = "point GITHUB_STEP_SUMMARY at a writable file or unset it"
_REPORT_FILES = ["index.html", "comparison.csv", "document_values.csv", "claims.csv"]


def add_parser(sub):
    p = sub.add_parser("check", help=HELP, description=(
        "Run the examples, compare every quantity with its pin under its tolerance policy, check the documents' "
        "printed values and claims, and write results.json, comparison.csv and the HTML report to --out."))
    p.add_argument("ids", nargs="*", metavar="ID", help="example ids (default: all)")
    common.add_out(p)
    common.add_pins(p)
    common.add_quiet(p, "no progress on stderr; the notes, the table, the failures and the verdict line stay")
    p.add_argument("--bench", default=None, metavar="DIR",
                   help="a `bench --out` directory: its gates join the verdict and its tables the report")
    p.add_argument("--no-report", action="store_true", help="write results.json only (no HTML, CSV or figures)")
    p.add_argument("--junit-xml", default=None, metavar="FILE",
                   help="also write JUnit XML: one test case per quantity, printed value and claim")
    p.add_argument("--strict", action="store_true",
                   help="compare every quantity bitwise, whatever its policy (in the environment that made the pins; "
                        "the mutation self-test uses it)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="run the examples (and draw the report's figures) in N worker processes (default: the number "
                        "of cores); the results are the same bit for bit")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="determinism probe: also run every example N times in separate processes and fail if any "
                        "quantity differs in any bit")
    p.set_defaults(func=run)


def run(args):
    from backprop_repro.render import console

    out, pins_dir, junit, summary = _checked_targets(args)
    record = _judge(args, out, pins_dir)
    _write_ci_outputs(record, junit, summary)
    console.check_summary(record)
    written = ["results.json"] + ([] if args.no_report else _REPORT_FILES)
    console.check_tail(record, [out / name for name in written])
    return record


def _checked_targets(args):
    """Every argument and destination checked before anything runs: (out, pins dir, junit file, step summary)."""
    if args.jobs < 1:
        raise BadInput(f"--jobs {args.jobs}: give 1 (one example after another) or more worker processes")
    out = common.writable_dir(args.out, "--out")
    pins_dir = common.pins_dir(args)
    if args.repeat < 1:
        raise BadInput(f"--repeat {args.repeat}: give 1 (no probe) or more runs")
    junit = _junit_target(args.junit_xml, out) if args.junit_xml else None
    return out, pins_dir, junit, _step_summary_target(out)


def _judge(args, out, pins_dir):
    """Run and judge the examples (in a pool with --jobs > 1) and publish the output set; the record."""
    from backprop_repro.core.pool import example_pool, stop_pool
    from backprop_repro.sources import runner
    from backprop_repro.store.outputs import OWNED, output_set

    ids = runner.resolve_ids(args.ids)
    progress = common.Progress(len(ids), "check", args.quiet)
    pool = example_pool(min(args.jobs, len(ids)))
    try:
        ahead = warm_up = None
        if pool is not None and not args.no_report:
            from backprop_repro.render.figures_ahead import FiguresAhead

            # in this thread, while the workers start: an import in a second thread can hang on an import lock that
            # a Ctrl-C left held (a KeyboardInterrupt raised in importlib's module-lock cleanup)
            ahead, warm_up = FiguresAhead(pool), _warm_up_the_report
        record = runner.check(ids, pins_dir, progress=progress, strict=args.strict, repeat=args.repeat,
                              bench=common.bench_section(args.bench), pool=pool, on_example=ahead and ahead.submit,
                              while_waiting=warm_up)
        with output_set(out, OWNED["check"]) as staging:
            write_outputs(record, staging, render=not args.no_report, rendered=ahead and ahead.drawn())
    except BaseException:
        if pool is not None:   # an interrupt or an error: no worker outlives the run
            stop_pool(pool)
        raise
    finally:
        progress.close()
    if pool is not None:
        from backprop_repro.core.pool import stop_servers

        pool.shutdown()
        stop_servers()
    return record


def _warm_up_the_report():
    from backprop_repro.render import report

    report.warm_up()


def write_outputs(record, out, render=True, rendered=None):
    """results.json, then (``render``) the report (index.html and the CSV tables) read from it; all atomic.
    ``rendered``: the record's figures drawn ahead (:class:`backprop_repro.render.figures_ahead.FiguresAhead`)."""
    from backprop_repro.store import atomic

    atomic.write_text(out / "results.json", json.dumps(record.as_dict(), indent=1, allow_nan=False) + "\n")
    if render:
        from backprop_repro.render import report

        report.write_report([record], out, rendered=rendered)


def _write_ci_outputs(record, junit, summary):
    """JUnit XML, the step summary (appended: other steps' summaries stay in front) and GitHub annotations."""
    from backprop_repro.render import ci_output
    from backprop_repro.store import atomic

    if junit is not None:
        atomic.write_text(junit, ci_output.junit_xml(record), f"--junit-xml {junit}",
                          elsewhere="pass another --junit-xml")
    if summary is not None:
        atomic.write_text(summary, ci_output.step_summary(record), f"GITHUB_STEP_SUMMARY {summary}", append=True,
                          elsewhere=_SUMMARY_FIX)
    if os.environ.get("GITHUB_ACTIONS"):
        for line in ci_output.annotations(record):
            print(line)


def _junit_target(path, out=None):
    """``--junit-xml`` checked before the run: a regular file (or a new one) in an existing folder, written through
    its symlinks, and neither one of the output folder's files nor the step summary."""
    from backprop_repro.store import atomic
    from backprop_repro.store.outputs import OWNED, destinations

    target = Path(path)
    atomic.resolve_target(target, f"--junit-xml {path}", "pass another --junit-xml")
    others = [] if out is None else [(f"{label} (--out)", p) for label, p in destinations(out, OWNED["check"])]
    atomic.distinct(others + [("GITHUB_STEP_SUMMARY", os.environ.get("GITHUB_STEP_SUMMARY") or None),
                              (f"--junit-xml {path}", target)])
    return target


def _step_summary_target(out):
    """``$GITHUB_STEP_SUMMARY`` checked before the run like ``--junit-xml`` (other steps append to it too)."""
    from backprop_repro.store import atomic
    from backprop_repro.store.outputs import OWNED, destinations

    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return None
    atomic.resolve_target(path, f"GITHUB_STEP_SUMMARY {path}", _SUMMARY_FIX)
    atomic.distinct([(f"{label} (--out)", p) for label, p in destinations(out, OWNED["check"])]
                    + [(f"GITHUB_STEP_SUMMARY {path}", path)])
    return Path(path)
