"""Where a number sits in a printed output: an array element's index, a table's row and column, or its line."""

import bisect
import re

_ARRAY_START = re.compile(r"\s*(?:array\(|tensor\(|\[)")
_FLOAT = re.compile(r"\d\.|\d[eE][-+]?\d|nan|inf", re.IGNORECASE)


def place_of(read, index):
    """Where token ``index`` of a read text (numbers.Tokens) sits: 'element [1, 3]', "row 'b', column 'x'",
    'line 4', or '' in a one-line text."""
    places = getattr(read, "_places", None)
    if places is None:
        places = read._places = _array_places(read) or _table_places(read)
    return places.get(index, "")


def _array_places(read):
    """{token index: 'element [i, j]'} for a NumPy (or list, tensor) repr; {} when the text is not one or is
    summarised with '...' (indices after the ellipsis are not known)."""
    if not _ARRAY_START.match(read.text) or "..." in read.text:
        return {}
    places, stack = {}, []
    for k, t in enumerate(read.tokens):
        if t.kind == "word" and t.text == "[":
            stack.append(0)
        elif t.kind == "word" and t.text == "]":
            if stack:
                stack.pop()
            if stack:
                stack[-1] += 1
        elif t.kind == "num" and stack:
            places[k] = "element [" + ", ".join(map(str, stack)) + "]"
            stack[-1] += 1
    return places


def _fields(line):
    return [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+", line)]


def _table_places(read):
    """{token index: place} for a multi-line text: a table's row and column (a pandas frame or series, the text
    of an HTML table) where a header line can be found, else the line."""
    text = read.text
    if "\n" not in text.strip("\n"):
        return {}
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    lines = text.split("\n")
    fields, headers, places = {}, {}, {}
    for k, t in enumerate(read.tokens):
        if t.kind != "num":
            continue
        n = bisect.bisect_right(starts, t.start) - 1
        if n not in fields:
            fields[n] = _fields(lines[n])
        line_fields = fields[n]
        col = t.start - starts[n]
        at = next((i for i, (a, b, _) in enumerate(line_fields) if a <= col < b), None)
        place = f"line {n + 1}"
        if at is not None and at >= 1 and len(line_fields) >= 2:
            key = (n, len(line_fields) - 1)
            if key not in headers:
                headers[key] = _header(lines, n, key[1], fields)
            header = headers[key]
            row = line_fields[0][2]
            if header is not None:
                place = f"row {row!r}, column {header[at - 1][2]!r}"
            elif len(line_fields) == 2:
                place = f"row {row!r}"
        places[k] = place
    return places


def _header(lines, n, width, cache):
    """The fields of the nearest header line above line n with ``width`` fields (no decimal numbers in it, at the
    top of the text or of a block after a blank line), or None."""
    for m in range(n - 1, max(-1, n - 200), -1):
        if not lines[m].strip():
            return None
        if m not in cache:
            cache[m] = _fields(lines[m])
        f = cache[m]
        labels = [x for x in f if x[2] != "\\"]
        if len(labels) == width and not _FLOAT.search(lines[m]) and (m == 0 or not lines[m - 1].strip()):
            return labels
    return None
