"""Tolerance policies and the one comparison helper for values.

Policies (reasons and measurements in docs/numerics.md):

- ``exact``: bitwise equality (same dtype and shape, same bits; -0.0 differs from 0.0);
- ``ulp:N``: at most N units in the last place of the pinned dtype;
- ``close:rtol=R,atol=A``: ``|actual - expected| <= atol + rtol * |expected|`` elementwise;
- ``ratio:F``: within a factor F >= 1 either way (``expected / F <= actual <= expected * F``, same sign; two
  zeros pass): for quantities that are themselves noise-dominated error measures, pinned by magnitude;
- ``printed:D``: the two values print the same at D decimals (``f"{x:.{D}f}"`` equal as text; ``-0.00`` is
  ``0.00``); a document's printed text is compared the same way, at its own number of decimals.

NaN never passes. Infinities pass only when both sides hold the same infinity.
"""

import math
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Policy", "parse_policy", "Comparison", "compare", "ulp_distance", "compare_printed", "printed_text",
           "printed_decimals"]

_CLOSE = re.compile(r"^close:rtol=([^,]+),atol=([^,]+)$")
_ULP = re.compile(r"^ulp:(\d+)$")
_RATIO = re.compile(r"^ratio:([^,]+)$")
_SAMPLING = re.compile(r"^sampling:z=([^,]+)$")
_PRINTED = re.compile(r"^printed:(\d+)$")
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class Policy:
    kind: str           # "exact" | "ulp" | "close" | "ratio" | "sampling"
    ulps: int = 0
    rtol: float = 0.0
    atol: float = 0.0
    factor: float = 1.0
    z: float = 0.0      # sampling: the bound in standard errors (seed-sweep statistics; see backprop_repro.sources.sweep)
    digits: int = 0     # printed:D: both print the same at D decimals (see printed_text)

    def __str__(self):
        if self.kind == "ulp":
            return f"ulp:{self.ulps}"
        if self.kind == "close":
            return f"close:rtol={self.rtol:g},atol={self.atol:g}"
        if self.kind == "ratio":
            return f"ratio:{self.factor:g}"
        if self.kind == "sampling":
            return f"sampling:z={self.z:g}"
        if self.kind == "printed":
            return f"printed:{self.digits}"
        return self.kind


def parse_policy(text):
    """Parse a policy string; raises ValueError with the accepted forms when it does not parse."""
    if text == "exact":
        return Policy("exact")
    m = _ULP.match(text)
    if m:
        return Policy("ulp", ulps=int(m.group(1)))
    m = _RATIO.match(text)
    if m and _number(m.group(1), lambda f: f >= 1) is not None:
        return Policy("ratio", factor=_number(m.group(1)))
    m = _PRINTED.match(text)
    if m:
        return Policy("printed", digits=int(m.group(1)))
    m = _SAMPLING.match(text)
    if m and _number(m.group(1), lambda z: z > 0) is not None:
        return Policy("sampling", z=_number(m.group(1)))
    m = _CLOSE.match(text)
    if m and all(_number(g, lambda t: t >= 0) is not None for g in m.groups()):
        return Policy("close", rtol=_number(m.group(1)), atol=_number(m.group(2)))
    raise ValueError(
        f"unknown tolerance policy {text!r}: use 'exact', 'ulp:N', 'close:rtol=R,atol=A' with R, A >= 0 or "
        f"'ratio:F' with F >= 1, 'printed:D' (D decimals), and 'sampling:z=Z' for seed-sweep statistics"
    )


def _number(text, accept=lambda x: True):
    """A finite float that ``accept`` takes, else None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and accept(value) else None


@dataclass
class Comparison:
    passed: bool
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    max_ulp: int | None = None
    n_mismatch: int = 0
    n_total: int = 0
    message: str = ""


_INT_OF = {np.dtype(np.float64): np.int64, np.dtype(np.float32): np.int32, np.dtype(np.float16): np.int16}


def _ordered_ints(a):
    """Map floats to integers whose order and differences count representable floats."""
    ints = a.view(_INT_OF[a.dtype]).astype(np.int64)
    magnitude_mask = np.int64((1 << (8 * a.dtype.itemsize - 1)) - 1)
    return np.where(ints < 0, -(ints & magnitude_mask), ints)


def ulp_distance(actual, expected):
    """Elementwise count of representable floats between two same-dtype arrays (Python ints)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.dtype.kind != "f":
        return [abs(int(x) - int(y)) for x, y in zip(actual.ravel().tolist(), expected.ravel().tolist())]
    oa, oe = _ordered_ints(actual).ravel().tolist(), _ordered_ints(expected).ravel().tolist()
    return [abs(x - y) for x, y in zip(oa, oe)]


def _errors(actual, expected):
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        same = (a == e) | (np.isnan(a) & np.isnan(e))
        abs_err = np.where(same, 0.0, np.abs(a - e))
        rel_err = np.where(same, 0.0, abs_err / np.abs(e))
    return abs_err, rel_err


def _max(x):
    return float(np.max(x)) if x.size else 0.0


def compare(actual, expected, policy, strict=False):
    """Compare a fresh value with its pin under ``policy`` (a :class:`Policy` or string); ``strict``
    compares bitwise whatever the policy (for runs in the environment that made the pins)."""
    if isinstance(policy, str):
        policy = parse_policy(policy)
    if strict:
        policy = Policy("exact")
    if policy.kind == "sampling":
        raise ValueError("a sampling policy compares a statistic with its sample (backprop_repro.sources.sweep.compare_with_pin)")
    if isinstance(expected, str) or isinstance(actual, str):
        ok = isinstance(actual, str) and isinstance(expected, str) and actual == expected
        return Comparison(ok, n_mismatch=0 if ok else 1, n_total=1,
                          message="" if ok else f"text differs: got {actual!r}, pinned {expected!r}")
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        return Comparison(False, n_total=expected.size, n_mismatch=expected.size,
                          message=f"shape {list(actual.shape)} differs from pinned {list(expected.shape)}")
    if actual.dtype != expected.dtype:
        return Comparison(False, n_total=expected.size, n_mismatch=expected.size,
                          message=f"dtype {actual.dtype} differs from pinned {expected.dtype}")
    n = expected.size
    if actual.dtype.kind not in "fiub":
        return Comparison(False, n_total=n, n_mismatch=n, message=f"unsupported dtype {actual.dtype}")
    abs_err, rel_err = _errors(actual, expected)
    ulps = np.array(ulp_distance(actual, expected), dtype=object).reshape(expected.shape)
    nan = np.isnan(actual.astype(np.float64)) | np.isnan(expected.astype(np.float64))
    if policy.kind == "exact":
        bad = (ulps != 0) | nan
        if actual.dtype.kind == "f":
            bad |= np.signbit(actual) != np.signbit(expected)  # -0.0 is not 0.0 bitwise
    elif policy.kind == "ulp":
        bad = (ulps > policy.ulps) | nan
    elif policy.kind == "printed":
        bad = np.array([printed_text(x, policy.digits) != printed_text(y, policy.digits)
                        for x, y in zip(actual.ravel().tolist(), expected.ravel().tolist())],
                       dtype=bool).reshape(expected.shape) | nan
    elif policy.kind == "ratio":
        a, e = actual.astype(np.float64), expected.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            within = (np.sign(a) == np.sign(e)) & np.isfinite(a) & np.isfinite(e) & (
                (np.abs(a) <= np.abs(e) * policy.factor) & (np.abs(a) * policy.factor >= np.abs(e)))
        bad = ~within | nan
    else:
        a, e = actual.astype(np.float64), expected.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            within = np.isfinite(a) & np.isfinite(e) & (np.abs(a - e) <= policy.atol + policy.rtol * np.abs(e))
        within |= a == e  # equal infinities
        bad = ~within | nan
    n_bad = int(np.count_nonzero(bad))
    ok = n_bad == 0
    result = Comparison(ok, _max(abs_err), _max(rel_err), int(max(ulps.ravel().tolist(), default=0)), n_bad, n)
    if not ok:
        # The worst misses, as numpy.testing reports them: among the elements outside the policy.
        miss_abs = np.where(bad, np.nan_to_num(abs_err, nan=np.inf), -1.0) if expected.ndim else None
        flat = int(np.argmax(miss_abs)) if miss_abs is not None else 0
        where = np.unravel_index(flat, expected.shape) if expected.ndim else ()
        bad_ulps = [u for u, b in zip(ulps.ravel().tolist(), np.ravel(bad)) if b]
        worst_abs = float(np.max(np.where(bad, abs_err, 0.0))) if expected.ndim else float(abs_err)
        worst_rel = float(np.max(np.where(bad, rel_err, 0.0))) if expected.ndim else float(rel_err)
        nan_note = " (NaN present)" if nan.any() else ""
        at = f" at index {[int(i) for i in where]}" if expected.ndim else ""
        shown = ""
        if policy.kind == "printed":
            shown = (f" (prints {printed_text(actual[where].item(), policy.digits)} vs "
                     f"{printed_text(expected[where].item(), policy.digits)})")
        result.message = (f"{n_bad} of {n} elements outside {policy}{nan_note}; worst miss: abs {worst_abs:.3g}, rel "
                          f"{worst_rel:.3g}, {max(bad_ulps, default=0)} ULP{at}: got {_plain(actual[where])}, "
                          f"pinned {_plain(expected[where])}{shown}")
    return result


def _plain(x):
    """A number as people read it: repr of a Python float or int, never np.float64(...)."""
    x = np.asarray(x).item()
    return repr(x)


def printed_text(value, digits):
    """``value`` as printed with ``digits`` decimals (``f"{x:.{D}f}"``), the one text both sides of a printed
    comparison are reduced to. A printed zero has no sign (``-0.00`` is ``0.00``: the sign of a value that
    prints as zero is below the printed resolution); integers print exactly, however large."""
    if isinstance(value, (bool, np.bool_)):
        value = int(value)
    if isinstance(value, (int, np.integer)):
        text = str(int(value)) + ("." + "0" * digits if digits else "")
    else:
        text = f"{float(value):.{digits}f}"
    if text.startswith("-") and not text.strip("-0."):
        text = text[1:]
    return text


def printed_decimals(text):
    """The decimals a document's printed number shows: ``"0.7854"`` 4, ``"45"`` 0, ``"1.5e-05"`` 6
    (never below 0)."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return max(decimals - int(exponent or 0), 0)


def compare_printed(actual, printed):
    """Does ``actual`` print as the document's ``printed`` text? Text compares exactly; a number is printed at
    the text's decimals and compared with the text printed the same way (:func:`printed_text`: the same
    rule as the ``printed:D`` policy, no other slack)."""
    if isinstance(actual, str):
        return Comparison(actual == printed, n_total=1, n_mismatch=int(actual != printed),
                          message="" if actual == printed else f"text differs: got {actual!r}")
    value = float(actual)
    try:
        # an integer's text compares exactly, however many digits (a float would round it)
        target = int(printed) if _INTEGER.match(printed) else float(printed)
        decimals = printed_decimals(printed)
    except ValueError:
        return Comparison(False, n_total=1, n_mismatch=1,
                          message=f"{value!r} is a number but the document prints {printed!r}")
    fresh, document = printed_text(actual, decimals), printed_text(target, decimals)
    err = abs(value - target)
    ok = math.isfinite(value) and fresh == document
    return Comparison(ok, max_abs_error=err if math.isfinite(err) else None, n_total=1, n_mismatch=int(not ok),
                      message="" if ok else f"{value!r} prints as {fresh} at {decimals} decimals, the document "
                                            f"prints {printed} (off by {err:.3g})")
