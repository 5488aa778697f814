"""backprop-repro: the harness that runs the reference examples, compares them with their
pins, checks the documents' printed values and claims, and gates CI.

Public API: :func:`check_values` (pin your own values, :mod:`backprop_repro.store.regression`), the example
vocabulary of :mod:`backprop_repro.core.spec`, and the command line (:mod:`backprop_repro.cli`)."""

__all__ = ["check_values", "ValuesDiffer"]
__version__ = "0.2.0"


def __getattr__(name):   # lazy: importing backprop_repro stays cheap
    if name in ("check_values", "ValuesDiffer"):
        from backprop_repro.store import regression

        return getattr(regression, name)
    raise AttributeError(f"module 'backprop_repro' has no attribute {name!r}")
