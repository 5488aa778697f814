"""Errors that mean bad input or configuration (exit code 2)."""

__all__ = ["BadInput", "EXIT_OK", "EXIT_REGRESSION", "EXIT_BAD_INPUT"]

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_BAD_INPUT = 2


class BadInput(Exception):
    """A one-line message naming the file or argument at fault and the fix."""
