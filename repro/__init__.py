"""backprop-repro: the harness that runs the reference examples, compares them with their
pins, checks the documents' printed values and claims, and gates CI."""

__all__ = ["registry", "policies", "pins", "runner", "cli"]
__version__ = "0.1.0"
