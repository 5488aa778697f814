"""Faithful re-implementations of the backprop examples of the source documents.

Every example lives in :mod:`reference_impl.examples` as one module named after its
example id and exposes ``run() -> dict[str, value]``: a pure function from the
document's parameters to named quantities (NumPy arrays, or strings for error
messages). The shared primitives (activations, losses, the chapter's finite
differences, chain-rule backprop) live in their own modules here.

Nothing in this package reads or writes files, prints or plots.
"""

__all__ = ["activations", "losses", "finite_differences", "backprop", "networks"]
