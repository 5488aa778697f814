"""``backprop-repro report``: HTML and CSV from one or more results.json files (nothing is re-run)."""

from backprop_repro.cli import common

HELP = "render HTML + CSV from one or more results.json files"


def add_parser(sub):
    p = sub.add_parser("report", help=HELP, description=(
        "Render index.html, comparison.csv, document_values.csv and claims.csv from stored results.json files "
        "(one block per file; the tables of the first); nothing is re-run."))
    p.add_argument("results", nargs="+", metavar="RESULTS", help="results.json files")
    common.add_out(p)
    p.add_argument("--bench", default=None, metavar="DIR", help="a `bench --out` directory to include")
    p.set_defaults(func=run)


def run(args):
    from backprop_repro.core import record
    from backprop_repro.render import console, report
    from backprop_repro.store.outputs import OWNED, output_set

    records = [report.load_results(path) for path in args.results]
    out = common.writable_dir(args.out, "--out")
    bench = common.bench_section(args.bench)
    with output_set(out, OWNED["report"]) as staging:
        report.write_report(records, staging, bench)
    console.wrote([out / "index.html", out / "comparison.csv", out / "document_values.csv", out / "claims.csv"])
    return record.build("report")
