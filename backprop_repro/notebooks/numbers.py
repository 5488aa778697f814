"""Numbers in notebook outputs: the tokeniser, the cosmetic rules, one number against another, and the
statistical rule for numbers that change between fresh runs.

A text is read as a sequence of tokens (numbers, words, single punctuation marks) with whitespace dropped,
so that spacing, padding, wrapping and line ends are layout. Cosmetic rules mask character spans (a duration
with its unit, a tqdm rate, the address in an object's repr), never whole lines: the tokens inside a masked
span are left out of the comparison and counted as such; every other number on the line is compared.
"""

import functools
import math
import re
import statistics
import struct
from dataclasses import dataclass, field
from decimal import Decimal

#: The statistical rule's false-flag rate: the two-sided tail of a normal beyond 4 standard deviations (6.3e-5),
#: the same bound the seed sweeps use ('sampling:z=4').
ALPHA = 6.334248366623996e-05

_NUM = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
_UNIT_NAME = r"(?:ns|µs|μs|us|ms|s|sec|secs|seconds?|mins?|minutes?|hrs?|hours?)"
_UNIT = _UNIT_NAME + r"(?![\w/])"
_CLOCK = r"\d+:\d{2}(?::\d{2})?(?:\.\d+)?"

#: (name, pattern, reason): text that differs between runs or versions without saying anything about the
#: computation. A pattern's groups named ``mask...`` are the masked spans (else the whole match); the
#: tokens inside are not compared (counted as left out), and a masked span that differs is listed as
#: ``cosmetic``. Every rule has a test in which a real change beside its match is still caught.
COSMETIC = [
    ("figure-repr", r"<Figure size (?P<mask>[\d.]+x[\d.]+) with"
                    r"|(?P<nums><(?:\w*Axes\w*|matplotlib\.[\w.]+)\b[^<>\n]*>)",
     "matplotlib's object reprs carry sizes and addresses that follow rcParams defaults (432x288 became 640x480), "
     "and an Axes' type name changed (AxesSubplot became Axes); the numbers in its title and labels are compared"),
    ("matplotlib-text-repr", r"\bText\((?P<mask>[-+\d.e]+,\s*[-+\d.e]+),",
     "a Text artist's repr prints its position, whose format changed across matplotlib versions"),
    # only inside a Python object's repr (<... object at 0x...>, <function f at 0x...>): a checksum is compared
    ("object-address", r"<(?:[^<>\n]|<[\w.]+>)*?\bat (?P<mask>0x[0-9a-fA-F]{4,16})"
                       r"(?:(?=>)|:(?:[^<>\n]|<[\w.]+>)*?\bat (?P<mask2>0x[0-9a-fA-F]{4,16})(?=>)|(?=:))",
     "memory addresses differ in every process"),
    # a number with a time unit; after a timing word only a clock (h:mm:ss) or hours, or after a word that can only
    # mean a duration (took, elapsed, wall time) a bare decimal that ends its clause ("elapsed: 12.3,"); %timeit's
    # loop count only in its own phrase. A count after such a word ("took 12 iterations", "eta=0.3") is compared.
    ("timing", rf"(?<![\w.])(?P<mask>{_NUM}[^\S\n]?{_UNIT})"
               rf"|(?i:\b(?:took|elapsed(?:[^\S\n]+time)?|wall[^\S\n]+time|time[^\S\n]+taken|duration|runtime"
               rf"|run[^\S\n]+time|seconds|eta))[^\S\n]*[:=]?[^\S\n]*"
               rf"(?P<mask2>{_CLOCK}(?![\d:])|{_NUM}[^\S\n]?(?i:h|hr|hrs)(?![\w/]))"
               rf"|(?i:\b(?:took|elapsed(?:[^\S\n]+time)?|wall[^\S\n]+time|time[^\S\n]+taken))[^\S\n]*[:=]?"
               rf"[^\S\n]*(?P<mask3>[-+]?\d*\.\d+)(?=[^\S\n]*(?:[,;)\]]|\n|\Z))"
               rf"|(?<![\w.,])(?P<mask4>\d{{1,3}}(?:,\d{{3}})+|\d+) loops?(?= each\)|, best of \d)"
               r"|(?m:^(?P<mask5>The slowest run took [\d.]+ times longer than the fastest\. This could mean that "
               r"an intermediate result is being cached\.[^\S\n]*)(?:\n|$))",
     "timings differ on every run"),
    # logging's asctime only before the words of a message (a CSV row "2020-01-01 00:00:00,380,12" is compared)
    ("log-timestamp", r"(?m)^\[?(?P<mask>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}"
                      r"(?:,\d{3}(?=\]?[^\S\n]+(?:-[^\S\n]+)?[^\W\d])"
                      r"|(?:[.,]\d+)?(?=\]?[ :-]+(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\b)))",
     "a log line's timestamp (logging's asctime, 2026-12-01 21:35:11,380, or one before a level name) is the clock "
     "of the run; a time series' index is compared"),
    ("progress-rate", rf"(?<![\w.])(?P<mask>(?:{_NUM}|\?)[^\S\n]?(?:[kMG]?(?:it|B|samples|examples|tokens|steps)/s\b"
                      rf"|s/it\b|{_UNIT_NAME}/(?:step|sample|epoch)\b))"
                      rf"|\[(?P<mask2>{_CLOCK})<(?P<mask3>{_CLOCK}|\?)",
     "progress rates and elapsed/remaining times differ on every run"),
    ("progress-bar", r"\[[=>.\- ]{5,}\]|\|[█▉▊▋▌▍▎▏ #]+\|", "progress bars are redrawn differently"),
    ("warning-path", r"(?m)^\S*[/\\][^\n:]*\.py:\d+: ", "warnings name the file and line of an installed package"),
    ("ipython-notice", r"(?m)^[^\n]*%pylab is deprecated[^\n]*(?:\n|$)"
                       r"|^Populating the interactive namespace from numpy and matplotlib[^\S\n]*(?:\n|$)"
                       r"|^[^\n]*pylab import has clobbered these variables[^\n]*(?:\n|$)"
                       r"(?:`%matplotlib` prevents importing \* from pylab and numpy[^\n]*(?:\n|$))?"
                       r"|^The \w+ extension is already loaded\. To reload it, use:\n[^\S\n]*%reload_ext \w+"
                       r"[^\S\n]*(?:\n|$)"
                       r"|^Using matplotlib backend: [^\n]*(?:\n|$)"
                       r"|^Note: you may need to restart the kernel to use updated packages\.[^\S\n]*(?:\n|$)",
     "IPython's own notices (a magic's deprecation, an extension already loaded) say nothing about the computation"),
    ("numpy-scalar-repr", r"np\.(float|int|uint|complex|bool|str)_?\d*\(([^()]*)\)",
     "NumPy 2 prints scalars as np.float64(0.5) where 1.x printed 0.5 (NEP 51)"),
]
#: On stderr only: a warning (its "...Warning: message" line and, after the "file.py:12: " form the warnings module
#: prints, the one source line it echoes: two spaces and a line of code, "  warnings.warn(", "  return f(x)").
_CODE_LINE = (r"  (?=[^\s#][^\n]*(?:[()\[\]=]|[A-Za-z_]\w*\.[A-Za-z_])|@\w|(?:import|from|return|raise|yield"
              r"|assert|del|if|elif|while|for|with|def|class|lambda|await|async|global|nonlocal|pass|try|except"
              r"|finally|else)\b)[^\n]*(?:\n|$)")
WARNINGS = ("warnings", rf"(?m)^[^\n]*:\d+: [A-Z]\w*Warning: [^\n]*(?:\n|$)(?:{_CODE_LINE})?"
                        rf"|^[^\n]*\b[A-Z]\w*Warning: [^\n]*(?:\n|$)",
            "warnings on stderr change with library versions and say nothing about the computation")
_NUMPY_SCALAR = re.compile(r"np\.(float|int|uint|complex|bool|str)_?\d*\(([^()]*)\)")

#: A number: not part of a word or a dotted version, a number however it is followed by a unit ("10ms").
_NUMBER_RE = (r"(?<![\w.])(?:[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\d._])"
              r"|[-+]?(?:nan|inf)(?![\w.]))")
_NUMBER = re.compile(_NUMBER_RE, re.IGNORECASE)
_WRAPPED = re.compile(r"\bnp\.(?P<type>(?:u?int|float|complex|longdouble|clongdouble|bool)_?\d*)\("
                      rf"(?P<inner>{_NUMBER_RE})\)", re.IGNORECASE)
_TOKEN = re.compile(rf"(?P<wrap>{_WRAPPED.pattern})|(?P<num>(?!0x[0-9a-f]){_NUMBER_RE})"
                    rf"|(?P<word>[^\W\d_]\w*|\w+(?:\.\w+)*|\S)",
                    re.IGNORECASE)


@dataclass
class Number:
    text: str
    value: float
    unit: float        # one unit in the last printed digit


@dataclass
class Token:
    kind: str          # 'num' or 'word'
    text: str
    start: int         # span in the text it was read from
    end: int
    wrapper: str = ""  # a NumPy scalar type printed around a number (np.float64(...)), NEP 51
    number: Number = field(default=None, repr=False)

    @property
    def key(self):
        return "#" if self.kind == "num" else self.text


def is_integer(text):
    return not re.search(r"[.eE]|nan|inf", text, re.IGNORECASE)


def parse_number(text):
    lower = text.lower().lstrip("+-")
    if lower in ("nan", "inf"):
        return Number(text, float(text), 0.0)
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exp = int(exponent) if exponent else 0
    return Number(text, float(text), 10.0 ** (exp - decimals))


def significant_digits(text):
    """Significant digits printed ('0.00120' -> 3, '5.3851648071345037' -> 17)."""
    mantissa = text.lower().lstrip("+-").partition("e")[0].replace(".", "")
    return len(mantissa.lstrip("0")) or 1


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def clean_text(text):
    """A text as Jupyter shows it: ANSI colours dropped, CRLF is LF, a carriage return redraws its line and a
    backspace erases the character before it (progress bars, Keras' older logs)."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\x08" in text:
        kept = []
        for ch in text:
            if ch != "\x08":
                kept.append(ch)
            elif kept and kept[-1] != "\n":
                kept.pop()
        text = "".join(kept)
    text = text.replace("\r\n", "\n")
    if "\r" in text:
        text = "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line.rstrip("\r") else line.rstrip("\r")
                         for line in text.split("\n"))
    return text


def validate_patterns(cosmetic):
    """The --cosmetic patterns as (name, pattern, reason) rules; BadInput for an empty, invalid or empty-matching one."""
    from backprop_repro.core.errors import BadInput

    rules = []
    for k, pattern in enumerate(cosmetic or ()):
        if not pattern:
            raise BadInput("--cosmetic '': an empty pattern would match everywhere; give a regular expression "
                           "for the text that may differ (e.g. --cosmetic 'run id \\w+')")
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise BadInput(f"--cosmetic {pattern!r}: not a regular expression ({exc})") from None
        if compiled.fullmatch(""):
            raise BadInput(f"--cosmetic {pattern!r}: matches the empty string, so it would mask nothing or everything; "
                           f"give a pattern that matches some text")
        rules.append((f"user-{k}", pattern, "given with --cosmetic"))
    return rules


@functools.lru_cache(maxsize=256)
def _compiled(pattern):
    return re.compile(pattern)


def _but_numbers(text, a, b):
    """The parts of text[a:b] between its number tokens (as read_text reads them)."""
    parts, at = [], a
    for m in _TOKEN.finditer(text, a, b):
        if m.group("num") or m.group("wrap"):
            parts.append((at, m.start()))
            at = m.end()
    return parts + [(at, b)]


def masked_spans(text, cosmetic):
    """[(start, end, rule name)] of the cosmetic matches in ``text``: a rule's ``mask`` groups, its ``nums`` groups
    but for the numbers in them (compared), else the whole match."""
    spans = []
    for name, pattern, _ in cosmetic:
        if name == "numpy-scalar-repr":
            continue                       # read by the tokeniser (Token.wrapper)
        compiled = _compiled(pattern)
        groups = [g for g in compiled.groupindex if g.startswith(("mask", "nums"))]
        for m in compiled.finditer(text):
            if m.end() == m.start():
                continue
            chosen = []
            for g in groups:
                if m.start(g) >= 0:
                    chosen += _but_numbers(text, m.start(g), m.end(g)) if g.startswith("nums") else [m.span(g)]
            spans += [(a, b, name) for a, b in (chosen or [(m.start(), m.end())]) if b > a]
    return sorted(spans)


@dataclass
class Tokens:
    """A text read for comparison: its tokens outside cosmetic spans, and what was masked."""
    text: str
    tokens: list
    masked: dict        # rule name -> [masked strings]
    masked_numbers: int  # numbers inside masked spans (left out as cosmetic)


_NEP51_TEXT = re.compile(r"""np\.(?:str_|bytes_)\((?P<s>b?'[^'\\\n]*(?:\\.[^'\\\n]*)*'|b?"[^"\\\n]*(?:\\.[^"\\\n]*)*")\)"""
                         r"|np\.(?P<b>True|False)_\b"
                         r"|np\.void\((?P<v>\((?:[^()\n]|\([^()\n]*\))*\)), dtype=\[[^\]\n]*\]\)")


def _unwrap_nep51(text):
    """(text with NumPy 2's np.str_('a'), np.True_, np.void((...), dtype=...) read as 1.x printed them, the wrappers)."""
    found = []

    def plain(m):
        found.append(m.group(0)[:40])
        return m.group("s") or m.group("b") or m.group("v")
    return _NEP51_TEXT.sub(plain, text), found


def read_text(text, cosmetic, extra=()):
    """The text (clean_text) tokenised, cosmetic spans masked."""
    text = clean_text(text)
    wrapped = []
    if "np." in text and any(n == "numpy-scalar-repr" for n, _, _ in cosmetic):
        text, wrapped = _unwrap_nep51(text)
    spans = masked_spans(text, list(cosmetic) + list(extra))
    masked = {"numpy-scalar-repr": wrapped} if wrapped else {}
    for a, b, name in spans:
        masked.setdefault(name, []).append(" ".join(text[a:b].split()))
    cover = bytearray(len(text))
    for a, b, _ in spans:
        cover[a:b] = b"\x01" * (b - a)
    out, hidden = [], 0
    for m in _TOKEN.finditer(text):
        start, end = m.start(), m.end()
        if cover.find(1, start, end) != -1:
            if m.group("num") or m.group("wrap"):
                hidden += 1
            continue
        if m.group("wrap"):
            inner = m.group("inner")
            s = m.start("inner")
            out.append(Token("num", inner, s, s + len(inner), wrapper=m.group("type").lower(),
                             number=parse_number(inner)))
        elif m.group("num"):
            out.append(Token("num", m.group(0), start, end, number=parse_number(m.group(0))))
        else:
            out.append(Token("word", m.group(0), start, end))
    return Tokens(text, out, masked, hidden)


def count_numbers(text):
    """Numbers in a text, as the tokeniser reads them (np.float64(0.5) is one)."""
    return sum(1 for m in _TOKEN.finditer(clean_text(text)) if m.group("num") or m.group("wrap"))


# --- kept for callers of the earlier line-based reading -----------------------------------------------------

def _unwrap_numpy_scalars(text):
    return _NUMPY_SCALAR.sub(lambda m: m.group(2), text)


def normalise(text, cosmetic):
    """(the text's token texts joined by spaces, cosmetic spans masked, {rule name: masked strings}): equal for two
    texts that differ only in layout and cosmetic parts."""
    read = read_text(text, cosmetic)
    return " ".join((f"np.{t.wrapper}({t.text})" if t.wrapper else t.text) for t in read.tokens), read.masked


def tokens(text):
    """(skeleton with numbers replaced by '#', [Number]) of a text."""
    numbers = [parse_number(m.group(0)) for m in _NUMBER.finditer(text)]
    return _NUMBER.sub("#", text), numbers


# --- one number against another ---------------------------------------------------------------------------

def _ulps(a, b, fmt="d"):
    """Distance in units in the last place between two finite floats (as doubles, or as float32 with fmt 'f')."""
    def ordinal(x):
        bits = struct.unpack("<q" if fmt == "d" else "<i", struct.pack("<" + fmt, x))[0]
        return bits if bits >= 0 else -(bits & (2 ** (63 if fmt == "d" else 31) - 1))
    try:
        return abs(ordinal(a) - ordinal(b))
    except (OverflowError, struct.error):
        return math.inf


def float_digits(wrapper="", context=""):
    """Significant digits at which a printed float reaches its type's own precision (repr length): by the NumPy
    scalar type printed around it (np.float32(...)), else by a dtype named in ``context``, which must be the number's
    own (see :func:`dtype_spans`), never a whole output's."""
    kind = wrapper or ""
    if not kind:
        if re.search(r"float16|\bhalf\b", context):
            kind = "float16"
        elif re.search(r"float32|\bsingle\b|torch\.float\b", context):
            kind = "float32"
    return {"float16": 4, "float32": 7}.get(kind, 15)


def bracketed(text, start):
    """``(parts, end)`` of the bracketed text whose opening bracket ends just before ``start``: its top-level
    comma-separated parts (quotes and nested brackets respected) and the index just past its closing bracket;
    ``end`` is None when it is not closed."""
    parts, depth, quote, at = [], 1, "", start
    for k in range(start, len(text)):
        ch = text[k]
        if quote:
            quote = "" if ch == quote and text[k - 1] != "\\" else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return parts + [text[at:k]], k + 1
        elif ch == "," and depth == 1:
            parts.append(text[at:k])
            at = k + 1
    return parts, None


_ARRAY_CALL = re.compile(r"\b(?:\w*[Aa]rray|tensor)\(")
_ARRAY_DTYPE = re.compile(r",\s*dtype=((?:(?:np|numpy|jnp|torch)\.)?\w+)\)\Z")
_SERIES_DTYPE = re.compile(r"(?m)^(?:Name: [^\n]*, )?(?:Length: \d+, )?dtype: (\w+)[^\S\n]*$")


def dtype_spans(text):
    """[(start, end, dtype)]: the spans of a text whose numbers are of a narrower float type by their own context:
    an array or tensor repr ending in its dtype (``array([...], dtype=float32)``, ``tensor([...],
    dtype=torch.float16)``), a pandas Series block ending in ``dtype: float32``. Other numbers of the text are not
    theirs (the word float32 elsewhere in an output says nothing about them)."""
    spans = []
    for m in _ARRAY_CALL.finditer(text):
        _, k = bracketed(text, m.end())
        if k is not None:
            d = _ARRAY_DTYPE.search(text, m.start(), k)
            if d and float_digits("", d.group(1)) < 15:
                spans.append((m.start(), k, d.group(1)))
    for d in _SERIES_DTYPE.finditer(text):
        if float_digits("", d.group(1)) < 15:
            blank = text.rfind("\n\n", 0, d.start())
            before = [e.end() for e in _SERIES_DTYPE.finditer(text, 0, d.start())]
            spans.append((max([blank + 1] + before), d.end(), d.group(1)))
    return spans


def digits_at(spans, position):
    """float_digits for a number printed at ``position`` of a text with dtype_spans ``spans``."""
    inside = [dtype for a, b, dtype in spans if a <= position < b]
    return float_digits("", inside[-1]) if inside else 15


def _rounds_to(longer, shorter):
    """Whether the longer printed number, rounded to the shorter's last digit, is the shorter one."""
    unit = Decimal((0, (1,), Decimal(shorter.text).as_tuple().exponent))
    return abs(Decimal(longer.text) - Decimal(shorter.text)) * 2 <= unit


def compare_number_why(stored, fresh, rtol=0.0, digits=15):
    """(kind, reason): 'reproduced', 'rounding' or 'numeric' for a stored number against a fresh one.

    Integers are exact (a count, a shape, a label). Two texts of the same double (an old 17-digit repr and
    today's shortest one) are the same number. ``rounding`` is a change a last bit of the value explains: the
    printed precision reaches the float's own (``digits`` significant digits, 15 for float64) and the two
    values are at most 2 units in the last place apart, or one unit in the last printed digit. A number printed
    with more (or fewer) digits than before that rounds to the other is reproduced where the shorter text is a
    plausible print of the longer (4 or more digits, or Python 2's 12-digit str)."""
    s, f = stored, fresh
    if s.text == f.text:
        return "reproduced", ""
    if math.isnan(s.value) or math.isnan(f.value):
        same = math.isnan(s.value) and math.isnan(f.value)
        return ("reproduced", "") if same else ("numeric", "nan on one side only")
    s_int, f_int = is_integer(s.text), is_integer(f.text)
    if s.value == 0.0 == f.value and math.copysign(1.0, s.value) != math.copysign(1.0, f.value):
        # a cell's relative tolerance (metadata.repro.rtol) accepts it: noise around zero printed at low precision
        return ("reproduced", "") if rtol else ("numeric", "the sign of a zero changed (a value that crossed "
                                                           "zero, or its sign bit)")
    if math.isinf(s.value) or math.isinf(f.value):
        return ("reproduced", "") if s.value == f.value and s_int == f_int else ("numeric", "an infinity changed")
    if s_int != f_int:
        return "numeric", ("printed as an integer before and as a float now" if s_int else
                           "printed as a float before and as an integer now") + " (its type changed)"
    if s_int:
        if int(s.text) == int(f.text):
            return "reproduced", ""
        if rtol and abs(int(f.text) - int(s.text)) <= rtol * abs(int(s.text)):
            return "reproduced", ""
        return "numeric", f"an integer changed by {int(f.text) - int(s.text):+d}"
    if s.value == f.value:
        return "reproduced", ""
    if rtol and abs(f.value - s.value) <= rtol * abs(s.value):
        return "reproduced", ""
    ds, df = significant_digits(s.text), significant_digits(f.text)
    if max(ds, df) >= digits:
        fmt = "f" if digits < 15 else "d"
        close = _ulps(s.value, f.value, fmt) <= 2
        unit = Decimal((0, (1,), max(Decimal(s.text).as_tuple().exponent, Decimal(f.text).as_tuple().exponent)))
        # one unit of the last digit only where both texts reach the float's precision: a short text's last
        # digit is no rounding allowance for a full-precision one (0.8 against 0.7142857142857143 moved)
        if close or min(ds, df) >= digits and abs(Decimal(f.text) - Decimal(s.text)) <= unit:
            return "rounding", "a last-bit change of the value, at the float's own printed precision"
    longer, shorter = (f, s) if df > ds else (s, f)
    if ds != df and _rounds_to(longer, shorter) and (
            min(ds, df) >= 4 or float(f"{longer.value:.12g}") == shorter.value):
        return "reproduced", "the same value printed with a different number of digits"
    return "numeric", (f"off by {abs(f.value - s.value):.3g}, more than a last-bit change can explain at "
                       f"{ds} printed significant digits")


def compare_number(stored, fresh, rtol=0.0, digits=15):
    """'reproduced', 'rounding' or 'numeric' (see compare_number_why)."""
    return compare_number_why(stored, fresh, rtol, digits)[0]


# --- the statistical rule ---------------------------------------------------------------------------------

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
