"""``backprop-repro sweep ID``: statistical reproduction over many seeds, judged against the sweep pin."""

import argparse

from backprop_repro.cli import common
from backprop_repro.core.errors import BadInput

HELP = "statistical reproduction over many seeds (examples that declare SWEEP)"


def add_parser(sub):
    p = sub.add_parser("sweep", help=HELP, description=(
        "Train an example over many seeds and compare its statistics (convergence rates, quantiles, where the "
        "document's printed values fall) with its sweep pin under a sampling bound; write sweep-ID.json."))
    p.add_argument("id", metavar="ID", help="an example that declares SWEEP (see `backprop-repro list`)")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (default: the example's SWEEP)")
    p.add_argument("--seed-start", type=int, default=0, help="first seed (default 0)")
    common.add_out(p)
    common.add_pins(p)
    p.add_argument("--update-pin", action="store_true", help="write the sweep pin; exit 1 if it changed")
    common.add_quiet(p, "no progress bar")
    p.add_argument("--no-progress", dest="quiet", action="store_true", help=argparse.SUPPRESS)   # the old spelling
    p.add_argument("--backend", default="numpy", choices=("numpy", "numba", "jax"),
                   help="numpy: the faithful path (default); numba or jax: compiled (extras backprop-repro[numba] / "
                        "[jax]), checked against the faithful path and reported, never bitwise")
    p.set_defaults(func=run)


def run(args):
    import json

    from backprop_repro.core.environment import fingerprint
    from backprop_repro.render import console
    from backprop_repro.sources import sweep
    from backprop_repro.store import atomic
    from backprop_repro.store.outputs import output_set

    n_seeds, out, pins_dir, pin = _checked(args, sweep)
    stats, outputs = sweep.timed_sweep(args.id, n_seeds, args.seed_start, progress=not args.quiet,
                                       backend=args.backend)
    console.sweep_summary(args.id, stats, n_seeds, sweep.rerun_command(args.id, stats))
    record = sweep.judge(args.id, stats, outputs, pin, pins_dir, args.update_pin, fingerprint())
    name = sweep.output_name(out, args.id, stats["partial"])
    # a caught Ctrl-C keeps the finished seeds, marked partial (never over a complete sweep: sweep.output_name)
    with output_set(out, (name,), after_interrupt=stats["partial"]) as staging:
        atomic.write_text(staging / name, json.dumps(record.as_dict(), indent=1, allow_nan=False) + "\n")
    print(f"  {record['sweeps'][0]['note']}")
    print(f"wrote {out / name} (render it with `backprop-repro report {out / name}`)")
    return record


def _checked(args, sweep):
    """The arguments and the pin checked before any seed runs: (seeds, out, pins dir, the pin or None)."""
    sweep.spec_of(args.id)
    n_seeds = args.seeds if args.seeds is not None else sweep.spec_of(args.id).default_seeds
    if n_seeds < 1:
        raise BadInput(f"--seeds {n_seeds}: give a positive number of seeds")
    if args.seed_start < 0:
        raise BadInput(f"--seed-start {args.seed_start}: seeds are non-negative integers")
    out = common.writable_dir(args.out, "--out")
    pins_dir = common.pins_dir(args, must_exist=not args.update_pin, for_writing=args.update_pin)
    pin = None if args.update_pin else sweep.load_sweep_pin(pins_dir, args.id)
    if args.update_pin:
        sweep.check_pin_writable(pins_dir, args.id)
    return n_seeds, out, pins_dir, pin
