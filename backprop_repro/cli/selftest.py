"""``backprop-repro selftest``: the mutation self-test (every mutation must make `check` fail); with
``--notebooks``, the notebook checker's own (every change to stored outputs caught, every equivalent one passed)."""

from backprop_repro.cli import common

HELP = "mutation self-test: every mutation must make check fail (--notebooks: the notebook checker's)"


def add_parser(sub):
    p = sub.add_parser("selftest", help=HELP, description=(
        "Apply each mutation the examples declare to a copy of the code and check that `check` (default, then "
        "--strict) catches it; write selftest.json with the kill rates; exit 1 when a mutation survives without a "
        "recorded reason. With --notebooks, instead (only that catalogue, a few seconds): run the notebook shipped "
        "for it once, change its stored outputs one way at a time (a float, an integer, an array element, a "
        "DataFrame cell, a display, an output added or removed, an exception, a number beside a timing, an image) "
        "and check that `notebook` catches each with the right kind, and that equivalent changes (legacy NumPy "
        "spacing, line width, CRLF, NumPy 2 scalar reprs, a figure size, a set's order, a timing) pass; write "
        "selftest.json's `notebooks` section (kill rate, false alarms); exit 1 when a change survives or an "
        "equivalence alarms."))
    common.add_out(p)
    p.add_argument("--notebooks", action="store_true",
                   help="run only the notebook checker's catalogue (selftest.json then holds its `notebooks` section)")
    p.add_argument("--only", nargs="*", metavar="NAME",
                   help="run only these mutations (with --notebooks: these notebook changes); at least one name")
    common.add_quiet(p)
    p.set_defaults(func=run)


def run(args):
    import json

    from backprop_repro.render import console
    from backprop_repro.store import atomic
    from backprop_repro.store.outputs import OWNED, output_set

    out = common.writable_dir(args.out, "--out")
    record = _notebooks(args) if args.notebooks else _code(args)
    with output_set(out, OWNED["selftest"]) as staging:
        atomic.write_text(staging / "selftest.json", json.dumps(record.as_dict(), indent=1, allow_nan=False) + "\n")
    (console.notebook_selftest_summary if args.notebooks else console.selftest_summary)(record, out)
    return record


def _code(args):
    from backprop_repro.core.errors import BadInput
    from backprop_repro.sources import selftest

    if args.only is not None and not args.only:
        raise BadInput("--only: no names given; name one or more of: " + ", ".join(m.id for m in selftest.MUTATIONS))
    progress = common.Progress(len(args.only or selftest.MUTATIONS) + 1, "selftest", args.quiet)
    try:
        return selftest.verdict(selftest.run_selftest(args.only, progress=progress))
    finally:
        progress.close()


def _notebooks(args):
    from backprop_repro.notebooks import selftest

    mutations, equivalences = selftest.catalogue(args.only)      # bad input (an unknown or no name) first
    progress = common.Progress(len(mutations) + len(equivalences) + 1, "selftest", args.quiet)
    try:
        return selftest.verdict(*selftest.run_notebook_selftest(args.only, progress=progress))
    finally:
        progress.close()
