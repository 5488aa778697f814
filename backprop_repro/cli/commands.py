"""The command line's entry points, kept under this name for callers of ``backprop_repro.cli.commands.main``
(the program lives in :mod:`backprop_repro.cli.program`, each command in its own module)."""

from backprop_repro.cli.program import build_parser, main

__all__ = ["main", "build_parser"]
