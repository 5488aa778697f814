"""Numbers in notebook outputs: the tokeniser, the cosmetic rules, one number against another, and the
statistical rule for numbers that change between fresh runs."""

import functools
import math
import re
import statistics
from dataclasses import dataclass
from decimal import Decimal

#: The statistical rule's false-flag rate: the two-sided tail of a normal beyond 4 standard deviations (6.3e-5),
#: the same bound the seed sweeps use ('sampling:z=4').
ALPHA = 6.334248366623996e-05

#: (name, pattern, reason): text that differs between runs or versions without saying anything about the
#: computation. Matches are replaced by a placeholder on both sides before comparing.
COSMETIC = [
    ("figure-repr", r"<(Figure|Axes|matplotlib\.[\w.]+)[^>]*>",
     "matplotlib's object reprs carry sizes and addresses that follow rcParams defaults (432x288 became 640x480)"),
    ("object-address", r"<([\w.]+ )?(object|function|built-in function|bound method)[^>]* at 0x[0-9a-fA-F]+>",
     "memory addresses differ in every process"),
    ("hex-address", r"\b0x[0-9a-fA-F]{6,}\b", "memory addresses differ in every process"),
    ("timing", r"(?im)^.*\b(wall time|cpu times|elapsed|took|seconds|per loop|it/s|s/it)\b.*$",
     "timings differ on every run"),
    ("progress-bar", r"(?m)^.*(\d+%\|[^\n]*\||\[[=>.\- ]{5,}\]).*$", "progress bars are redrawn differently"),
    ("warning-path", r"(?m)^\S*[/\\][^\n:]*\.py:\d+: ", "warnings name the file and line of an installed package"),
    ("numpy-scalar-repr", r"np\.(float|int|uint|complex|bool|str)_?\d*\(([^()]*)\)",
     "NumPy 2 prints scalars as np.float64(0.5) where 1.x printed 0.5 (NEP 51)"),
]
_NUMPY_SCALAR = re.compile(COSMETIC[-1][1])

_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf)(?![\w.])", re.IGNORECASE)


@dataclass
class Number:
    text: str
    value: float
    unit: float        # one unit in the last printed digit


def parse_number(text):
    lower = text.lower().lstrip("+-")
    if lower in ("nan", "inf"):
        return Number(text, float(text), 0.0)
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exp = int(exponent) if exponent else 0
    return Number(text, float(text), 10.0 ** (exp - decimals))


def _unwrap_numpy_scalars(text):
    return _NUMPY_SCALAR.sub(lambda m: m.group(2), text)


def normalise(text, cosmetic):
    """(text with cosmetic matches replaced by placeholders, {pattern name: the matched strings})."""
    matched = {}
    unwrapped = _unwrap_numpy_scalars(text)
    if unwrapped != text:
        matched["numpy-scalar-repr"] = [m.group(0) for m in _NUMPY_SCALAR.finditer(text)]
        text = unwrapped
    for name, pattern, _ in cosmetic:
        if name == "numpy-scalar-repr":
            continue
        found = [m.group(0) for m in re.finditer(pattern, text)]
        if found:
            matched[name] = found
            text = re.sub(pattern, f"<{name}>", text)
    return text, matched


def tokens(text):
    """(skeleton with numbers replaced by '#', [Number]) of a text."""
    numbers = [parse_number(m.group(0)) for m in _NUMBER.finditer(text)]
    return _NUMBER.sub("#", text), numbers


def compare_number(stored, fresh, rtol=0.0):
    """'reproduced', 'rounding' or 'numeric' for a stored number against a fresh one."""
    if stored.text == fresh.text:
        return "reproduced"
    if math.isnan(stored.value) or math.isnan(fresh.value):
        return "reproduced" if math.isnan(stored.value) and math.isnan(fresh.value) else "numeric"
    if math.isinf(stored.value) or math.isinf(fresh.value):
        return "reproduced" if stored.value == fresh.value else "numeric"
    if rtol and abs(fresh.value - stored.value) <= rtol * abs(stored.value):
        return "reproduced"
    # in decimal, as printed: a binary difference cannot resolve the 17th digit of a printed float
    difference = abs(Decimal(fresh.text) - Decimal(stored.text))
    unit = Decimal(stored.text).as_tuple()
    unit = Decimal((0, (1,), unit.exponent))
    if difference * 2 <= unit:                    # the fresh value rounds to the stored digits
        return "reproduced"
    if difference * 2 <= 3 * unit:                # one unit in the last printed digit
        return "rounding"
    return "numeric"


@functools.lru_cache(maxsize=None)
def _t_bound(n):
    """Student's t quantile for n runs (n - 1 degrees of freedom) at the two-sided ALPHA."""
    from scipy.special import stdtrit   # imported here, only for varying numbers (0.3 s; scipy.stats takes 0.7)

    return float(stdtrit(n - 1, 1.0 - ALPHA / 2.0))


def typical(stored, fresh_values, unit=0.0):
    """The statistical rule for a nondeterministic number: (typical, |t|, bound).

    If the notebook is reproducible, its stored value is one more draw from the process that made the n
    fresh runs, so t = (stored - mean) / (s * sqrt(1 + 1/n)) follows Student's t with n - 1 degrees of
    freedom (a prediction interval; s is the runs' sample standard deviation, floored at the rounding
    noise of the printed digits, unit / sqrt(12)). The stored value is typical when |t| is within the
    two-sided ALPHA quantile: a reproducible notebook is flagged with probability ALPHA (measured: 4e-5 in
    400 000 simulated checks, 2 to 10 runs, with and without coarse printing). Few runs give a wide bound
    (n = 2: 10 050, n = 3: 126, n = 10: 7.0), so only a stored value far outside every run is flagged;
    more runs (--stat-runs, --runs) sharpen it. The earlier rule (the runs' range widened by 4 population standard
    deviations) flagged 7 % of reproducible 3-run checks and 20 % of 2-run ones.
    """
    n = len(fresh_values)
    if n < 2:
        raise ValueError("the statistical rule needs at least 2 fresh runs")
    mean = statistics.fmean(fresh_values)
    spread = math.sqrt(statistics.variance(fresh_values) + unit * unit / 12.0)
    bound = _t_bound(n)
    if spread == 0.0:
        return stored == mean, (0.0 if stored == mean else math.inf), bound
    t = abs(stored - mean) / (spread * math.sqrt(1.0 + 1.0 / n))
    return t <= bound, t, bound
