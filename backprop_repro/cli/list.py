"""``backprop-repro list``: examples, their sources, quantities and tolerance policies."""

from backprop_repro.cli import common

HELP = "examples, their sources, quantities and tolerance policies"


def add_parser(sub):
    parser = sub.add_parser("list", help=HELP, description=f"List the {HELP}, with the quantities of each pin.")
    common.add_pins(parser)
    common.add_quiet(parser, "one line per example (its id and summary): no sources, policies or quantities "
                             "(list prints no progress)")
    parser.set_defaults(func=run)


def run(args):
    from backprop_repro.core import record, registry

    pins_dir = common.pins_dir(args)   # a --pins or --project that does not exist is bad input, as in check
    for example_id in registry.example_ids():
        example = registry.get(example_id)
        print(f"{example.id}: {example.summary}  [{example.module_name}]")
        if args.quiet:
            continue
        print(f"    source: {', '.join(example.documents)}, {example.section}")
        print("    policies:")
        for pattern, policy, reason in example.policies:
            print(f"      {pattern:<34} {policy:<28} {reason}")
        _print_quantities(example, pins_dir)
    return record.build("list")


def _print_quantities(example, pins_dir):
    from backprop_repro.core.errors import BadInput
    from backprop_repro.store import pins

    try:
        pin = pins.load_pin(pins_dir, example.id)
    except BadInput as exc:
        print(f"    quantities: unreadable pin ({exc})")
        return
    if pin is None:
        print(f"    quantities: no pin in {pins_dir} (run `backprop-repro pins update {example.id}`)")
        return
    print("    quantities (from the pin):")
    for name, q in pin.quantities.items():
        shape = "x".join(map(str, q["shape"])) or "scalar"
        print(f"      {name:<44} {q['dtype']:<8} {shape:<8} {q['policy']}")
