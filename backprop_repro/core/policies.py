"""Tolerance policies and the one comparison helper for values.

Policies (reasons and measurements in docs/numerics.md):

- ``exact``: bitwise equality (same dtype and shape, same bits; -0.0 differs from 0.0);
- ``ulp:N``: at most N units in the last place of the pinned dtype;
- ``close:rtol=R,atol=A``: ``|actual - expected| <= atol + rtol * |expected|`` elementwise;
- ``ratio:F``: within a factor F >= 1 either way (``expected / F <= actual <= expected * F``, same sign; two
  zeros pass): for quantities that are themselves noise-dominated error measures, pinned by magnitude;
- ``printed``: for a document's printed text, the fresh value rounds to the printed digits.

NaN never passes. Infinities pass only when both sides hold the same infinity.
"""

import math
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Policy", "parse_policy", "Comparison", "compare", "ulp_distance", "compare_printed"]

_CLOSE = re.compile(r"^close:rtol=([^,]+),atol=([^,]+)$")
_ULP = re.compile(r"^ulp:(\d+)$")
_RATIO = re.compile(r"^ratio:([^,]+)$")
_SAMPLING = re.compile(r"^sampling:z=([^,]+)$")
_PRINTED = re.compile(r"^printed:(\d+)$")


@dataclass(frozen=True)
class Policy:
    kind: str           # "exact" | "ulp" | "close" | "ratio" | "sampling"
    ulps: int = 0
    rtol: float = 0.0
    atol: float = 0.0
    factor: float = 1.0
    z: float = 0.0      # sampling: the bound in standard errors (seed-sweep statistics; see repro.sweep)
    digits: int = 0     # printed:D: equal when printed to D decimals (within half a unit of the D-th decimal)

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
        raise ValueError("a sampling policy compares a statistic with its sample (repro.sweep.compare_with_pin)")
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
        with np.errstate(invalid="ignore", over="ignore"):
            bad = ~(abs_err <= 0.5 * 10.0 ** -policy.digits) | nan
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
        result.message = (f"{n_bad} of {n} elements outside {policy}{nan_note}; worst miss: abs {worst_abs:.3g}, rel "
                          f"{worst_rel:.3g}, {max(bad_ulps, default=0)} ULP{at}: got {_plain(actual[where])}, "
                          f"pinned {_plain(expected[where])}")
    return result


def _plain(x):
    """A number as people read it: repr of a Python float or int, never np.float64(...)."""
    x = np.asarray(x).item()
    return repr(x)


def compare_printed(actual, printed):
    """Does ``actual`` round to the document's ``printed`` text? Text compares exactly; numbers at
    the printed number of decimals (half a unit of the last printed digit, plus 1e-12 relative slack
    for the decimal's own binary representation)."""
    if isinstance(actual, str):
        return Comparison(actual == printed, n_total=1, n_mismatch=int(actual != printed),
                          message="" if actual == printed else f"text differs: got {actual!r}")
    value = float(actual)
    target = float(printed)
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    bound = 0.5 * 10.0 ** (-decimals) * (1 + 1e-12)
    err = abs(value - target)
    ok = math.isfinite(value) and err <= bound
    return Comparison(ok, max_abs_error=err if math.isfinite(err) else None, n_total=1, n_mismatch=int(not ok),
                      message="" if ok else f"{value!r} does not round to printed {printed} (off by {err:.3g}, "
                                            f"allowed {bound:.3g})")
