"""``backprop-repro compare``: a drift matrix of quantities x environments from several results files."""

from backprop_repro.cli import common

HELP = "drift matrix across environments (baseline first)"


def add_parser(sub):
    p = sub.add_parser("compare", help=HELP, description=(
        "Compare results files from several environments with the first (the baseline): each quantity is "
        "identical, within its policy (N ULP), out of tolerance or missing; write drift.csv and drift.html; exit "
        "1 when any quantity is out of tolerance or missing."))
    p.add_argument("results", nargs="+", metavar="RESULTS",
                   help="results.json files, directories holding one, or glob patterns")
    common.add_out(p)
    common.add_quiet(p, "accepted as by every command; compare prints no progress, and its per-environment counts "
                        "and the line naming the files written stay")
    p.set_defaults(func=run)


def run(args):
    from backprop_repro.render import console
    from backprop_repro.render.drift import write_drift
    from backprop_repro.sources import drift
    from backprop_repro.store.outputs import OWNED, output_set

    out = common.writable_dir(args.out, "--out")
    with output_set(out, OWNED["compare"]) as staging:
        record = drift.compare_results(args.results)
        write_drift(record, staging)
    console.compare_summary(record, out)
    return record
