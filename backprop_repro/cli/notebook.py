"""``backprop-repro notebook``: notebooks' stored outputs against fresh runs, number by number."""

from backprop_repro.cli import common

HELP = "a notebook's stored outputs against fresh runs, number by number"


def add_parser(sub):
    p = sub.add_parser("notebook", help=HELP, description=(
        "Execute notebooks afresh and compare every stored output with the fresh ones, number by number "
        "(cosmetic differences, last-digit rounding and run-to-run randomness told apart); write notebooks.json, "
        "notebook_numbers.csv and notebooks.html; exit 1 when a notebook is not reproduced."))
    p.add_argument("paths", nargs="+", metavar="PATH", help="notebooks or folders of them")
    p.add_argument("--runs", type=int, default=2, metavar="N",
                   help="fresh runs per notebook (default 2: a number that changes between them is judged "
                        "statistically)")
    p.add_argument("--stat-runs", type=int, default=_stat_runs(), metavar="N",
                   help="fresh runs in all for a notebook whose numbers change between runs or that has a "
                        "repro-random cell (default %(default)s: the statistical rule then flags a stored value "
                        "beyond 17 prediction standard errors; 2 runs could flag only one beyond 10,050)")
    p.add_argument("--timeout", type=float, default=120, metavar="S",
                   help="seconds per cell, any positive finite number such as 2.5 (default 120)")
    p.add_argument("--cosmetic", action="append", metavar="REGEX",
                   help="another pattern whose differences are cosmetic (repeatable)")
    p.add_argument("--strict-digits", action="store_true",
                   help="a difference of one unit in the last printed digit fails too")
    p.add_argument("--images", type=float, default=None, metavar="TOL",
                   help="images fail when their RMS difference exceeds TOL or their sizes differ")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="notebooks checked at the same time, each in a worker process with its own kernel (default: "
                        "the number of cores); the outputs are the same as with --jobs 1")
    p.add_argument("--resume", action="store_true",
                   help="reuse the results journalled in OUT/.notebooks-journal by an interrupted run for every "
                        "notebook whose contents, options, tool version and environment are unchanged")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run each notebook as a task on the Dask cluster at ADDRESS (tcp://host:8786; its machines "
                        "need the notebooks' folder at the same path), or 'local' for a LocalCluster of --jobs "
                        "workers; needs pip install 'backprop-repro[dask]'")
    p.add_argument("--retries", type=int, default=1, metavar="N",
                   help="runs again of a notebook whose worker died (default 1: a notebook that kills 2 workers is "
                        "crashed, cause killed-worker)")
    common.add_out(p)
    common.add_quiet(p, "no progress on stderr")
    p.set_defaults(func=run)


def _stat_runs():
    from backprop_repro.notebooks import STAT_RUNS  # the package's, without its modules: the parser stays cheap

    return STAT_RUNS


def run(args):
    from backprop_repro.notebooks import judge as notebooks
    from backprop_repro.render import console
    from backprop_repro.store.outputs import OWNED, output_set

    from backprop_repro.notebooks.corpus import checker, default_jobs

    out = common.writable_dir(args.out, "--out")
    check_all, state = checker(out, default_jobs() if args.jobs is None else args.jobs, args.resume, args.dask,
                               args.retries)
    progress = common.Progress(len(notebooks.find_notebooks(args.paths)), "notebooks", args.quiet)
    try:
        result = notebooks.run_notebooks(args.paths, args.runs, args.timeout, args.cosmetic or (),
                                         args.strict_digits, args.images, progress=progress,
                                         stat_runs=args.stat_runs, check_all=check_all)
    finally:
        progress.close()
    with output_set(out, OWNED["notebook"]) as staging:
        notebooks.write_outputs(result, staging)
    if state.get("journal") is not None:    # published: the journal of this run is no longer needed
        state["journal"].clear(state["journal"].keys)
    console.notebook_summary(result, args.strict_digits, out, reused=state.get("reused", 0))
    return _record(result, notebooks.VERDICTS_OK)


def _record(result, verdicts_ok):
    """The notebooks' record for the one exit-code function: one observation per notebook (its verdict)."""
    from backprop_repro.core import record

    return record.build("notebook", [
        record.Observation(record.Kind.NOTEBOOK, nb["path"], "pass" if nb["verdict"] in verdicts_ok else "fail",
                           actual=nb["verdict"], note=nb.get("cause_detail") or nb.get("reason") or "")
        for nb in result["notebooks"]])
