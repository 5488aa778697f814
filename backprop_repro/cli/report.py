"""``backprop-repro report``: HTML and CSV from one or more results.json files, or folders holding one (nothing
is re-run)."""

from backprop_repro.cli import common

HELP = "render HTML + CSV from one or more results.json files (or folders holding one)"


def add_parser(sub):
    p = sub.add_parser("report", help=HELP, description=(
        "Render index.html, comparison.csv, document_values.csv and claims.csv from stored results.json files "
        "(one block per file; the tables of the first); nothing is re-run."))
    p.add_argument("results", nargs="+", metavar="RESULTS",
                   help="results.json or sweep-ID.json files, or folders holding one (a folder's results.json first)")
    common.add_out(p)
    common.add_quiet(p, "accepted as by every command; report prints no progress, and the line naming the files "
                        "written stays")
    p.add_argument("--bench", default=None, metavar="DIR", help="a `bench --out` directory to include")
    p.set_defaults(func=run)


def run(args):
    from backprop_repro.core import record
    from backprop_repro.render import console, report
    from backprop_repro.store.outputs import OWNED, output_set

    records = [report.load_results(_results_file(path)) for path in args.results]
    out = common.writable_dir(args.out, "--out")
    bench = common.bench_section(args.bench)
    with output_set(out, OWNED["report"]) as staging:
        report.write_report(records, staging, bench)
    console.wrote([out / "index.html", out / "comparison.csv", out / "document_values.csv", out / "claims.csv"])
    return record.build("report")


def _results_file(path):
    """A RESULTS argument as a file: a folder stands for the record in it, its results.json (what `check --out DIR`
    writes), else its one sweep-ID.json (`sweep --out DIR`; a sweep-ID.partial.json beside it, which an
    interrupted sweep leaves next to a complete one, does not count)."""
    from pathlib import Path

    from backprop_repro.core.errors import BadInput

    path = Path(path)
    if not path.is_dir():
        return path
    if (path / "results.json").is_file():
        return path / "results.json"
    found = sorted(path.glob("sweep-*.json"))
    sweeps = [p for p in found if not p.name.endswith(".partial.json")] or found
    if len(sweeps) == 1:
        return sweeps[0]
    raise BadInput(f"{path}: a folder without results.json" + (f" and with {len(sweeps)} sweep files" if sweeps else "")
                   + "; pass the folder `backprop-repro check --out DIR` wrote, or the record files themselves"
                   + (f" ({', '.join(str(p) for p in sweeps)})" if sweeps else ""))
