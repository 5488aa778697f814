"""``history show``'s files: history.csv (one row per quantity, fingerprint and commit) and history.html (a heatmap
of quantities x commits, one lane per fingerprint, coloured by the ULP distance to the previous run)."""

import csv
import io

from jinja2 import Environment, PackageLoader, select_autoescape

from backprop_repro.store import atomic

__all__ = ["write_history", "cell_class", "console_lines", "bisect_lines"]

# its own environment: the report's would import pandas and matplotlib for a page that needs neither
TEMPLATES = Environment(loader=PackageLoader("backprop_repro.render", "templates"),
                        autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)


def cell_class(row):
    """The heatmap class of one CSV row: first run, same bits, a ULP bucket, or another kind of change."""
    same, ulp = row["bit_identical_to_previous"], row["max_ulp_to_previous"]
    if same == "":
        return "first"
    if same == "true":
        return "same"
    if ulp == "":
        return "other"
    for bound, name in ((1, "u1"), (4, "u4"), (16, "u16"), (256, "u256")):
        if ulp <= bound:
            return name
    return "ubig"


def _lanes(result):
    """Per fingerprint: its fields, the commits it has runs of, and one row of cells per quantity."""
    commits = list(result["commits"])
    lanes = {}
    for row in result["rows"]:
        lane = lanes.setdefault(row["fingerprint"], {"fingerprint": row["fingerprint"], "quantities": {},
                                                     "fields": result["fingerprints"].get(row["fingerprint"], {})})
        lane["quantities"].setdefault(row["quantity"], {})[row["commit"]] = {**row, "cls": cell_class(row)}
    for lane in lanes.values():
        used = {c for cells in lane["quantities"].values() for c in cells}
        lane["commits"] = [c for c in commits if c in used]
    return list(lanes.values())


def write_history(result, out):
    """history.csv and history.html in ``out`` (atomic each)."""
    from backprop_repro.history.show import COLUMNS

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(result["rows"])
    atomic.write_text(out / "history.csv", buffer.getvalue())
    html = TEMPLATES.get_template("history.html.j2").render(
        lanes=_lanes(result), commits=result["commits"], changes=result["changes"], sweeps=result["sweeps"],
        n_quantities=len({r["quantity"] for r in result["rows"]}))
    atomic.write_text(out / "history.html", html)


def _change_text(ulp, changed, dtype=None):
    if changed == "missing":
        return "missing"
    if ulp == "" or ulp is None:
        return "text changed" if dtype == "str" else "dtype or shape changed"
    return f"{ulp} ULP, {changed} element{'' if changed == 1 else 's'}"


def _row_change(row):
    return _change_text(row["max_ulp_to_previous"], row["changed_elements"], row["dtype"])


def console_lines(result):
    """One line per quantity whose bits changed: the commits (with the ULP distance) per fingerprint."""
    lines = []
    for quantity, per_fp in result["changes"].items():
        parts = [", ".join(f"{r['commit'][:10]} ({_row_change(r)})" for r in rows) + f" on {fp}"
                 for fp, rows in per_fp.items()]
        lines.append(f"{quantity}: bits changed at " + "; ".join(parts))
    if not lines:
        lines.append(f"no quantity's bits changed ({len(result['rows'])} runs of quantities compared)")
    return lines


def _probe_change(change):
    return _change_text(change["max_ulp"], change["note"] or change["changed_elements"], change["dtype"])


def bisect_lines(payload):
    """The first commit that moved the bits, its subject, and which quantities changed by how many ULP."""
    first = payload["first_bad"]
    checks = f"{payload['checks']} checks for {payload['commits_in_range']} commits"
    if first is not None:
        lines = [f"first commit that moved the bits of {payload['target']}: {first['commit']} {first['subject']} "
                 f"({checks})"]
        return lines + [f"  {c['quantity']}: {_probe_change(c)}"
                        for c in first["changes"]]
    if payload["changed"]:
        return [f"the first commit that moved the bits of {payload['target']} is one of these (all but the last could "
                f"not run the check; {checks}):"] + [f"  {c['commit']} {c['subject']}" for c in payload["candidates"]]
    if payload["candidates"]:
        return [f"no commit that ran changed the bits of {payload['target']}; these could not run the check "
                f"({checks}):"] + [f"  {c['commit']} {c['subject']}" for c in payload["candidates"]]
    return [f"no commit between {payload['good'][:10]} and {payload['bad'][:10]} changed the bits of "
            f"{payload['target']} ({checks})"]
