"""``history show``'s files: history.csv (one row per quantity, fingerprint and commit), history_notebooks.csv (one
row per notebook, fingerprint and commit: its verdict), history_sweeps.csv (one row per sweep statistic, fingerprint
and commit, with its Wilson 95% interval) and history.html (a heatmap of quantities x commits, one lane per
fingerprint, coloured by the ULP distance to the previous run; notebook verdicts and sweep statistics over time)."""

import csv
import io

from jinja2 import Environment, PackageLoader, select_autoescape

from backprop_repro.store import atomic

__all__ = ["write_history", "cell_class", "verdict_class", "console_lines", "bisect_lines", "FILES"]

FILES = ("history.csv", "history_notebooks.csv", "history_sweeps.csv", "history.html")

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


def verdict_class(verdict):
    """The HTML class of a notebook verdict: reproduced, statistically, no stored outputs or not run, failing."""
    return {"reproduced": "v-ok", "reproduced-statistically": "v-stat", "no-stored-outputs": "v-none",
            "not-run": "v-none", "not-reproduced": "v-fail", "crashed": "v-crash"}.get(verdict, "v-other")


def _notebook_lanes(result):
    """Per fingerprint: the commits it has notebook runs of, and one row of cells per notebook."""
    commits = list(result["commits"])
    lanes = {}
    for row in result["notebooks"]:
        lane = lanes.setdefault(row["fingerprint"], {"fingerprint": row["fingerprint"], "notebooks": {}})
        lane["notebooks"].setdefault(row["notebook"], {})[row["commit"]] = {**row, "cls": verdict_class(row["verdict"])}
    for lane in lanes.values():
        used = {c for cells in lane["notebooks"].values() for c in cells}
        lane["commits"] = [c for c in commits if c in used]
    return list(lanes.values())


def _sweep_groups(result):
    """``[{example, fingerprint, statistic, rows}]``: each sweep statistic's runs in commit order."""
    groups = {}
    for row in result["sweeps"]:
        groups.setdefault((row["example"], row["fingerprint"], row["statistic"]), []).append(row)
    return [{"example": e, "fingerprint": f, "statistic": s, "rows": rows} for (e, f, s), rows in groups.items()]


def _csv(columns, rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_history(result, out):
    """history.csv, history_notebooks.csv, history_sweeps.csv and history.html in ``out`` (atomic each)."""
    from backprop_repro.history.show import COLUMNS, NOTEBOOK_COLUMNS, SWEEP_COLUMNS

    atomic.write_text(out / "history.csv", _csv(COLUMNS, result["rows"]))
    atomic.write_text(out / "history_notebooks.csv", _csv(NOTEBOOK_COLUMNS, result["notebooks"]))
    atomic.write_text(out / "history_sweeps.csv", _csv(SWEEP_COLUMNS, result["sweeps"]))
    html = TEMPLATES.get_template("history.html.j2").render(
        lanes=_lanes(result), commits=result["commits"], changes=result["changes"], sweeps=_sweep_groups(result),
        n_quantities=len({r["quantity"] for r in result["rows"]}), notebook_lanes=_notebook_lanes(result),
        verdict_changes=result["verdict_changes"], n_notebooks=len({r["notebook"] for r in result["notebooks"]}))
    atomic.write_text(out / "history.html", html)


def _change_text(ulp, changed, dtype=None):
    if changed == "missing":
        return "missing"
    if ulp == "" or ulp is None:
        return "text changed" if dtype == "str" else "dtype or shape changed"
    return f"{ulp} ULP, {changed} element{'' if changed == 1 else 's'}"


def _row_change(row):
    return _change_text(row["max_ulp_to_previous"], row["changed_elements"], row["dtype"])


def _interval(row):
    if row["wilson95_low"] == "":
        return ""
    return f" [{row['wilson95_low']:.4f}, {row['wilson95_high']:.4f}]"


def _sweep_line(group):
    """One sweep statistic over commits: first and latest value with their Wilson intervals, the commits whose
    interval does not overlap the previous one's."""
    rows = group["rows"]
    value = lambda r: (f"{r['value']:.4f}" if r["value"] != "" else "no value") + \
        f"{_interval(r)} at {r['commit'][:10]} ({r['n_seeds']} seeds)"   # noqa: E731
    text = value(rows[0]) if len(rows) == 1 else f"{value(rows[0])} -> {value(rows[-1])}"
    apart = [r["commit"][:10] for r in rows if r["interval_overlaps_previous"] == "false"]
    return (f"sweep {group['example']} {group['statistic']} on {group['fingerprint']}: {text}; "
            + (f"intervals apart from the previous commit's at {', '.join(apart)}" if apart
               else "one commit so far" if len(rows) == 1
               else f"every interval overlaps the previous one ({len(rows)} commits)"))


def console_lines(result):
    """One line per quantity whose bits changed (the commits with the ULP distance, per fingerprint), per notebook
    whose verdict changed, and per sweep statistic over time."""
    lines = []
    for quantity, per_fp in result["changes"].items():
        parts = [", ".join(f"{r['commit'][:10]} ({_row_change(r)})" for r in rows) + f" on {fp}"
                 for fp, rows in per_fp.items()]
        lines.append(f"{quantity}: bits changed at " + "; ".join(parts))
    if not result["changes"] and result["rows"]:
        runs = len(result["rows"])
        lines.append(f"no quantity's bits changed ({runs} run{'s' * (runs != 1)} of quantities compared)")
    for notebook, per_fp in result["verdict_changes"].items():
        parts = [", ".join(f"{r['commit'][:10]} ({r['previous_verdict']} -> {r['verdict']}"
                           + (f", {r['differences_by_kind']}" if r["differences_by_kind"] else "") + ")"
                           for r in rows) + f" on {fp}" for fp, rows in per_fp.items()]
        lines.append(f"notebook:{notebook}: verdict changed at " + "; ".join(parts))
    if not result["verdict_changes"] and result["notebooks"]:
        runs = len(result["notebooks"])
        lines.append(f"no notebook's verdict changed ({runs} run{'s' * (runs != 1)} of notebooks compared)")
    lines += [_sweep_line(g) for g in _sweep_groups(result)]
    if not lines:
        lines.append("the history holds nothing to show")
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
