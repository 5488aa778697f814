"""Encoding of quantities as JSON data: dtype, shape and full-precision nested lists.

Floats are written as Python ``float`` repr (17 significant digits at most, round-trips
exactly, also for float32 values). Strings (error messages) are stored as text.
"""

import math

import numpy as np

from backprop_repro.core.errors import UnsupportedValue

__all__ = ["normalize", "encode", "decode", "json_safe", "SUPPORTED_DTYPES"]

SUPPORTED_DTYPES = ("float64", "float32", "int64", "int32", "bool", "str")


def json_safe(value):
    """Nested data with non-finite floats replaced by None (JSON has no NaN or infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _unsupported(key, value, dtype=None):
    where = f"{key!r}: " if key is not None else ""
    kind = type(value).__name__ + (f" of dtype {dtype}" if dtype is not None else "")
    return UnsupportedValue(f"{where}unsupported type {kind}: give text, a number or an array of "
                            f"{', '.join(d for d in SUPPORTED_DTYPES if d != 'str')}")


def normalize(value, key=None):
    """A quantity as the harness handles it: a ``str`` or a NumPy array (0-d for scalars). ``key`` names
    the value in the :class:`UnsupportedValue` raised for what NumPy cannot make an array of."""
    if isinstance(value, str):
        return value
    try:
        return np.asarray(value)
    except (TypeError, ValueError):   # ragged nesting and the like
        raise _unsupported(key, value) from None


def encode(value, key=None):
    """``{"dtype", "shape", "value"}`` for a quantity; raises :class:`UnsupportedValue` (naming ``key`` and
    the type) for a type or dtype outside SUPPORTED_DTYPES."""
    array = normalize(value, key)
    if isinstance(array, str):
        return {"dtype": "str", "shape": [], "value": array}
    if array.dtype.name not in SUPPORTED_DTYPES:
        raise _unsupported(key, value, array.dtype)
    return {"dtype": array.dtype.name, "shape": list(array.shape), "value": array.tolist()}


def _holds_text(value):
    if isinstance(value, str):
        return True
    return isinstance(value, list) and any(_holds_text(v) for v in value)


def decode(record):
    """Inverse of :func:`encode`; raises ValueError (with the reason) when the record is malformed."""
    dtype, shape, value = record["dtype"], record["shape"], record["value"]
    if dtype == "str":
        if not isinstance(value, str):
            raise ValueError("dtype 'str' needs a text value")
        return value
    if dtype not in SUPPORTED_DTYPES:
        raise ValueError(f"unsupported dtype {dtype!r} (one of {', '.join(SUPPORTED_DTYPES)})")
    if _holds_text(value):
        raise ValueError(f"dtype {dtype!r} needs numbers, the value holds text")
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError(f"shape must be a list of non-negative integers, got {shape!r}")
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            array = np.array(value, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"value does not convert to {dtype}: {exc}") from None
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise ValueError("value holds NaN (or null), which no policy accepts")
    if array.dtype.kind == "f" and np.isinf(array).any():
        raise ValueError(f"value holds a number too large for {dtype} (it overflows to infinity)")
    if list(array.shape) != shape:
        raise ValueError(f"value has shape {list(array.shape)} but the record says {shape}")
    return array
