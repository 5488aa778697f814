"""``backprop-repro pins update``: regenerate pins, print what changed, exit 1 if anything did."""

from backprop_repro.cli import common

HELP = "manage pins"
UPDATE_HELP = "regenerate pins, print what changed, exit 1 if anything did"


def add_parser(sub):
    parser = sub.add_parser("pins", help=HELP, description="Manage the pins (the reviewed expected outputs).")
    pins_sub = parser.add_subparsers(dest="pins_command", required=True, metavar="{update}")
    update = pins_sub.add_parser("update", help=UPDATE_HELP, description=(
        "Run the examples and rewrite the pins whose values changed, printing each diff; exit 1 when any pin "
        "changed (so that a regeneration is never silent) or an example raised."))
    update.add_argument("ids", nargs="*", metavar="ID", help="example ids (default: all)")
    common.add_pins(update)
    common.add_quiet(update, "no line for an unchanged pin; changed pins with their diffs, examples that raised and "
                             "the summary stay")
    update.set_defaults(func=run_update)


def run_update(args):
    from backprop_repro.render import console
    from backprop_repro.sources import pin_update, runner

    ids = runner.resolve_ids(args.ids)
    pins_dir = common.writable_dir(common.pins_dir(args, must_exist=False, for_writing=True), "--pins")
    record = pin_update.update_pins(ids, pins_dir, "backprop-repro pins update " + " ".join(args.ids),
                                    warn=common.say, on_pin=_quiet_pin_line if args.quiet else console.pin_line)
    changed = [f"{o.subject}.json" for o in record.observations if o.status == "fail"]
    console.pins_update_summary(record, pins_dir, bool(changed) and git_tracks(pins_dir, changed))
    return record


def git_tracks(folder, names):
    """Whether git tracks every file ``names`` in ``folder``, so that `git -C FOLDER diff` shows what a pin update
    changed (False outside a work tree, for an untracked file, or without git). The caller's GIT_DIR, GIT_WORK_TREE
    and GIT_INDEX_FILE (set in git hooks) are left out: they would answer for another repository."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    try:
        done = subprocess.run(["git", "-C", str(folder), "ls-files", "--error-unmatch", "--", *names],
                              capture_output=True, text=True, timeout=30, env=env)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _quiet_pin_line(observation):
    from backprop_repro.render import console

    if observation.status != "pass":   # changed, or the example raised
        console.pin_line(observation)
