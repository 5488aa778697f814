"""A cell's stored outputs against its fresh ones: pairing outputs and comparing their texts."""

import base64
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .numbers import ALPHA, compare_number, normalise, tokens, typical

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


def compare_text(cell, label, stored, fresh_runs, cosmetic, rtol=0.0, random=False):
    """Differences and number rows between a stored text and its fresh texts (one per run)."""
    differences, rows = [], []
    s_norm, s_hits = normalise(stored, cosmetic)
    f_norms = [normalise(f, cosmetic) for f in fresh_runs]
    reasons = {name: reason for name, _, reason in cosmetic}
    for name in sorted(set(s_hits) | set(f_norms[0][1])):
        if s_hits.get(name) != f_norms[0][1].get(name):     # only where the cosmetic parts really differ
            differences.append(Difference(cell, label, "cosmetic", " ".join(map(str, s_hits.get(name, [])))[:200],
                                          " ".join(map(str, f_norms[0][1].get(name, [])))[:200],
                                          f"{name}: {reasons.get(name, '')}"))
    s_skel, s_nums = tokens(s_norm)
    parsed = [tokens(f) for f, _ in f_norms]
    f_skel, f_nums = parsed[0]
    if s_skel != f_skel or len(s_nums) != len(f_nums):
        differences.append(Difference(cell, label, "text", s_norm[:500], f_norms[0][0][:500],
                                      "the words or layout around the numbers changed"))
        return differences, rows
    varying = [i for i in range(len(s_nums)) if len({p[1][i].text for p in parsed if len(p[1]) == len(s_nums)}) > 1]
    for i, (s, f) in enumerate(zip(s_nums, f_nums)):
        values = [p[1][i].value for p in parsed if len(p[1]) == len(s_nums)]
        if i in varying or (random and len(values) > 1):
            ok, t, bound = typical(s.value, values, s.unit)
            kind = "nondeterministic" if ok else "numeric"
            rows.append({"cell": cell, "output": label, "stored": s.text, "fresh": f.text, "kind": kind,
                         "fresh_runs": [p[1][i].text for p in parsed]})
            where = (f"the stored value is {t:.3g} prediction standard errors from the {len(values)} runs' mean "
                     f"(a reproducible notebook exceeds {bound:.3g} with probability {ALPHA:.1e})")
            differences.append(Difference(cell, label, kind, s.text, " | ".join(p[1][i].text for p in parsed),
                                          f"changes between fresh runs; {where}" if ok else
                                          f"changes between fresh runs, and {where}: far outside every run"))
            continue
        kind = compare_number(s, f, rtol)
        rows.append({"cell": cell, "output": label, "stored": s.text, "fresh": f.text, "kind": kind,
                     "fresh_runs": [f.text]})
        if kind == "rounding":
            differences.append(Difference(cell, label, "rounding", s.text, f.text,
                                          "one unit in the last printed digit: a last-bit change, once printed"))
        elif kind == "numeric":
            differences.append(Difference(cell, label, "numeric", s.text, f.text,
                                          f"off by {abs(f.value - s.value):.3g}, more than one unit ({s.unit:g}) of "
                                          f"the last printed digit"))
    return differences, rows


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
