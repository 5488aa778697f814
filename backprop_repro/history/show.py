"""The history tables: for each quantity and environment fingerprint its runs in commit order, whether each is
bit-identical to the previous run of the same fingerprint, the largest ULP distance to it, and the commits where the
bits changed. For exact data no statistics are needed: a change of bits is a change.

At a commit with several runs of one fingerprint the latest run stands for it (``runs_at_commit`` says how many
there were, ``runs_differing_at_commit`` how many of them had other bits: a non-deterministic quantity)."""

import json
from collections import defaultdict

import numpy as np

from backprop_repro.core.errors import BadInput
from backprop_repro.core.policies import ulp_distance
from backprop_repro.history.store import decode_value

__all__ = ["COLUMNS", "compare_values", "history", "selection"]

COLUMNS = ("quantity", "fingerprint", "commit", "date", "bit_identical_to_previous", "max_ulp_to_previous",
           "changed_elements", "previous_commit", "dtype", "shape", "policy", "status", "runs_at_commit",
           "runs_differing_at_commit", "committed", "subject")

_RUNS = """SELECT q.example, q.quantity, r.fingerprint, r.git_commit, r.created, r.run_id, q.dtype, q.shape, q.value,
q.text, q.policy, q.status FROM quantities q JOIN runs r ON r.run_id = q.run_id
ORDER BY q.example, q.quantity, r.fingerprint, r.git_commit, r.created, r.run_id"""
# the order of the view `history` (store.py): depth, then committer date (else the first run's date), then hash
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


def selection(con, wanted):
    """The (example, quantity) pairs ``wanted`` names (``ID`` or ``ID:QUANTITY``; all when empty); BadInput for a
    name the history does not hold."""
    held = [tuple(r) for r in con.execute("SELECT DISTINCT example, quantity FROM quantities ORDER BY 1, 2")]
    if not wanted:
        return held
    chosen = []
    for name in wanted:
        example, _, quantity = name.partition(":")
        match = [p for p in held if p[0] == example and (not quantity or p[1] == quantity)]
        if not match:
            known = sorted({p[0] for p in held})
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


def history(con, wanted=()):
    """The history of the quantities ``wanted`` names: ``{"rows": CSV rows, "commits": {hash: info} in commit order,
    "fingerprints": {hash: fields}, "changes": {quantity: {fingerprint: [row, ...]}}, "sweeps": [...]}``."""
    chosen = set(selection(con, wanted))
    con.row_factory = _dict_row
    commits = {r["git_commit"]: r for r in con.execute(_COMMITS)}
    rows = [r for r in con.execute(_RUNS) if (r["example"], r["quantity"]) in chosen]
    fingerprints = {r["fingerprint"]: r for r in con.execute("SELECT * FROM fingerprints ORDER BY fingerprint")}
    sweeps = [r for r in con.execute(
        "SELECT s.example, r.fingerprint, r.git_commit, r.created, s.entry FROM sweeps s JOIN runs r "
        "ON r.run_id = s.run_id ORDER BY s.example, r.fingerprint, r.created")
        if not wanted or any(w.partition(":")[0] == r["example"] for w in wanted)]
    con.row_factory = None
    table = []
    for key, per_commit in sorted(_latest_per_commit(rows).items()):
        table += _lane_rows(key, per_commit, commits)
    changes = defaultdict(dict)
    for r in table:
        if r["bit_identical_to_previous"] == "false":
            changes[r["quantity"]].setdefault(r["fingerprint"], []).append(r)
    return {"rows": table, "commits": commits, "fingerprints": fingerprints, "changes": dict(changes),
            "sweeps": [{**s, "entry": json.loads(s["entry"])} for s in sweeps]}


def _dict_row(cursor, row):
    return {d[0]: v for d, v in zip(cursor.description, row)}
