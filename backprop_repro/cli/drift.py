"""``backprop-repro drift --cpu``: the default check under every SIMD level and BLAS kernel this CPU runs."""

from backprop_repro.cli import common
from backprop_repro.core.errors import BadInput

HELP = "drift across this machine's NumPy SIMD levels and OpenBLAS kernels"


def add_parser(sub):
    p = sub.add_parser("drift", help=HELP, description=(
        "Run the default check under every NumPy SIMD level and OpenBLAS kernel this CPU can execute (each "
        "skipped one with its reason) and tabulate how far each quantity moves; write cpu_drift.csv, "
        "cpu_drift.html and cpu_drift.json; exit 1 when the check fails under any configuration."))
    p.add_argument("ids", nargs="*", metavar="ID", help="example ids (default: all)")
    p.add_argument("--cpu", action="store_true", help="run check under every SIMD level and BLAS kernel")
    common.add_out(p)
    common.add_quiet(p, "no progress on stderr; the configurations, the skipped ones with their reasons and the "
                        "verdict line stay")
    common.add_pins(p)
    p.set_defaults(func=run)


def run(args):
    from backprop_repro.render import console
    from backprop_repro.sources import cpu_drift, runner
    from backprop_repro.store.outputs import OWNED, output_set

    if not args.cpu:
        raise BadInput("drift: give --cpu (drift across this machine's SIMD levels and BLAS kernels); across "
                       "environments use `backprop-repro compare RESULTS...`")
    out = common.writable_dir(args.out, "--out")
    ids = runner.resolve_ids(args.ids)
    pins_dir = common.pins_dir(args)
    info = cpu_drift.numpy_cpu_info()
    progress = common.Progress(sum(reason is None for *_, reason in cpu_drift.plan(info)), "drift --cpu", args.quiet)
    try:
        with output_set(out, OWNED["drift"]) as staging:
            record = cpu_drift.run_drift(staging, ids if args.ids else (), pins_dir, progress=progress, info=info)
    finally:
        progress.close()
    console.cpu_drift_summary(record, out)
    return record
