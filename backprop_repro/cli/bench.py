"""``backprop-repro bench``: finite differences against the chain rule: timings, scaling fits and gates."""

from backprop_repro.cli import common

HELP = "finite differences vs chain rule: timings, scaling fits, gates"


def add_parser(sub):
    p = sub.add_parser("bench", help=HELP, description=(
        "Benchmark finite-difference against chain-rule gradients over the document networks and a width sweep; "
        "write bench.csv, bench.json, scaling.csv and gates.csv; exit 1 when a gate (a ratio, never an absolute "
        "time) fails."))
    p.add_argument("--quick", action="store_true", help="fewer widths and shorter rounds (<= 60 s)")
    common.add_out(p)
    p.add_argument("--benchmarks", default=None, metavar="DIR",
                   help="benchmark suite directory (default: the checkout's or the shipped one)")
    common.add_quiet(p, "no pytest output")
    p.set_defaults(func=run)


def run(args):
    from backprop_repro.render import console
    from backprop_repro.sources import bench
    from backprop_repro.store.outputs import OWNED, output_set

    out = common.writable_dir(args.out, "--out")
    with output_set(out, OWNED["bench"]) as staging:
        json_path = bench.run_benchmarks(staging, args.quick, args.benchmarks,
                                         progress=None if args.quiet else common.say)
        table = bench.bench_table(json_path)
        scaling = bench.fit_scaling(table)
        gate_list = bench.gates(table, scaling)
        bench.write_outputs(staging, table, scaling, gate_list)
    record = bench.verdict(gate_list)
    console.bench_summary(bench.summary(table), scaling, record, out)
    return record
