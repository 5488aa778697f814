"""Errors that mean bad input or configuration (exit code 2), and the exit codes."""

__all__ = ["BadInput", "UnsupportedValue", "RunFailed", "EXIT_OK", "EXIT_REGRESSION", "EXIT_BAD_INPUT",
           "EXIT_INTERRUPTED"]

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130   # 128 + SIGINT, as shells report a Ctrl-C


class RunFailed(Exception):
    """A run the command depends on failed (a benchmark session, a probe process): exit 1, one line."""


class BadInput(Exception):
    """A one-line message naming the file or argument at fault and the fix."""


class UnsupportedValue(BadInput, TypeError):
    """A value that cannot be pinned (its type or dtype), naming the key and the type."""
