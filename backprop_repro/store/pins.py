"""Pin files: one JSON file per example under ``expected_outputs/``, generated, never hand-edited.

Layout of ``expected_outputs/<example>.json``::

    {"schema_version": 1, "example": ..., "source": {"documents": [...], "section": ...},
     "provenance": {"command": ..., "python": ..., "numpy": ..., "cpu": ..., "simd": [...], ...},
     "quantities": {name: {"dtype", "shape", "policy", "reason", "value"}}}
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backprop_repro.store import atomic
from backprop_repro.core import registry, values
from backprop_repro.core.errors import BadInput
from backprop_repro.core.policies import parse_policy, ulp_distance

__all__ = ["PIN_SCHEMA_VERSION", "Pin", "pin_path", "load_pin", "make_pin", "pin_text", "diff_pins",
           "orphaned_pins", "write_pin"]

PIN_SCHEMA_VERSION = 1
_FIX = "regenerate it with `backprop-repro pins update {id}` and review the diff"


@dataclass
class Pin:
    example: str
    path: Path
    provenance: dict
    quantities: dict      # name -> {"value": decoded, "dtype", "shape", "policy", "reason"}


def pin_path(pins_dir, example_id):
    return Path(pins_dir) / f"{example_id}.json"


def _bad(path, key, problem, fix):
    return BadInput(f"{path}: {key}: {problem}; {fix}")


def load_pin(pins_dir, example_id, fix=None):
    """The pin of an example, or None when the file does not exist. Malformed pins raise BadInput."""
    path = pin_path(pins_dir, example_id)
    fix = fix or _FIX.format(id=example_id)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"),
                          parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"{c} is not allowed")))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read pin file ({exc}); check its permissions or regenerate it") from None
    except ValueError as exc:
        raise _bad(path, "file", f"not valid JSON ({exc})", fix) from None
    if not isinstance(data, dict):
        raise _bad(path, "file", "top level is not a JSON object", fix)
    for key, kind in (("schema_version", int), ("example", str), ("provenance", dict), ("quantities", dict)):
        if not isinstance(data.get(key), kind):
            raise _bad(path, key, f"missing or not a {kind.__name__}", fix)
    if data["schema_version"] != PIN_SCHEMA_VERSION:
        raise _bad(path, "schema_version", f"is {data['schema_version']}, expected {PIN_SCHEMA_VERSION}", fix)
    if data["example"] != example_id:
        raise _bad(path, "example", f"says {data['example']!r} but the file is for {example_id!r}", fix)
    quantities = {}
    for name, record in data["quantities"].items():
        key = f"quantities.{name}"
        if not isinstance(record, dict):
            raise _bad(path, key, "not a JSON object", fix)
        missing = [k for k in ("dtype", "shape", "policy", "reason", "value") if k not in record]
        if missing:
            raise _bad(path, key, f"missing {', '.join(missing)}", fix)
        try:
            parse_policy(record["policy"] if isinstance(record["policy"], str) else repr(record["policy"]))
        except ValueError as exc:
            raise _bad(path, f"{key}.policy", str(exc), fix) from None
        try:
            decoded = values.decode(record)
        except (ValueError, TypeError) as exc:
            raise _bad(path, f"{key}.value", str(exc), fix) from None
        quantities[name] = {**record, "value": decoded}
    from backprop_repro.store.schemas import validate

    validate(data, "pin", path, fix)   # the published structure, after the specific checks above
    return Pin(example_id, path, data["provenance"], quantities)


def make_pin(example, results, provenance):
    """The pin data of an example from fresh results (name -> value), policies from the registry."""
    quantities = {}
    for name, value in results.items():
        policy, reason = registry.policy_for(example, name)
        record = values.encode(value, f"{example.id}:{name}")
        if record["dtype"] != "str" and np.asarray(value).dtype.kind == "f" and not np.isfinite(value).all():
            raise BadInput(f"{example.id}:{name}: the fresh value holds NaN or infinity, which no policy "
                           f"accepts; fix the example or pin a finite finding (e.g. an isnan mask) instead")
        quantities[name] = {"dtype": record["dtype"], "shape": record["shape"], "policy": policy,
                            "reason": reason, "value": record["value"]}
    return {"schema_version": PIN_SCHEMA_VERSION, "example": example.id,
            "source": {"documents": list(example.documents), "section": example.section},
            "provenance": provenance, "quantities": quantities}


def pin_text(data):
    """Stable, diff-friendly JSON text of pin data."""
    return json.dumps(data, indent=1, allow_nan=False) + "\n"


def diff_pins(old_pin, new_data):
    """Readable lines describing what changed between a loaded pin (or None) and new pin data."""
    lines = []
    new_q = new_data["quantities"]
    if old_pin is None:
        return [f"  + {name}: new pin ({q['dtype']}{q['shape']}, {q['policy']})" for name, q in new_q.items()]
    for name in old_pin.quantities.keys() - new_q.keys():
        lines.append(f"  - {name}: no longer produced, removed")
    for name, new in new_q.items():
        old = old_pin.quantities.get(name)
        if old is None:
            lines.append(f"  + {name}: added ({new['dtype']}{new['shape']}, {new['policy']})")
            continue
        changes = []
        for key in ("dtype", "shape", "policy", "reason"):
            if old[key] != new[key]:
                changes.append(f"{key} {old[key]!r} -> {new[key]!r}")
        old_v, new_v = old["value"], values.decode(new)
        if isinstance(old_v, str) or isinstance(new_v, str):
            if old_v != new_v:
                changes.append(f"text {old_v!r} -> {new_v!r}")
        elif old_v.shape == new_v.shape and old_v.dtype == new_v.dtype:
            if old_v.tobytes() != new_v.tobytes():
                ulps = ulp_distance(new_v, old_v)
                n = sum(1 for u in ulps if u)
                diff = np.abs(new_v.astype(np.float64) - old_v.astype(np.float64))
                i = int(np.argmax(diff)) if diff.size else 0
                changes.append(f"{n} of {old_v.size} values changed, max {max(ulps)} ULP, max abs "
                               f"{float(diff.max()):.3g} (at flat index {i}: {old_v.ravel()[i].item()!r} -> "
                               f"{new_v.ravel()[i].item()!r})")
        if changes:
            lines.append(f"  ~ {name}: " + "; ".join(changes))
    return lines


def orphaned_pins(pins_dir):
    """Pin files that belong to no registered example."""
    directory = Path(pins_dir)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.json") if p.stem not in registry.example_ids())


def write_pin(pins_dir, data):
    """Write a pin atomically (through a symlink, keeping its mode); a read-only pin or folder is bad input naming
    the pin."""
    atomic.write_text(pin_path(pins_dir, data["example"]), pin_text(data),
                      elsewhere="pass --pins DIR for another pin folder")
