"""A cell's stored outputs against its fresh ones: outputs paired one to one, texts compared token by token.

Structure first: a cell's outputs are paired in order by kind (a stream by its name, a display or a result,
an error), so an output that appeared or disappeared is a difference of its own (``added`` / ``missing``)
and two ``display()`` outputs of one cell are two outputs. Within a pair every textual MIME type is compared
(``text/plain``, ``text/html`` by its text content, ``text/markdown``, ``text/latex``, ``application/json``),
images by content, errors by type and message. Texts are compared as token sequences aligned like difflib
on their words, so every stored number finds its fresh partner however the text is spaced or wrapped.
"""

import base64
import difflib
import json
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from .numbers import (ALPHA, WARNINGS, bracketed, clean_text, compare_number_why, count_numbers, digits_at,
                      dtype_spans, float_digits, read_text, typical)

TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
LEFT_OUT = {"cosmetic": "masked as cosmetic", "ignored": "in cells whose outputs are ignored by tag",
            "skipped": "in cells skipped by tag", "install log": "in package installation logs", "no partner": "with no fresh partner (an output or words "
            "that changed)", "not run": "in cells that did not run", "mime": "in MIME types not compared"}


@dataclass
class Difference:
    cell: int
    output: str
    kind: str
    stored: str
    fresh: str
    explanation: str

    def as_dict(self):
        return {"cell": self.cell, "output": self.output, "kind": self.kind, "stored": self.stored,
                "fresh": self.fresh, "explanation": self.explanation}


class Coverage:
    """How many stored numbers were compared, and how many were left out and why."""

    def __init__(self):
        self.compared = 0
        self.left_out = Counter()

    def leave_out(self, reason, n):
        if n:
            self.left_out[reason] += n

    def add(self, other):
        self.compared += other.compared
        self.left_out.update(other.left_out)

    @property
    def stored(self):
        return self.compared + sum(self.left_out.values())

    def as_dict(self):
        return {"numbers_stored": self.stored, "numbers_compared": self.compared,
                "numbers_left_out": dict(sorted(self.left_out.items()))}

    def sentence(self):
        left = sum(self.left_out.values())
        why = ", ".join(f"{n} {LEFT_OUT.get(k, k)}" for k, n in sorted(self.left_out.items()))
        return f"{self.compared} of {self.stored} stored numbers compared" + (f"; {left} left out: {why}" if left else "")


# --- outputs ------------------------------------------------------------------------------------------------

@dataclass
class Output:
    key: str                          # what pairs: 'stream:stdout', 'display_data', 'execute_result', 'error'
    label: str                        # its name in differences: 'stream:stdout', 'display_data#2', ...
    data: dict = field(default_factory=dict)   # MIME type -> text (streams and errors as text/plain)
    ename: str = ""


class _HTMLText(HTMLParser):
    """The text content of an HTML fragment: cells separated by spaces, rows and blocks by line ends."""
    BLOCK = {"tr", "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "caption"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self.skip += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self.skip = max(0, self.skip - 1)
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(re.sub(r"\s+", " ", data))     # HTML collapses whitespace; rows end lines


def html_text(html):
    """The text an HTML output shows (tags, styles and scripts removed, entities decoded)."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    return re.sub(r"\n\s*\n+", "\n", "".join(parser.parts)).strip("\n")


def _text(value):
    return "".join(value) if isinstance(value, list) else value


def mime_text(mime, value):
    """The text of one MIME representation, as compared."""
    if mime == "application/json" or not isinstance(value, (str, list)):
        return json.dumps(value, sort_keys=True, indent=1) if not isinstance(value, str) else value
    text = _text(value)
    return html_text(text) if mime == "text/html" else text


def outputs_of(outputs):
    """A cell's outputs as [Output]: consecutive stream chunks joined per stream (stdout before stderr, so their
    interleaving is not a difference), every display and result its own output, errors by ename and evalue."""
    out, pending, counts = [], {}, Counter()

    def flush():
        for name in sorted(pending, key=lambda n: (n != "stdout", n)):
            out.append(Output(f"stream:{name}", f"stream:{name}", {"text/plain": pending[name]}))
        pending.clear()

    for o in outputs:
        kind = o.get("output_type")
        if kind == "stream":
            name = o.get("name", "stdout")
            pending[name] = pending.get(name, "") + _text(o.get("text", ""))
            continue
        flush()
        if kind in ("execute_result", "display_data"):
            counts[kind] += 1
            label = kind if counts[kind] == 1 else f"{kind}#{counts[kind]}"
            out.append(Output(kind, label, {m: v for m, v in (o.get("data") or {}).items()}))
        elif kind == "error":
            out.append(Output("error", "error", {"text/plain": str(o.get("evalue", ""))}, str(o.get("ename", ""))))
    flush()
    for o in out:                       # a later stream segment of the same name gets its own label
        counts[o.key + "@"] += 1
        if o.key.startswith("stream:") and counts[o.key + "@"] > 1:
            o.label = f"{o.key}#{counts[o.key + '@']}"
    return out


def pair_outputs(stored, fresh):
    """[(stored Output or None, fresh Output or None)], one to one, in order, by kind."""
    sm = difflib.SequenceMatcher(None, [o.key for o in stored], [o.key for o in fresh], autojunk=False)
    pairs = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            pairs += list(zip(stored[i1:i2], fresh[j1:j2]))
        else:
            pairs += [(o, None) for o in stored[i1:i2]] + [(None, o) for o in fresh[j1:j2]]
    return pairs


def output_numbers(output):
    """(numbers in the compared MIME types, numbers in others) of one output."""
    compared = other = 0
    for mime, value in output.data.items():
        if mime in IMAGE_MIMES:
            continue
        n = count_numbers(mime_text(mime, value))
        if mime in TEXT_MIMES or mime.startswith("text/"):
            compared += n
        else:
            other += n
    return compared, other


def cell_numbers(outputs):
    """Numbers in a cell's stored outputs (all MIME types but images)."""
    return sum(sum(output_numbers(o)) for o in outputs_of(outputs))


# --- one text against its fresh texts -----------------------------------------------------------------------

def _diff(a, b, max_d):
    """Opcodes (difflib's format) of a shortest edit script from a to b (Myers' O((N+M)D) algorithm), or None when
    more than ``max_d`` insertions and deletions are needed. A shortest script never slides a repetitive text by
    whole lines, as difflib's longest-block-first matching can."""
    n0, m0 = len(a), len(b)
    pre = 0
    while pre < n0 and pre < m0 and a[pre] == b[pre]:
        pre += 1
    suf = 0
    while suf < n0 - pre and suf < m0 - pre and a[n0 - 1 - suf] == b[m0 - 1 - suf]:
        suf += 1
    a2, b2 = a[pre:n0 - suf], b[pre:m0 - suf]
    n, m = len(a2), len(b2)
    v, trace, found = {1: 0}, [], None
    for d in range(min(max_d, n + m) + 1):
        trace.append(dict(v))
        for k in range(-d, d + 1, 2):
            x = v[k + 1] if k == -d or (k != d and v[k - 1] < v[k + 1]) else v[k - 1] + 1
            y = x - k
            while x < n and y < m and a2[x] == b2[y]:
                x, y = x + 1, y + 1
            v[k] = x
            if x >= n and y >= m:
                found = d
                break
        if found is not None:
            break
    if found is None:
        return None
    pairs, x, y = [], n, m
    for d in range(found, -1, -1):
        vd, k = trace[d], x - y
        prev_k = k + 1 if k == -d or (k != d and vd.get(k - 1, -1) < vd.get(k + 1, -1)) else k - 1
        prev_x = vd.get(prev_k, 0)
        prev_y = prev_x - prev_k
        while x > prev_x and y > prev_y and x > 0 and y > 0:
            x, y = x - 1, y - 1
            pairs.append((x, y))
        x, y = prev_x, prev_y
    pairs = [(i, i) for i in range(pre)] + [(i + pre, j + pre) for i, j in reversed(pairs)] + \
        [(n0 - suf + i, m0 - suf + i) for i in range(suf)]
    ops, i, j = [], 0, 0
    for pi, pj in pairs + [(n0, m0)]:
        if pi > i or pj > j:
            ops.append(("replace" if pi > i and pj > j else "delete" if pi > i else "insert", i, pi, j, pj))
        if (pi, pj) != (n0, m0):
            if ops and ops[-1][0] == "equal" and ops[-1][2] == pi and ops[-1][4] == pj:
                ops[-1] = ("equal", ops[-1][1], pi + 1, ops[-1][3], pj + 1)
            else:
                ops.append(("equal", pi, pi + 1, pj, pj + 1))
        i, j = pi + 1, pj + 1
    return ops


def _align(s_tokens, f_tokens):
    """(opcodes, {stored token index: fresh token index}) aligning two token lists.

    On the tokens' texts first, so that unchanged numbers anchor the alignment, then, inside each region that
    differs, on the words with every number as '#', so that a changed number still finds its partner. Where the
    texts differ in too many places (every number of an unseeded run), on the words alone."""
    sk, fk = [t.key for t in s_tokens], [t.key for t in f_tokens]
    if sk == fk:
        return [("equal", 0, len(sk), 0, len(fk))], {i: i for i in range(len(sk))}
    first = _diff([t.text for t in s_tokens], [t.text for t in f_tokens], 200)
    if first is None:
        ops = _diff(sk, fk, 400) or difflib.SequenceMatcher(None, sk, fk, autojunk=True).get_opcodes()
    else:
        ops = []
        for tag, i1, i2, j1, j2 in first:
            if tag != "replace":
                ops.append((tag, i1, i2, j1, j2))
                continue
            second = _diff(sk[i1:i2], fk[j1:j2], 400) or [("replace", 0, i2 - i1, 0, j2 - j1)]
            ops += [(t2, i1 + a1, i1 + a2, j1 + b1, j1 + b2) for t2, a1, a2, b1, b2 in second]
    partner = {}
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for d in range(i2 - i1):
                if tag == "equal" or (s_tokens[i1 + d].kind == "num" and f_tokens[j1 + d].kind == "num"):
                    partner[i1 + d] = j1 + d
    return ops, partner


def _segment(read, i1, i2):
    if i2 <= i1:
        return ""
    return " ".join(read.text[read.tokens[i1].start:read.tokens[i2 - 1].end].split())


def _place(read, index):
    """Where a number sits: its line, and for an array its element index, for a table its row and column."""
    from .places import place_of

    return place_of(read, index)


@dataclass
class TextResult:
    differences: list
    rows: list
    stored_marks: list        # [(start, end, kind)] in the stored text (clean_text)
    fresh_marks: list         # the same in the first fresh text
    coverage: Coverage
    stored_text: str = ""
    fresh_text: str = ""


def compare_texts(cell, label, stored, fresh_runs, cosmetic, rtol=0.0, random=False, extra=(), kind_for_text="text"):
    """A stored text against its fresh texts (one per run; None where a run has no partner output)."""
    differences, rows, s_marks, f_marks = [], [], [], []
    coverage = Coverage()
    elements = _collection(stored)
    if elements is not None:             # a set or dict printed in another order: the same collection
        reordered = [f is not None and f != stored and _collection(f) == elements for f in fresh_runs]
        if any(reordered):
            differences.append(Difference(cell, label, "cosmetic", stored[:200], fresh_runs[reordered.index(True)][:200],
                                          "collection-order: a set's or dict's elements printed in another order; "
                                          "the elements are the same"))
            fresh_runs = [stored if r else f for r, f in zip(reordered, fresh_runs)]
    s = read_text(stored, cosmetic, extra)
    runs = [read_text(f, cosmetic, extra) if f is not None else None for f in fresh_runs]
    f0 = runs[0]
    coverage.leave_out("cosmetic", s.masked_numbers)
    result = TextResult(differences, rows, s_marks, f_marks, coverage, s.text, f0.text if f0 else "")
    if f0 is None:
        coverage.leave_out("no partner", sum(t.kind == "num" for t in s.tokens))
        return result
    reasons = {name: reason for name, _, reason in list(cosmetic) + list(extra)}
    for name in sorted(set(s.masked) | set(f0.masked)):
        if s.masked.get(name, []) != f0.masked.get(name, []):     # only where the masked parts really differ
            differences.append(Difference(cell, label, "cosmetic", " | ".join(s.masked.get(name, []))[:200],
                                          " | ".join(f0.masked.get(name, []))[:200],
                                          f"{name}: {reasons.get(name, '')}"))
    aligned = [_align(s.tokens, r.tokens) if r is not None else ([], {}) for r in runs]
    ops0, partner0 = aligned[0]
    def word_changes(ops, fresh_read, part):
        """{(i1, i2): fresh words} where the words differ from the stored ones."""
        found = {}
        for tag, i1, i2, j1, j2 in ops:
            if tag != "equal" and not (tag == "replace" and i2 - i1 == j2 - j1
                                       and all(i1 + d in part for d in range(i2 - i1))):
                found[(i1, i2)] = (j1, j2, _segment(fresh_read, j1, j2))
        return found

    per_run = [word_changes(ops, r, part) if r is not None else None for r, (ops, part) in zip(runs, aligned)]
    partnered = set(partner0.values())
    changes, varying_words = [], []
    for (i1, i2), (j1, j2, seg) in per_run[0].items():
        others = [c.get((i1, i2), (0, 0, _segment(s, i1, i2)))[2] for c in per_run[1:] if c is not None]
        (varying_words if any(o != seg for o in others) else changes).append((_segment(s, i1, i2), seg))
        for j in range(j1, j2):
            if f0.tokens[j].kind == "num" and j not in partnered:
                f_marks.append((f0.tokens[j].start, f0.tokens[j].end, "added"))
    for found, kind, what in ((changes, kind_for_text, "change(s) in the words around the numbers"),
                              (varying_words, "nondeterministic", "word change(s) that also differ between fresh "
                                                                  "runs (printed ids, paths, clock times)")):
        if found:
            shown = "; ".join(f"{x!r} -> {y!r}" for x, y in found[:5]) + (f"; and {len(found) - 5} more"
                                                                        if len(found) > 5 else "")
            differences.append(Difference(cell, label, kind, found[0][0][:200], found[0][1][:200],
                                          f"{len(found)} {what}: {shown}"[:1000]))
    narrow = dtype_spans(s.text[:200000]) if re.search(r"float16|float32|half|single|torch\.float\b", s.text) else []
    nep51 = []
    for i, tok in enumerate(s.tokens):
        if tok.kind != "num":
            continue
        if i not in partner0:
            coverage.leave_out("no partner", 1)
            s_marks.append((tok.start, tok.end, "missing"))
            continue
        coverage.compared += 1
        fresh_toks = [r.tokens[a[1][i]] for r, a in zip(runs, aligned) if r is not None and i in a[1]]
        f = f0.tokens[partner0[i]]
        digits = float_digits(tok.wrapper or f.wrapper) if (tok.wrapper or f.wrapper) else digits_at(narrow, tok.start)
        values = [t.number.value for t in fresh_toks]
        row = {"cell": cell, "output": label, "stored": tok.text, "fresh": f.text,
               "fresh_runs": [t.text for t in fresh_toks], "place": _place(s, i)}
        where = f" at {row['place']}" if row["place"] else ""
        varying = len({t.text for t in fresh_toks}) > 1
        if varying or (random and len(values) > 1):
            ok, t, bound = typical(tok.number.value, values, tok.number.unit)
            kind = "nondeterministic" if ok else "numeric"
            spread = (f"the stored value is {t:.3g} prediction standard errors from the {len(values)} runs' mean "
                      f"(a reproducible notebook exceeds {bound:.3g} with probability {ALPHA:.1e})")
            differences.append(Difference(cell, label, kind, tok.text, " | ".join(t_.text for t_ in fresh_toks),
                                          f"changes between fresh runs{where}; {spread}" if ok else
                                          f"changes between fresh runs{where}, and {spread}: far outside every run"))
        else:
            kind, why = compare_number_why(tok.number, f.number, rtol, digits)
            if tok.wrapper and f.wrapper and tok.wrapper != f.wrapper:
                kind, why = "numeric", f"its type changed (np.{tok.wrapper} -> np.{f.wrapper})" + (
                    f"; {why}" if why else "")
            elif tok.wrapper != f.wrapper:
                nep51.append((tok.wrapper, f.wrapper))
            if kind == "rounding":
                differences.append(Difference(cell, label, "rounding", tok.text, f.text,
                                              f"one unit in the last printed digit{where}: {why}"))
            elif kind == "numeric":
                differences.append(Difference(cell, label, "numeric", tok.text, f.text, f"{why}{where}"))
        row["kind"] = kind
        rows.append(row)
        if kind != "reproduced":
            s_marks.append((tok.start, tok.end, kind))
            f_marks.append((f.start, f.end, kind))
    if nep51:
        a, b = nep51[0]
        differences.append(Difference(cell, label, "cosmetic", f"np.{a}(...)" if a else "a plain number",
                                      f"np.{b}(...)" if b else "a plain number",
                                      "numpy-scalar-repr: NumPy 2 prints scalars as np.float64(0.5) where 1.x printed "
                                      f"0.5 (NEP 51); {len(nep51)} number(s), each still compared"))
    if not differences and stored != fresh_runs[0]:
        respelled = [r for r in rows if r["stored"] != r["fresh"]]
        differences.append(Difference(cell, label, "cosmetic", respelled[0]["stored"] if respelled else "",
                                      respelled[0]["fresh"] if respelled else "",
                                      "layout: spacing, padding, line wrapping or line ends differ; every word is the "
                                      "same and every number the same value" + (
                                          f" ({len(respelled)} printed with other digits, such as an old 17-digit "
                                          f"repr against today's shortest)" if respelled else "")))
    return result


_COLLECTION_HEAD = re.compile(r"\s*,?\s*(?P<word>(?:frozen)?set\()?\{")


def _collection(text):
    """The printed sets or dicts a text consists of ({...}, set({...}), frozenset({...}); one or more, separated by
    whitespace or commas) as [(type word, sorted elements)], or None. Each is its own multiset with its type word,
    so an element moved from one to another, or a frozenset printed as a set, is no reordering."""
    text, found, at = clean_text(text), [], 0
    while text[at:].strip():
        m = _COLLECTION_HEAD.match(text, at)
        if not m:
            return None
        parts, at = bracketed(text, m.end())
        if at is None:
            return None
        if m.group("word"):
            if text[at:at + 1] != ")":
                return None
            at += 1
        found.append((m.group("word") or "", sorted(" ".join(p.split()) for p in parts)))
    if not any(elements != [""] for _, elements in found):
        return None
    return found


def compare_text(cell, label, stored, fresh_runs, cosmetic, rtol=0.0, random=False):
    """(differences, number rows) between a stored text and its fresh texts (one per run)."""
    r = compare_texts(cell, label, stored, fresh_runs, cosmetic, rtol, random)
    return r.differences, r.rows


# --- one cell -----------------------------------------------------------------------------------------------

def _svg_key(text):
    """An SVG without what changes on every save (ids, dates, comments)."""
    text = re.sub(r"<dc:date>.*?</dc:date>|<!--.*?-->", "", text, flags=re.S)
    return re.sub(r"""(id|xlink:href|href|clip-path)=(["'])[^"']*\2""", r"\1=\2\2", text)


def _only_cosmetic(text, cosmetic, extra=()):
    """Whether a text has nothing left once its cosmetic parts (and extra rules) are masked."""
    return not read_text(text, cosmetic, extra).tokens


_INSTALL = re.compile(r"\s*(?:[!%](?:pip3?|conda|mamba|apt(?:-get)?|python3? -m pip)\b|sudo apt|%%capture)")


def _installs_packages(cell):
    """Whether every line of a cell's source is a package installation command (or blank, or a comment)."""
    lines = [ln for ln in _text(cell.get("source", "")).splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return bool(lines) and all(_INSTALL.match(ln) for ln in lines)


def compare_cell(cell_index, cell, fresh_cells, cosmetic, images=None, rtol=0.0, random=False):
    """(differences, number rows, output views for the HTML, Coverage) of one compared code cell against its fresh
    runs (``fresh_cells``: the cell in each fresh run). Errors that appeared, disappeared or changed their type are
    the caller's (judge.check_notebook); a changed message of the same exception is compared here."""
    differences, rows, views = [], [], []
    coverage = Coverage()
    if _installs_packages(cell):
        n = cell_numbers(cell.get("outputs", []))
        coverage.leave_out("install log", n)
        if _fingerprint(cell, cosmetic) != _fingerprint(fresh_cells[0], cosmetic):
            differences.append(Difference(cell_index, "output", "cosmetic", "", "", "install-log: the cell installs "
                                          "packages (!pip, %pip, conda, apt); its log depends on the environment"))
        return differences, rows, views, coverage
    stored = outputs_of(cell.get("outputs", []))
    fresh_runs = [outputs_of(c.get("outputs", [])) for c in fresh_cells]
    pairings = [pair_outputs(stored, f) for f in fresh_runs]
    partner_in_run = [{id(a): b for a, b in p if a is not None} for p in pairings]
    for s_out, f_out in pairings[0]:
        if s_out is None:
            if f_out.key == "error":
                continue                  # the caller reports a new error
            texts = [mime_text(m, v) for m, v in f_out.data.items() if m not in IMAGE_MIMES]
            extra = (WARNINGS,) if f_out.key == "stream:stderr" else ()
            if texts and all(_only_cosmetic(t, cosmetic, extra) for t in texts):
                differences.append(Difference(cell_index, f_out.label, "cosmetic", "", texts[0][:200],
                                              "an output with only warnings or notices appeared"))
            else:
                differences.append(Difference(cell_index, f_out.label, "added", "", (texts or ["(an image)"])[0][:200],
                                              "the fresh run has an output the stored run did not have"))
            views.append({"label": f_out.label, "mime": next(iter(f_out.data), ""), "image": False,
                          "stored": None, "fresh": (texts or [""])[0], "stored_marks": [], "fresh_marks": []})
            continue
        compared_n, other_n = output_numbers(s_out)
        coverage.leave_out("mime", other_n)
        if f_out is None:
            coverage.leave_out("no partner", compared_n)
            if s_out.key == "error":
                continue                  # the caller reports an error that is gone
            texts = [mime_text(m, v) for m, v in s_out.data.items() if m not in IMAGE_MIMES]
            extra = (WARNINGS,) if s_out.key == "stream:stderr" else ()
            if texts and all(_only_cosmetic(t, cosmetic, extra) for t in texts):
                differences.append(Difference(cell_index, s_out.label, "cosmetic", texts[0][:200], "",
                                              "an output with only warnings or notices is gone"))
            else:
                differences.append(Difference(cell_index, s_out.label, "missing", (texts or ["(an image)"])[0][:200],
                                              "", "the fresh run has no such output"))
            views.append({"label": s_out.label, "mime": next(iter(s_out.data), ""), "image": False,
                          "stored": (texts or [""])[0], "fresh": None, "stored_marks": [], "fresh_marks": []})
            continue
        if s_out.key == "error" and s_out.ename != f_out.ename:
            coverage.leave_out("no partner", compared_n)
            continue                      # a different exception: the caller's
        extra = (WARNINGS,) if s_out.key == "stream:stderr" else ()
        for mime, value in s_out.data.items():
            label = s_out.label if s_out.key.startswith("stream:") or s_out.key == "error" else f"{s_out.label}:{mime}"
            if mime not in f_out.data:
                if mime in IMAGE_MIMES or mime in TEXT_MIMES or mime.startswith("text/"):
                    n = count_numbers(mime_text(mime, value)) if mime not in IMAGE_MIMES else 0
                    coverage.leave_out("no partner", n)
                    differences.append(Difference(cell_index, label, "missing", mime, "",
                                                  f"the fresh output has no {mime} representation"))
                continue
            if mime in IMAGE_MIMES:
                fresh_value = f_out.data[mime]
                differences += _compare_image(cell_index, label, mime, value, fresh_value, images)
                views.append({"label": label, "mime": mime, "image": mime != "image/svg+xml", "stored": _text(value),
                              "fresh": _text(fresh_value), "stored_marks": [], "fresh_marks": []})
                continue
            if not (mime in TEXT_MIMES or mime.startswith("text/")):
                continue
            texts = []
            for part in partner_in_run:
                other = part.get(id(s_out))
                texts.append(mime_text(mime, other.data[mime]) if other is not None and mime in other.data else None)
            result = compare_texts(cell_index, label, mime_text(mime, value), texts, cosmetic, rtol, random,
                                   extra=extra, kind_for_text="error" if s_out.key == "error" else "text")
            for d in result.differences:
                if s_out.key == "error" and d.kind in ("text", "numeric", "rounding"):
                    d.explanation = f"the {s_out.ename} message changed: {d.explanation}"
                    d.kind = "error" if d.kind != "rounding" else d.kind
            differences += result.differences
            rows += result.rows
            coverage.add(result.coverage)
            views.append({"label": label, "mime": mime, "image": False, "stored": result.stored_text,
                          "fresh": result.fresh_text, "stored_marks": result.stored_marks,
                          "fresh_marks": result.fresh_marks})
    return differences, rows, views, coverage


def _compare_image(cell_index, label, mime, stored, fresh, images):
    """Differences of one stored image against the fresh one (failing only with an --images tolerance)."""
    stored, fresh = _text(stored), _text(fresh)
    if mime == "image/svg+xml":
        if _svg_key(stored) == _svg_key(fresh):
            return []
        return [Difference(cell_index, label, "image", "stored SVG", "fresh SVG",
                           "the SVG's drawing differs" + (" (beyond --images)" if images is not None else ""))]
    if "".join(stored.split()) == "".join(fresh.split()):
        return []
    if mime != "image/png":
        return [Difference(cell_index, label, "image", f"stored {mime}", f"fresh {mime}",
                           "the image's bytes differ" + (" (beyond --images)" if images is not None else ""))]
    try:
        same, rms, note = _compare_images(stored, fresh)
    except Exception as exc:    # noqa: BLE001 - PIL and zlib raise many kinds for a damaged PNG
        return [Difference(cell_index, label, "image", "unreadable image", "fresh image",
                           f"the stored image is not a readable PNG ({type(exc).__name__}: {str(exc)[:100]}); "
                           f"it cannot match the fresh one")]
    if same and not rms:
        return []
    failing = images is not None and (not same or rms > images)
    return [Difference(cell_index, label, "image", "stored image", "fresh image",
                       note + (" (beyond --images)" if failing else ""))]


def _joined_outputs(outputs):
    """[(label, kind, payload)]: streams joined per name (consecutive chunks), results/displays by text/plain,
    errors by ename: evalue, images by their PNG."""
    out, streams = [], {}
    for o in outputs:
        kind = o.get("output_type")
        if kind == "stream":
            name = o.get("name", "stdout")
            text = o.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            if name in streams:
                out[streams[name]] = (out[streams[name]][0], "text", out[streams[name]][2] + text)
            else:
                streams[name] = len(out)
                out.append((f"stream:{name}", "text", text))
        elif kind in ("execute_result", "display_data"):
            data = o.get("data", {})
            if "text/plain" in data:
                text = data["text/plain"]
                out.append((f"{kind}:text/plain", "text", "".join(text) if isinstance(text, list) else text))
            if "image/png" in data:
                png = data["image/png"]
                out.append((f"{kind}:image/png", "image", "".join(png) if isinstance(png, list) else png))
        elif kind == "error":
            out.append(("error", "error", f"{o.get('ename')}: {o.get('evalue')}"))
    return out


def _tags(cell):
    tags = set(cell.get("metadata", {}).get("tags", []))
    return tags


def _compare_images(stored_b64, fresh_b64):
    """(same_size, rms or None, note): matplotlib.testing.compare on the two PNGs when their sizes match."""
    import io

    from matplotlib.testing.compare import compare_images
    from PIL import Image

    a, b = base64.b64decode(stored_b64), base64.b64decode(fresh_b64)
    size_a, size_b = Image.open(io.BytesIO(a)).size, Image.open(io.BytesIO(b)).size
    if size_a != size_b:
        return False, None, f"stored {size_a[0]}x{size_a[1]}, fresh {size_b[0]}x{size_b[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        pa, pb = Path(tmp) / "stored.png", Path(tmp) / "fresh.png"
        pa.write_bytes(a)
        pb.write_bytes(b)
        result = compare_images(str(pa), str(pb), tol=0, in_decorator=True)
    rms = 0.0 if result is None else float(result["rms"])
    return True, rms, f"same size, RMS difference {rms:.3g}"


def validate_images(images):
    """BadInput unless --images is absent or a finite tolerance >= 0."""
    import math

    from backprop_repro.core.errors import BadInput

    if images is None:
        return
    if isinstance(images, bool) or not isinstance(images, (int, float)) or not math.isfinite(images) or images < 0:
        raise BadInput(f"--images {images}: give a finite RMS tolerance of 0 or more, such as 0 (images must match "
                       f"exactly) or 5")


def run_fingerprint(cell, cosmetic):
    """What a fresh run of a cell printed, cosmetic parts masked and layout dropped: equal for runs that agree
    (an installation log, never compared, is always equal)."""
    return () if _installs_packages(cell) else _fingerprint(cell, cosmetic)


def _fingerprint(cell, cosmetic):
    out = []
    for o in outputs_of(cell.get("outputs", [])):
        extra = (WARNINGS,) if o.key == "stream:stderr" else ()
        for mime, value in sorted(o.data.items()):
            if mime in IMAGE_MIMES:
                continue
            read = read_text(mime_text(mime, value), cosmetic, extra)
            out.append((o.key, mime, tuple((t.text, t.wrapper) for t in read.tokens)))
    return tuple(out)
