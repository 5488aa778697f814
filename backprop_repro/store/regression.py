"""Your own values, pinned: ``check_values`` and the pytest fixture ``repro_regression``.

Like pytest-regressions' ``num_regression`` with this suite's tolerance model: a test names its values
(``dict[str, array | float | int | str]``); they are pinned in a JSON file (the ordinary pin format:
dtype, shape, policy, reason, full-precision value, provenance) and compared on later runs under
a policy per key:

- ``exact``, ``ulp:N``, ``close:rtol=R,atol=A``, ``ratio:F`` (see :mod:`backprop_repro.core.policies`);
- ``printed:D``: both print the same at D decimals (``f"{x:.{D}f}"`` equal as text, ``-0.00`` = ``0.00``).

The default policy is ``exact``. The first run writes the pin and fails (review the new file and
commit it); a later run passes while every key holds; a changed value fails, naming the key, how many
elements missed and the worst miss's absolute, relative and ULP error. ``regen=True`` (pytest
``--repro-regen``) rewrites a pin whose values differ and fails once more, so that a regeneration is
always reviewed; it also replaces a pin that no longer reads (corrupted, hand-edited), failing once the
same way. The pin is the file at ``path`` with ``.json`` appended when the name does not end in it
(``pins/training`` and ``pins/training.json`` are one file). Writes are atomic.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backprop_repro.store import atomic
from backprop_repro.core import values
from backprop_repro.core.errors import BadInput
from backprop_repro.core.policies import compare, parse_policy

__all__ = ["check_values", "ValuesDiffer", "RegressionResult"]


class ValuesDiffer(AssertionError):
    """Raised by :func:`check_values` when a pin was created, regenerated or does not hold."""


@dataclass
class RegressionResult:
    path: Path
    status: str                      # pass | created | regenerated
    lines: list = field(default_factory=list)


def _policy_for(key, policy):
    if policy is None:
        return "exact"
    if isinstance(policy, str):
        return policy
    if isinstance(policy, dict):
        return policy.get(key, policy.get("*", "exact"))
    raise BadInput(f"policy {policy!r}: give a policy string or a dict of key -> policy string")


def _check_policy(text, key):
    try:
        parse_policy(text)
    except ValueError as exc:
        raise BadInput(f"policy for {key!r}: {exc}") from None


def _compare(actual, expected, policy):
    """(passed, message) for one key."""
    result = compare(actual, expected, policy)
    return result.passed, result.message


def _pin_data(name, vals, policy, provenance):
    quantities = {}
    for key, value in vals.items():
        text = _policy_for(key, policy)
        _check_policy(text, key)
        encoded = values.encode(value, key)
        quantities[key] = {"dtype": encoded["dtype"], "shape": encoded["shape"], "policy": text,
                           "reason": "set by the test", "value": encoded["value"]}
    return {"schema_version": 1, "example": name, "kind": "user-values", "provenance": provenance,
            "quantities": quantities}


_REPLACE = ("rewrite it with `pytest --repro-regen` (check_values(..., regen=True)); the test fails once, for "
            "review")


def pin_file(path):
    """The pin file of ``path``: the path itself when it ends in ``.json``, else with ``.json`` appended."""
    path = Path(path)
    return path if path.suffix == ".json" else path.with_name(path.name + ".json")


def check_values(vals, path, policy=None, regen=False, provenance=None):
    """Compare ``vals`` (name -> array, number or text) with the pin at ``path``; see the module docstring.

    Returns a :class:`RegressionResult` when every key holds; raises :class:`ValuesDiffer` when the pin
    was created or regenerated or a key does not hold, and BadInput for a malformed pin or policy."""
    from backprop_repro.store import pins
    from backprop_repro.core.environment import fingerprint

    if not isinstance(vals, dict) or not vals or not all(isinstance(k, str) for k in vals):
        raise BadInput("values: give a non-empty dict of name -> array, number or text")
    path = pin_file(path)
    name = path.stem
    fresh = {}
    for key, value in vals.items():
        values.encode(value, key)   # UnsupportedValue names the key and the type
        fresh[key] = values.normalize(value, key)
        if not isinstance(value, str) and fresh[key].dtype.kind == "f" and not np.isfinite(fresh[key]).all():
            raise BadInput(f"{key!r}: holds NaN or infinity, which no policy accepts; pin a finite finding "
                           f"(e.g. np.isnan(x)) instead")
    new = _pin_data(name, fresh, policy, {"command": "backprop_repro.check_values", **(provenance or fingerprint())})
    try:
        old = pins.load_pin(path.parent, name, fix=_REPLACE)
    except BadInput as exc:
        if not regen:
            raise
        atomic.write_text(path, pins.pin_text(new))
        problem = str(exc).removeprefix(f"{path}: ").removesuffix(f"; {_REPLACE}")
        raise ValuesDiffer(f"{path}: replaced a pin that did not read ({problem}); review the new file and commit "
                           f"it") from None
    if old is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(path, pins.pin_text(new))
        raise ValuesDiffer(f"{path}: pin created with {len(fresh)} value(s) ({', '.join(fresh)}); review the file, "
                           f"commit it and re-run")
    lines = []
    for key in sorted(old.quantities.keys() - fresh.keys()):
        lines.append(f"{key!r}: pinned but not given by the test")
    for key, value in fresh.items():
        if key not in old.quantities:
            lines.append(f"{key!r}: new value, not in the pin")
            continue
        pinned = old.quantities[key]
        text = _policy_for(key, policy) if policy is not None else pinned["policy"]
        ok, message = _compare(value, pinned["value"], text)
        if not ok:
            lines.append(f"{key!r}: {message}")
    if not lines:
        return RegressionResult(path, "pass")
    if regen:
        atomic.write_text(path, pins.pin_text(new))
        raise ValuesDiffer(f"{path}: regenerated; review the diff and commit it:\n  " + "\n  ".join(lines))
    raise ValuesDiffer(f"{path}: {len(lines)} of {len(fresh)} value(s) do not hold; if the change is intended run "
                       f"pytest --repro-regen (outside pytest: check_values(..., regen=True)) and review the diff:\n  " + "\n  ".join(lines))
