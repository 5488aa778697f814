"""``backprop-repro selftest``: the mutation self-test (every mutation must make `check` fail)."""

from backprop_repro.cli import common

HELP = "mutation self-test: every mutation must make check fail"


def add_parser(sub):
    p = sub.add_parser("selftest", help=HELP, description=(
        "Apply each mutation the examples declare to a copy of the code and check that `check` (default, then "
        "--strict) catches it; write selftest.json with the kill rates; exit 1 when a mutation survives without a "
        "recorded reason."))
    common.add_out(p)
    p.add_argument("--only", nargs="*", metavar="MUTATION", help="run only these mutations")
    common.add_quiet(p)
    p.set_defaults(func=run)


def run(args):
    import json

    from backprop_repro.render import console
    from backprop_repro.sources import selftest
    from backprop_repro.store import atomic
    from backprop_repro.store.outputs import OWNED, output_set

    out = common.writable_dir(args.out, "--out")
    progress = common.Progress(len(args.only or selftest.MUTATIONS) + 1, "selftest", args.quiet)
    try:
        record = selftest.verdict(selftest.run_selftest(args.only, progress=progress))
    finally:
        progress.close()
    with output_set(out, OWNED["selftest"]) as staging:
        atomic.write_text(staging / "selftest.json", json.dumps(record.as_dict(), indent=1, allow_nan=False) + "\n")
    console.selftest_summary(record, out)
    return record
