"""Errors that mean bad input or configuration (exit code 2)."""

__all__ = ["BadInput", "RunFailed", "EXIT_OK", "EXIT_REGRESSION", "EXIT_BAD_INPUT"]

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_BAD_INPUT = 2


class RunFailed(Exception):
    """A run the command depends on failed (a benchmark session, a probe process): exit 1, one line."""


class BadInput(Exception):
    """A one-line message naming the file or argument at fault and the fix."""
