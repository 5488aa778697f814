"""What the command modules share: the option spellings, the folders they check before a run, and progress."""

import os
import sys
from pathlib import Path

from backprop_repro.core.errors import BadInput
from backprop_repro.store.atomic import stop_if_interrupted
from backprop_repro.store.locations import checkout_root, default_pins_dir

__all__ = ["DEFAULT_OUT", "say", "add_out", "add_quiet", "add_pins", "writable_dir", "pins_dir", "refuse_out_in_pins", "keep_pins_read_only",
           "bench_section", "Progress"]

DEFAULT_OUT = "reports/latest"
PINS_HELP = ("pin directory (default: the checkout's expected_outputs/ when run from one, else the pins shipped in "
             "the package)")


def say(message):
    """One line on stderr (progress and notes that are not the command's result)."""
    print(message, file=sys.stderr, flush=True)


def add_out(parser):
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")


def add_quiet(parser, what="no progress lines on stderr"):
    parser.add_argument("--quiet", action="store_true", help=what)


def add_pins(parser):
    parser.add_argument("--pins", default=None, metavar="DIR", help=PINS_HELP)
    parser.add_argument("--project", default=None, metavar="DIR", help="a project folder: use DIR/expected_outputs")


def writable_dir(path, option):
    """Create ``path`` if needed and probe it with a uniquely named temporary file (parallel runs never collide).
    An ``--out`` folder is held by this run from here to its end (a second run on it fails at once, exit 2), and
    a folder the run created is removed again at its end when nothing was published into it
    (:func:`backprop_repro.store.outputs.claim`)."""
    import tempfile

    from backprop_repro.store.outputs import claim

    path = Path(path)
    try:
        claim(path, option, lock=False)
        with tempfile.TemporaryFile(dir=path, prefix=".write-probe-"):
            pass
    except OSError as exc:
        raise BadInput(f"{option} {path}: not a writable directory ({exc.strerror or exc}); "
                       f"pass a directory you can write to") from None
    if option == "--out":
        claim(path, option)
    return path


def refuse_out_in_pins(args):
    """An ``--out`` that is a pin folder (the command's or the default one) or lies inside one is bad input: its
    files would be taken for orphaned pins by every later check."""
    out = getattr(args, "out", None)
    if out is None:
        return
    real = Path(os.path.realpath(out))
    for folder in (pins_dir(args, must_exist=False), default_pins_dir()):
        pins_real = Path(os.path.realpath(folder))
        if real == pins_real or pins_real in real.parents:
            raise BadInput(f"--out {out}: is the pin folder {folder} or inside it, where its files would be taken "
                           f"for orphaned pins; pass another --out (default {DEFAULT_OUT})")


def keep_pins_read_only(args):
    """Every command but the two that update pins (``pins update``, ``sweep --update-pin``) only reads them: no
    output of it (``--junit-xml``, the step summary, a linked output file, a history database) lands there."""
    from backprop_repro.store import atomic

    writes_pins = args.command == "pins" or getattr(args, "update_pin", False)
    atomic.set_read_only_folders([] if writes_pins else [pins_dir(args, must_exist=False), default_pins_dir()])


def pins_dir(args, must_exist=True, for_writing=False):
    """--pins DIR, else --project DIR/expected_outputs, else the default pins; a missing one is bad input, and so
    are both options at once (one would be ignored)."""
    if getattr(args, "pins", None) and getattr(args, "project", None):
        raise BadInput(f"--pins {args.pins} with --project {args.project}: give one (--project DIR means --pins "
                       f"DIR/expected_outputs)")
    if getattr(args, "pins", None):
        path, option = Path(args.pins), f"--pins {args.pins}"
    elif getattr(args, "project", None):
        path, option = Path(args.project) / "expected_outputs", f"--project {args.project}"
    else:
        path, option = default_pins_dir(), "the default pin directory"
        if for_writing and checkout_root() is None:
            raise BadInput(f"{path}: the pins shipped inside the installed package are read-only; pass --pins DIR or "
                           f"--project DIR (or run from a source checkout)")
    if must_exist and not path.is_dir():
        raise BadInput(f"{option}: no such directory {path}; pass the folder that holds the <id>.json pins "
                       f"(or --project DIR for DIR/expected_outputs)")
    return path


def bench_section(bench):
    """The benchmark section of a ``bench --out`` folder (None without ``--bench``)."""
    if bench is None:
        return None
    from backprop_repro.sources import bench as bench_mod

    return bench_mod.load_section(bench)


class Progress:
    """Progress of a run: a tqdm bar on a terminal (stderr), else plain lines, or nothing with --quiet."""

    def __init__(self, total, desc, quiet):
        self.quiet, self.bar = quiet, None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="step", leave=False, file=sys.stderr)

    def __call__(self, message, advance=False):
        stop_if_interrupted()   # a Ctrl-C that a library swallowed ends the run at the next step, not at its end
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(message.strip()[:60])
            if advance:
                self.bar.update(1)
        else:
            say(message)

    def close(self):
        if self.bar is not None:
            self.bar.close()
