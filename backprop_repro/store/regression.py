"""Your own values, pinned: ``check_values`` and the pytest fixture ``repro_regression``.

Like pytest-regressions' ``num_regression`` with this suite's tolerance model: a test names its values
(``dict[str, array | float | int | str]``); they are pinned in a JSON file (the ordinary pin format:
dtype, shape, policy, reason, full-precision value, provenance) and compared on later runs under
a policy per key:

- ``exact``, ``ulp:N``, ``close:rtol=R,atol=A``, ``ratio:F`` (see :mod:`repro.policies`);
- ``printed:D``: equal when both print the same to D decimals (within half a unit of the D-th decimal).

The default policy is ``exact``. The first run writes the pin and fails (review the new file and
commit it); a later run passes while every key holds; a changed value fails, naming the key, how many
elements missed and the worst miss's absolute, relative and ULP error. ``regen=True`` (pytest
``--repro-regen``) rewrites a pin whose values differ and fails once more, so that a regeneration is
always reviewed. Writes are atomic.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import atomic, values
from .errors import BadInput
from .policies import compare, parse_policy

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
        encoded = values.encode(values.normalize(value))
        quantities[key] = {"dtype": encoded["dtype"], "shape": encoded["shape"], "policy": text,
                           "reason": "set by the test", "value": encoded["value"]}
    return {"schema_version": 1, "example": name, "kind": "user-values", "provenance": provenance,
            "quantities": quantities}


def check_values(vals, path, policy=None, regen=False, provenance=None):
    """Compare ``vals`` (name -> array, number or text) with the pin at ``path``; see the module docstring.

    Returns a :class:`RegressionResult` when every key holds; raises :class:`ValuesDiffer` when the pin
    was created or regenerated or a key does not hold, and BadInput for a malformed pin or policy."""
    from . import pins
    from .environment import fingerprint

    if not isinstance(vals, dict) or not vals or not all(isinstance(k, str) for k in vals):
        raise BadInput("values: give a non-empty dict of name -> array, number or text")
    path = Path(path)
    name = path.stem
    for key, value in vals.items():
        if not isinstance(value, str) and np.asarray(value).dtype.kind == "f" and not np.isfinite(value).all():
            raise BadInput(f"{key!r}: holds NaN or infinity, which no policy accepts; pin a finite finding "
                           f"(e.g. np.isnan(x)) instead")
    fresh = {k: values.normalize(v) for k, v in vals.items()}
    new = _pin_data(name, fresh, policy, {"command": "repro.check_values", **(provenance or fingerprint())})
    old = pins.load_pin(path.parent, name, fix=f"delete it and re-run to pin afresh, or run pytest --repro-regen")
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
                       f"pytest --repro-regen and review the diff:\n  " + "\n  ".join(lines))
