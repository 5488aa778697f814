"""The history tables: for each quantity and environment fingerprint its runs in commit order, whether each is
bit-identical to the previous run of the same fingerprint, the largest ULP distance to it, and the commits where the
bits changed. For exact data no statistics are needed: a change of bits is a change.

At a commit with several runs of one fingerprint the latest run stands for it (``runs_at_commit`` says how many
there were, ``runs_differing_at_commit`` how many of them had other bits: a non-deterministic quantity).

Notebook verdicts (``notebook:PATH``) and seed-sweep statistics with their Wilson 95% intervals get the same
treatment in their own tables: per notebook (or sweep statistic) and fingerprint, the latest run at each commit in
commit order, against the previous one."""

import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from backprop_repro.core.errors import BadInput
from backprop_repro.core.policies import ulp_distance
from backprop_repro.history.store import decode_value

__all__ = ["COLUMNS", "NOTEBOOK_COLUMNS", "SWEEP_COLUMNS", "compare_values", "history", "selection"]

COLUMNS = ("quantity", "fingerprint", "commit", "date", "bit_identical_to_previous", "max_ulp_to_previous",
           "changed_elements", "previous_commit", "dtype", "shape", "policy", "status", "runs_at_commit",
           "runs_differing_at_commit", "committed", "subject")
# the first 12 are the view notebook_history's columns (store.py)
NOTEBOOK_COLUMNS = ("notebook", "fingerprint", "commit", "date", "verdict", "previous_verdict", "verdict_changed",
                    "cause", "runs", "numbers_compared", "numbers_reproduced", "differences", "differences_by_kind",
                    "previous_commit", "runs_at_commit", "verdicts_at_commit", "committed", "subject")
SWEEP_COLUMNS = ("example", "fingerprint", "commit", "date", "statistic", "value", "count", "n_seeds", "wilson95_low",
                 "wilson95_high", "interval_overlaps_previous", "previous_commit", "status", "verdict", "partial",
                 "runs_at_commit", "committed", "subject")
NOTEBOOK_PREFIX = "notebook:"

_RUNS = """SELECT q.example, q.quantity, r.fingerprint, r.git_commit, r.created, r.run_id, q.dtype, q.shape, q.value,
q.text, q.policy, q.status FROM quantities q JOIN runs r ON r.run_id = q.run_id
ORDER BY q.example, q.quantity, r.fingerprint, r.git_commit, r.created, r.run_id"""
# the order of the view `history` (store.py): depth, then committer date (else the first run's date), then hash
_NOTEBOOKS = """SELECT n.notebook, n.verdict, n.cause, n.runs, n.numbers_compared, n.numbers_reproduced, n.differences,
n.kinds, r.fingerprint, r.git_commit, r.created, r.run_id FROM notebooks n JOIN runs r ON r.run_id = n.run_id
ORDER BY n.notebook, r.fingerprint, r.git_commit, r.created, r.run_id"""
_SWEEPS = """SELECT s.example, r.fingerprint, r.git_commit, r.created, r.run_id, s.entry FROM sweeps s
JOIN runs r ON r.run_id = s.run_id ORDER BY s.example, r.fingerprint, r.git_commit, r.created, r.run_id"""
_COMMITS = """SELECT r.git_commit, COALESCE(c.committed, MIN(r.created)) AS commit_key, c.committed, c.subject, c.depth
FROM runs r LEFT JOIN commits c ON c.git_commit = r.git_commit GROUP BY r.git_commit
ORDER BY c.depth IS NULL, c.depth, commit_key, r.git_commit"""


def compare_values(previous, current):
    """``(bit_identical, max_ulp, changed_elements)`` of one stored value against the previous one, each a dict with
    ``dtype``, ``shape`` (JSON), ``value`` (bytes) and ``text``. ``max_ulp`` is None where ULPs mean nothing (text,
    another dtype or shape)."""
    same_kind = previous["dtype"] == current["dtype"] and previous["shape"] == current["shape"]
    if not same_kind:
        return False, None, None
    if current["dtype"] == "str" or current["value"] is None or previous["value"] is None:
        same = previous["text"] == current["text"] and previous["value"] == current["value"]
        return same, None, 0 if same else 1
    if previous["value"] == current["value"]:
        return True, 0, 0
    a = decode_value(current["value"], None, current["dtype"], current["shape"])
    b = decode_value(previous["value"], None, previous["dtype"], previous["shape"])
    width = a.dtype.itemsize
    changed = int(np.any(np.frombuffer(current["value"], np.uint8).reshape(-1, width)
                         != np.frombuffer(previous["value"], np.uint8).reshape(-1, width), axis=1).sum())
    ulps = ulp_distance(a, b)
    return False, max(ulps) if ulps else 0, changed


def _has_notebooks(con):
    return con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'notebooks'").fetchone()[0] > 0


def notebook_selection(con, wanted):
    """The notebook paths ``wanted`` names (``notebook:PATH``; all when nothing is named, none when only quantities
    are); BadInput for a notebook the history does not hold."""
    held = ([n for n, in con.execute("SELECT DISTINCT notebook FROM notebooks ORDER BY 1")] if _has_notebooks(con)
            else [])
    if not wanted:
        return held
    names = [w[len(NOTEBOOK_PREFIX):] for w in wanted if w.startswith(NOTEBOOK_PREFIX)]
    for name in names:
        if name not in held:
            near = [n for n in held if Path(n).name == Path(name).name] or held   # the same file elsewhere first
            shown = ", ".join(near[:10]) + (f" and {len(near) - 10} more" if len(near) > 10 else "")
            raise BadInput(f"{NOTEBOOK_PREFIX}{name}: the history holds no such notebook; notebooks held: "
                           f"{shown or 'none'}")
    return list(dict.fromkeys(names))


def selection(con, wanted):
    """The (example, quantity) pairs ``wanted`` names (``ID`` or ``ID:QUANTITY``; all when nothing is named, none
    when only notebooks are); BadInput for a name the history does not hold."""
    held = [tuple(r) for r in con.execute("SELECT DISTINCT example, quantity FROM quantities ORDER BY 1, 2")]
    if not wanted:
        return held
    swept = {e for e, in con.execute("SELECT DISTINCT example FROM sweeps")}
    chosen = []
    for name in (w for w in wanted if not w.startswith(NOTEBOOK_PREFIX)):
        example, _, quantity = name.partition(":")
        match = [p for p in held if p[0] == example and (not quantity or p[1] == quantity)]
        if not match and not quantity and example in swept:   # an example with sweeps alone
            continue
        if not match:
            known = sorted({p[0] for p in held} | swept)
            raise BadInput(f"{name}: the history holds no such {'quantity' if quantity else 'example'}; examples held: "
                           f"{', '.join(known) or 'none'} (see `backprop-repro history show` for all)")
        chosen += match
    return list(dict.fromkeys(chosen))


def _latest_per_commit(rows):
    """``{(example, quantity, fingerprint): {commit: (latest run, runs, runs differing from it)}}``."""
    grouped = defaultdict(lambda: defaultdict(list))
    for r in rows:
        grouped[(r["example"], r["quantity"], r["fingerprint"])][r["git_commit"]].append(r)
    out = {}
    for key, commits in grouped.items():
        out[key] = {}
        for commit, runs in commits.items():
            latest = runs[-1]   # ordered by created, run_id
            differing = sum(1 for r in runs[:-1] if not compare_values(latest, r)[0])
            out[key][commit] = (latest, len(runs), differing)
    return out


def _lane_rows(key, per_commit, commits):
    """The CSV rows of one quantity and fingerprint, in commit order, each against the previous one."""
    example, quantity, fp = key
    rows, previous = [], None
    for commit in (c for c in commits if c in per_commit):
        run, n_runs, differing = per_commit[commit]
        same, ulp, changed = compare_values(previous[0], run) if previous else (None, None, None)
        rows.append({
            "quantity": f"{example}:{quantity}", "fingerprint": fp, "commit": commit, "date": run["created"],
            "bit_identical_to_previous": "" if same is None else ("true" if same else "false"),
            "max_ulp_to_previous": "" if ulp is None else ulp, "changed_elements": "" if changed is None else changed,
            "previous_commit": previous[1] if previous else "", "dtype": run["dtype"],
            "shape": "x".join(map(str, json.loads(run["shape"]))), "policy": run["policy"] or "",
            "status": run["status"] or "", "runs_at_commit": n_runs, "runs_differing_at_commit": differing,
            "committed": commits[commit]["committed"] or "", "subject": commits[commit]["subject"] or ""})
        previous = (run, commit)
    return rows


def _commit_rows(rows, key_of, commits):
    """``{key: [(commit, [runs at it, oldest first]), ...] in commit order}`` of rows ordered by created, run_id."""
    grouped = defaultdict(lambda: defaultdict(list))
    for r in rows:
        grouped[key_of(r)][r["git_commit"]].append(r)
    return {key: [(c, per[c]) for c in commits if c in per] for key, per in sorted(grouped.items())}


def _kinds_text(kinds_json):
    kinds = json.loads(kinds_json or "{}")
    return " ".join(f"{k}:{n}" for k, n in kinds.items() if n)


def notebook_rows(rows, commits):
    """The history_notebooks.csv rows: per notebook and fingerprint, the latest run's verdict at each commit, its
    previous verdict and whether the verdict changed."""
    table = []
    for (notebook, fp), lane in _commit_rows(rows, lambda r: (r["notebook"], r["fingerprint"]), commits).items():
        previous = None
        for commit, runs in lane:
            run = runs[-1]
            table.append({
                "notebook": notebook, "fingerprint": fp, "commit": commit, "date": run["created"],
                "verdict": run["verdict"], "previous_verdict": previous[0]["verdict"] if previous else "",
                "verdict_changed": "" if previous is None else ("true" if run["verdict"] != previous[0]["verdict"]
                                                                else "false"),
                "cause": run["cause"] or "", **{k: "" if run[k] is None else run[k] for k in
                                                ("runs", "numbers_compared", "numbers_reproduced", "differences")},
                "differences_by_kind": _kinds_text(run["kinds"]), "previous_commit": previous[1] if previous else "",
                "runs_at_commit": len(runs), "verdicts_at_commit": " ".join(dict.fromkeys(r["verdict"] for r in runs)),
                "committed": commits[commit]["committed"] or "", "subject": commits[commit]["subject"] or ""})
            previous = (run, commit)
    return table


def _statistics(entry):
    """``[(statistic, value, count, (low, high) or None)]`` of one sweep entry: each convergence rate and the share
    of seeds at least as good as the document's run, with their Wilson 95% intervals."""
    out = []
    convergence, document = entry.get("convergence"), entry.get("document")
    # entries are kept as written (any shape in a version 1 database): what is not a number or a pair is no value
    for threshold, c in convergence.items() if isinstance(convergence, dict) else ():
        if isinstance(c, dict):
            count = c.get("converged")
            out.append((f"converged within {threshold}", _number(c.get("rate")),
                        count if isinstance(count, int) and not isinstance(count, bool) else None,
                        _pair(c.get("wilson95"))))
    if isinstance(document, dict) and "share_at_least_as_good" in document:
        out.append(("share at least as good as the document", _number(document["share_at_least_as_good"]), None,
                    _pair(document.get("share_wilson95"))))
    return out


def _number(value):
    """A finite number, else None."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return value if ok else None


def _pair(value):
    """An interval (low, high) of two numbers, else None."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(_number(v) is not None for v in value):
        return tuple(value)
    return None


def _overlap(a, b):
    if not a or not b:
        return ""
    return "true" if a[0] <= b[1] and b[0] <= a[1] else "false"


def sweep_rows(rows, commits):
    """The history_sweeps.csv rows: per example, fingerprint and statistic, the latest sweep at each commit with its
    Wilson 95% interval and whether that interval overlaps the previous commit's (two that do not: a change beyond
    sampling noise)."""
    table = []
    for (example, fp), lane in _commit_rows(rows, lambda r: (r["example"], r["fingerprint"]), commits).items():
        previous = {}
        for commit, runs in lane:
            entry = json.loads(runs[-1]["entry"])
            if not isinstance(entry, dict):
                continue
            for statistic, value, n, interval in _statistics(entry):
                before = previous.get(statistic)
                table.append({
                    "example": example, "fingerprint": fp, "commit": commit, "date": runs[-1]["created"],
                    "statistic": statistic, "value": "" if value is None else value, "count": "" if n is None else n,
                    "n_seeds": entry.get("n_seeds", ""), "wilson95_low": interval[0] if interval else "",
                    "wilson95_high": interval[1] if interval else "",
                    "interval_overlaps_previous": _overlap(interval, before[0]) if before else "",
                    "previous_commit": before[1] if before else "", "status": entry.get("status") or "",
                    "verdict": entry.get("verdict") or "", "partial": "true" if entry.get("partial") else "false",
                    "runs_at_commit": len(runs), "committed": commits[commit]["committed"] or "",
                    "subject": commits[commit]["subject"] or ""})
                previous[statistic] = (interval, commit)
    return table


def history(con, wanted=()):
    """The history of what ``wanted`` names (``ID``, ``ID:QUANTITY``, ``notebook:PATH``; everything when empty):
    ``{"rows": CSV rows, "notebooks": notebook rows, "sweeps": sweep rows, "commits": {hash: info} in commit order,
    "fingerprints": {hash: fields}, "changes": {quantity: {fingerprint: [row, ...]}}, "verdict_changes": {notebook:
    {fingerprint: [row, ...]}}}``."""
    chosen = set(selection(con, wanted))
    chosen_notebooks = set(notebook_selection(con, wanted))
    examples = {w.partition(":")[0] for w in wanted if not w.startswith(NOTEBOOK_PREFIX)}
    con.row_factory = _dict_row
    commits = {r["git_commit"]: r for r in con.execute(_COMMITS)}
    rows = [r for r in con.execute(_RUNS) if (r["example"], r["quantity"]) in chosen]
    fingerprints = {r["fingerprint"]: r for r in con.execute("SELECT * FROM fingerprints ORDER BY fingerprint")}
    sweeps = [r for r in con.execute(_SWEEPS) if not wanted or r["example"] in examples]
    notebooks = [r for r in con.execute(_NOTEBOOKS) if r["notebook"] in chosen_notebooks] \
        if chosen_notebooks else []
    con.row_factory = None
    table = []
    for key, per_commit in sorted(_latest_per_commit(rows).items()):
        table += _lane_rows(key, per_commit, commits)
    changes = defaultdict(dict)
    for r in table:
        if r["bit_identical_to_previous"] == "false":
            changes[r["quantity"]].setdefault(r["fingerprint"], []).append(r)
    nb_table = notebook_rows(notebooks, commits)
    verdict_changes = defaultdict(dict)
    for r in nb_table:
        if r["verdict_changed"] == "true":
            verdict_changes[r["notebook"]].setdefault(r["fingerprint"], []).append(r)
    return {"rows": table, "commits": commits, "fingerprints": fingerprints, "changes": dict(changes),
            "notebooks": nb_table, "verdict_changes": dict(verdict_changes), "sweeps": sweep_rows(sweeps, commits)}


def _dict_row(cursor, row):
    return {d[0]: v for d, v in zip(cursor.description, row)}
