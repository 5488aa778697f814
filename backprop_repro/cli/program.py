"""The program: the parser assembled from the command modules, ``main`` with its one error path and one interrupt
path, and the guard that keeps a closed or full stdout from changing the exit code.

Every command returns a :class:`backprop_repro.core.record.VerdictRecord`; its exit code comes from
:func:`backprop_repro.core.record.exit_code` (0 everything holds, 1 a regression). Bad input (2) comes from the one
error path in :func:`_main`, an interrupt (130) from :func:`_interrupted`.
"""

import os
import sys

from backprop_repro.cli.startup import install as _install_start_up_handler

if os.path.basename(sys.argv[0] or "").split(".")[0] == "backprop-repro":   # the console script (__main__.py
    _install_start_up_handler()                                           # installs it for `python -m backprop_repro`)

import argparse  # noqa: E402
import atexit  # noqa: E402
import errno  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

from backprop_repro import __version__  # noqa: E402
from backprop_repro.cli import bench, check, common, compare, drift, history, notebook, pins, report, selftest, sweep  # noqa: E402
from backprop_repro.cli import list as list_command  # noqa: E402
from backprop_repro.core.errors import (EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_REGRESSION,  # noqa: E402
                                        BadInput, RunFailed)
from backprop_repro.store.outputs import abandon, run_scope, written  # noqa: E402 - the interrupt line needs no import

__all__ = ["main", "build_parser"]

COMMANDS = (list_command, check, pins, bench, sweep, report, compare, drift, selftest, notebook, history)

DESCRIPTION = """\
Reproduce the classic from-scratch NumPy backprop examples: run them, compare
every quantity with its reviewed pin, check the documents' printed values and
claims, and gate CI."""
EPILOG = """\
exit codes:
  0    everything holds
  1    a regression: a quantity, printed value or claim out of tolerance, a
       missing or changed pin, a notebook not reproduced, a failed gate
  2    bad input or environment (unknown id, unreadable pin or results file,
       unwritable output): one line naming the file or argument and the fix
  130  interrupted (pins and output folders keep their previous contents)

`backprop-repro COMMAND --help` describes a command."""


class _OneLineErrors(argparse.ArgumentParser):
    """argparse's parser (and its subcommands' parsers) with a usage error as one line naming the fix, exit 2: bad
    input is one line, never argparse's usage block before it."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")

    def parse_args(self, args=None, namespace=None):
        """argparse's, except that an unknown option names the help of the command it was given to (argparse
        reports it from the top-level parser, whose help lists no command's options)."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = f"{self.prog} {parsed.command}" if getattr(parsed, "command", None) else self.prog
            self.exit(2, f"{command}: unrecognized arguments: {' '.join(extras)} (see `{command} --help`)\n")
        return parsed


def build_parser():
    parser = _OneLineErrors(prog="backprop-repro", description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


class _Stdout:
    """stdout (or stderr) that a closed reader, a closed descriptor or a full device cannot turn into another exit
    code: when the stream is missing (closed at start: Python made it None), closed, or its reader went away
    (EPIPE), the rest of the output goes nowhere and the command runs to its end (a pin update never stops
    half-way); after ENOSPC the same, and the command ends with exit 2 naming stdout."""

    _DROPPED = (errno.EPIPE, errno.EBADF, errno.EINVAL)      # EINVAL: some platforms' write to a closed socket
    _FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)

    def __init__(self, stream):
        self.stream = stream
        self.broken = stream is None
        self.full = False

    def _guard(self, action):
        if self.broken or self.full:
            return None
        try:
            return action()
        except BrokenPipeError:
            self.broken = True
        except ValueError:          # the file object was closed
            self.broken = True
            return None
        except OSError as exc:
            if exc.errno not in self._DROPPED + self._FULL:
                raise
            self.full = exc.errno in self._FULL
            self.broken = not self.full
        self._sink_to_devnull()
        return None

    def _sink_to_devnull(self):
        try:   # later flushes (also at interpreter exit) must find a sink that takes anything
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, self.stream.fileno())
            finally:
                os.close(null)
        except (OSError, ValueError):
            pass

    def write(self, text):
        def write():
            try:
                return self.stream.write(text)
            except UnicodeEncodeError:   # a ValueError, but not a closed file: escape what the encoding cannot spell
                encoding = getattr(self.stream, "encoding", None) or "ascii"
                return self.stream.write(text.encode(encoding, "backslashreplace").decode(encoding))

        self._guard(write)
        return len(text)

    def flush(self):
        self._guard(lambda: self.stream.flush())

    def isatty(self):
        return bool(self._guard(lambda: self.stream.isatty()))

    def __getattr__(self, name):
        if self.stream is None:
            raise AttributeError(name)
        return getattr(self.stream, name)


def main(argv=None):
    stdout = sys.stdout if isinstance(sys.stdout, _Stdout) else _Stdout(sys.stdout)
    stderr = sys.stderr if isinstance(sys.stderr, _Stdout) else _Stdout(sys.stderr)
    previous, sys.stdout, sys.stderr = (sys.stdout, sys.stderr), stdout, stderr
    try:
        code = _main(argv)
        if _running_as_program():   # the run is over: from here a Ctrl-C is one line and 130, never a traceback
            signal.signal(signal.SIGINT, _interrupted_at_exit)
        stdout.flush()
        stderr.flush()
    except KeyboardInterrupt:   # an interrupt between the handlers of _main (start-up is covered by __main__)
        code = _interrupted()
    except Exception as exc:    # noqa: BLE001 - re-raised unless Ctrl-C caused it
        # Ctrl-C inside a C extension's module init (matplotlib's ft2font, imported lazily when the report is
        # drawn) surfaces as "ImportError: initialization failed" caused by the KeyboardInterrupt
        if not (_caused_by_interrupt(exc) or _atomic.INTERRUPTS):
            raise
        code = _interrupted()
    finally:
        sys.stdout, sys.stderr = previous
    if stdout.full:
        print("backprop-repro: error: stdout: no space left on the device it writes to; free space or redirect it "
              f"(the run itself ended with exit {code})", file=stderr, flush=True)
        return EXIT_BAD_INPUT
    if code == EXIT_INTERRUPTED and _running_as_program():
        _exit_interrupted(stdout, stderr)
    return code


#: Seconds an interrupted run has to end on its own (stop its workers, finish a publication) before it is ended
#: anyway. A library may swallow the KeyboardInterrupt (an optional import's ``except ImportError``, which a
#: Ctrl-C inside a C extension's init turns into) and leave the import system locked: seen once as a `check`
#: hung for ever in an import after a Ctrl-C near its end, while a thread warmed up the report.
INTERRUPT_GRACE = 30.0   # above the 10 s a notebook worker gets to stop its kernel
# the Ctrl-Cs this run received (program mode); atomic's own list: after one, nothing is published
from backprop_repro.store import atomic as _atomic  # noqa: E402  (its INTERRUPTS: the run stops and publishes nothing)


def _on_interrupt(signum, frame):
    """Ctrl-C during the run: KeyboardInterrupt, and a watchdog that ends the process (one line, 130) if the run
    has not ended INTERRUPT_GRACE seconds later."""
    _atomic.INTERRUPTS.append(signum)
    if len(_atomic.INTERRUPTS) == 1:
        import _thread   # the low-level start takes none of threading's locks, which the interrupted code may hold

        _thread.start_new_thread(_watchdog, (_interrupt_line,))
    raise KeyboardInterrupt


def _quiet_unraisable_interrupt(unraisable, default=sys.unraisablehook):
    """A Ctrl-C that lands in a weakref callback or a __del__ (importlib's module-lock cleanup, for one) cannot be
    raised: Python prints "Exception ignored ... KeyboardInterrupt" and a traceback. The interrupt is counted
    (the run ends with 130 and its one line), the print dropped."""
    if issubclass(unraisable.exc_type, KeyboardInterrupt):
        return
    default(unraisable)


def _quiet_thread_error_after_interrupt(args, default=threading.excepthook):
    """After a Ctrl-C, a thread's error is not printed: the run ends with 130 and its one line. (On Python 3.11 a
    process pool's manager thread dies with InvalidStateError when the pool it serves is stopped while a future is
    being cancelled, a CPython bug fixed in 3.12.)"""
    if _atomic.INTERRUPTS or issubclass(args.exc_type, KeyboardInterrupt):
        return
    default(args)


def _watchdog(line):
    import time

    time.sleep(INTERRUPT_GRACE)
    try:
        abandon()
        os.write(2, (line() + f" (it did not end within {INTERRUPT_GRACE:.0f} s by itself)\n").encode())
    except Exception:  # noqa: BLE001 - the exit below matters more than the message
        pass
    os._exit(EXIT_INTERRUPTED)


def _ignore_interrupts_while_finalizing():
    """At exit, after the other exit handlers: CPython's teardown puts SIGINT back to its default action (a
    death by SIGINT, no message: 5 in 20 Ctrl-C near the end of `pins update`) unless it is ignored; the
    verdict's exit code stands from here."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _interrupted_at_exit(signum, frame):
    """Ctrl-C once the run is over (its exit code on the way out): the same one line and 130, no traceback."""
    for stream in (sys.stdout, sys.__stdout__):   # what the run printed is not lost to os._exit
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    try:
        print(_interrupt_line(), file=sys.stderr, flush=True)
    except (AttributeError, OSError, ValueError):
        pass
    os._exit(EXIT_INTERRUPTED)


def _exit_interrupted(*streams):
    """An interrupt that landed inside a C extension's PyRun_* call (torch's import does this) makes CPython
    re-raise SIGINT at exit whatever we caught: leave with 130 directly, streams flushed."""
    for stream in streams:
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(EXIT_INTERRUPTED)


def _caused_by_interrupt(exc):
    """Whether a KeyboardInterrupt lies in ``exc``'s chain of causes and contexts."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _running_as_program():
    """True under `backprop-repro ...` or `python -m backprop_repro ...`, False when main() is called in-process."""
    main_module = sys.modules.get("__main__")
    spec = getattr(main_module, "__spec__", None)
    return ((spec is not None and spec.name == "backprop_repro.__main__")
            or Path(sys.argv[0] or "").stem == "backprop-repro")


def _interrupted():
    """The one interrupt path: one line, exit 130."""
    print(_interrupt_line(), file=sys.stderr)
    return EXIT_INTERRUPTED


def _interrupt_line():
    """What an interrupt left: every file is whole; the ones this run had already published are named."""
    done = written()
    if not done:
        return "backprop-repro: interrupted; pins and output folders keep their previous complete contents"
    shown = "; ".join(done[:3]) + (f" and {len(done) - 3} more" if len(done) > 3 else "")
    return (f"backprop-repro: interrupted after this run had published {shown} (complete, new); everything else "
            f"keeps its previous complete contents")


#: Path options: an empty value would silently mean the working folder or "not asked for".
_PATH_OPTIONS = ("out", "junit_xml", "pins", "project", "bench", "benchmarks", "db", "repo")


def _refuse_empty_paths(args):
    for dest in _PATH_OPTIONS:
        if getattr(args, dest, None) == "":
            option = "--" + dest.replace("_", "-")
            raise BadInput(f"{option}: an empty path; give a file or folder name, or leave {option} out")


def _main(argv=None):
    """Parse, run the command and map its record to the exit code; the one error path (exit 2, or 1 for a run the
    command depends on that failed) and the interrupt path."""
    from backprop_repro.core.record import exit_code

    with run_scope():   # folders held from when they are checked to the end; empty ones this run made removed
        return _run_command(argv, exit_code)


def _run_command(argv, exit_code):
    try:
        if _running_as_program():
            signal.signal(signal.SIGINT, _on_interrupt)   # from here on Ctrl-C is KeyboardInterrupt
            sys.unraisablehook = _quiet_unraisable_interrupt
            threading.excepthook = _quiet_thread_error_after_interrupt
            atexit.register(_ignore_interrupts_while_finalizing)   # registered first: the last to run
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:   # argparse: --help (0) or a usage error (2), already printed
            return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
        _refuse_empty_paths(args)
        common.refuse_out_in_pins(args)
        common.keep_pins_read_only(args)
        code = exit_code(args.func(args))
        # a command that caught the interrupt and kept its partial work (sweep), or a library that swallowed it
        if code == EXIT_INTERRUPTED or _atomic.INTERRUPTS:
            print(_interrupt_line(), file=sys.stderr)
            return EXIT_INTERRUPTED
        return code
    except BadInput as exc:
        print(f"backprop-repro: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunFailed as exc:
        print(f"backprop-repro: failed: {exc}", file=sys.stderr)
        return EXIT_REGRESSION
    except MemoryError:
        print("backprop-repro: error: out of memory; ask for less (e.g. fewer --seeds)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return _interrupted()
