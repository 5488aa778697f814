"""Where the shipped data lives: a source checkout's top-level folders, or their copies in the package.

The repository keeps ``expected_outputs/`` and ``benchmarks/`` at its top level; the wheel carries
them as ``backprop_repro/expected_outputs`` and ``backprop_repro/benchmarks`` (pyproject.toml maps them). Run from a
checkout (or an editable install) the top-level folders are used, so that ``pins update`` writes
where the diff is reviewed; run from an installed package the shipped copies are used, read-only.
"""

from pathlib import Path

__all__ = ["resource_dir", "checkout_root", "default_pins_dir"]

_PACKAGE = Path(__file__).resolve().parents[1]   # backprop_repro/


def checkout_root():
    """The source checkout this package is imported from, or None for an installed package."""
    root = _PACKAGE.parent
    return root if (root / "pyproject.toml").is_file() and (root / "expected_outputs").is_dir() else None


def resource_dir(name):
    root = checkout_root()
    return root / name if root is not None else _PACKAGE / name


def default_pins_dir():
    return resource_dir("expected_outputs")
