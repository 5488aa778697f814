"""`backprop-repro history`: add (idempotent, full precision, safe under concurrent adds, bad databases and records
refused), show (bit changes and ULP distances in history.csv / history.html, the SQL view gives the same rows) and
bisect (the search, and a temporary git repository with a constant changed at a known commit)."""

import csv
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from backprop_repro.cli.program import main
from backprop_repro.history import bisect as bisect_mod
from backprop_repro.history import store
from backprop_repro.history.show import compare_values

ROOT = Path(__file__).resolve().parent.parent
ENV = {"python": "3.11.7", "numpy": "2.4.6", "platform": "Linux-6.18.44-fc-v657-x86_64-with-glibc2.36",
       "system": "Linux", "machine": "x86_64", "cpu": "Test CPU", "simd_targets": ["X86_V2", "X86_V3"],
       "blas": "scipy-openblas 0.3.31", "blas_core": "Haswell"}
LOSSES = [0.33455008989960927, 0.31207511631926566, 0.2911120956789758]
WEIGHTS = np.array([[0.1, -0.25, 3.0e-39], [1.5, 2.0, -0.0]], dtype=np.float32)   # 3e-39: a float32 subnormal


def next_after(x, dtype=np.float64):
    return float(np.nextafter(dtype(x), dtype(np.inf)))


def make_record(commit, created, losses=LOSSES, weights=WEIGHTS, env=None, text="boom"):
    rows = [{"example": "toy", "quantity": "losses", "dtype": "float64", "shape": [len(losses)], "actual": losses,
             "policy": "exact", "status": "pass"},
            {"example": "toy", "quantity": "final_weights.0", "dtype": "float32", "shape": list(weights.shape),
             "actual": np.asarray(weights).tolist(), "policy": "ulp:4", "status": "pass"},
            {"example": "other", "quantity": "original_error", "dtype": "str", "shape": [], "actual": text,
             "policy": "exact", "status": "pass"}]
    return {"schema_version": 1, "environment": {**ENV, **(env or {}), "git_commit": commit, "created": created},
            "results": rows, "claims": [], "exit_status": 0}


def write(path, record):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return path


def run_cli(*argv, capsys=None):
    code = main([str(a) for a in argv])
    out = capsys.readouterr() if capsys is not None else None
    return code, out


def count(db, table):
    con = sqlite3.connect(db)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


# --- add ----------------------------------------------------------------------------------------------------------

def test_add_is_idempotent_over_files_folders_and_patterns(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    a = write(tmp_path / "a" / "results.json", make_record("a" * 40, "2026-01-01T00:00:00+00:00"))
    write(tmp_path / "b" / "deep" / "results.json", make_record("b" * 40, "2026-01-02T00:00:00+00:00"))
    assert run_cli("history", "add", a, "--db", db, capsys=capsys)[0] == 0
    assert (count(db, "runs"), count(db, "quantities")) == (1, 3)
    code, out = run_cli("history", "add", a, tmp_path / "a", str(tmp_path / "*"), "--db", db, capsys=capsys)
    assert code == 0 and "added 1 of 2 records (1 already there)" in out.out   # b is new, a is not added again
    assert (count(db, "runs"), count(db, "quantities")) == (2, 6)
    assert run_cli("history", "add", tmp_path, "--db", db, capsys=capsys)[0] == 0
    assert count(db, "runs") == 2


def test_a_record_that_differs_in_one_bit_is_a_new_run(tmp_path):
    db = tmp_path / "h.sqlite"
    same_key = ("a" * 40, "2026-01-01T00:00:00+00:00")
    store.add_records([write(tmp_path / "1.json", make_record(*same_key))], db)
    changed = make_record(*same_key, losses=[LOSSES[0], next_after(LOSSES[1]), LOSSES[2]])
    assert len(store.add_records([write(tmp_path / "2.json", changed)], db)) == 1
    assert store.add_records([write(tmp_path / "3.json", changed)], db) == []


def test_values_are_kept_to_the_bit(tmp_path):
    db = tmp_path / "h.sqlite"
    losses = [0.1, next_after(0.1), 5e-324, -0.0]
    store.add_records([write(tmp_path / "r.json", make_record("a" * 40, "2026-01-01T00:00:00+00:00", losses))], db)
    con = store.connect(db)
    query = "SELECT quantity, dtype, shape, value, text FROM quantities"
    rows = {q: (d, s, v, t) for q, d, s, v, t in con.execute(query)}
    got = store.decode_value(rows["losses"][2], None, "float64", rows["losses"][1])
    assert got.dtype == np.float64 and got.tobytes() == np.array(losses).tobytes()
    w = store.decode_value(rows["final_weights.0"][2], None, "float32", rows["final_weights.0"][1])
    assert w.dtype == np.float32 and w.shape == (2, 3) and w.tobytes() == WEIGHTS.tobytes()
    assert rows["original_error"][3] == "boom"
    assert con.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert con.execute("SELECT version FROM schema_version").fetchone()[0] == store.SCHEMA_VERSION


def test_fingerprint_is_stable_and_sees_what_changes_numbers():
    fp, fields = store.fingerprint(ENV)
    assert fp == store.fingerprint(dict(ENV))[0] and len(fp) == 12
    assert fields == {"os": "Linux x86_64 glibc2.36", "cpu": "Test CPU", "simd": "X86_V2 X86_V3",
                      "blas": "scipy-openblas 0.3.31 Haswell", "python": "3.11.7", "numpy": "2.4.6"}
    assert store.fingerprint({**ENV, "platform": "Linux-6.1.0-x86_64-with-glibc2.36"})[0] == fp   # kernel only
    for key, value in [("simd_targets", ["X86_V2"]), ("blas_core", "SkylakeX"), ("numpy", "1.26.4"),
                       ("python", "3.12.1"), ("cpu", "Other"), ("platform", "Linux-6.18-x86_64-with-glibc2.39")]:
        assert store.fingerprint({**ENV, key: value})[0] != fp, key


def _one_line_error(capsys, name):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and name in err and "Traceback" not in err
    return err


def test_a_corrupt_or_foreign_database_is_bad_input(tmp_path, capsys):
    record = write(tmp_path / "r.json", make_record("a" * 40, "2026-01-01T00:00:00+00:00"))
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"not a database at all" * 100)
    assert run_cli("history", "add", record, "--db", corrupt) == (2, None)
    _one_line_error(capsys, str(corrupt))
    assert run_cli("history", "show", "--db", corrupt, "--out", tmp_path / "o") == (2, None)
    _one_line_error(capsys, str(corrupt))
    foreign = tmp_path / "foreign.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE runs (x)")
    con.commit()
    con.close()
    assert run_cli("history", "add", record, "--db", foreign) == (2, None)
    assert "without the history schema" in _one_line_error(capsys, str(foreign))
    newer = tmp_path / "newer.sqlite"
    store.add_records([record], newer)
    con = sqlite3.connect(newer)
    con.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    con.close()
    assert run_cli("history", "show", "--db", newer, "--out", tmp_path / "o") == (2, None)
    assert f"schema_version {store.SCHEMA_VERSION + 1}" in _one_line_error(capsys, str(newer))
    assert run_cli("history", "add", record, "--db", newer) == (2, None)   # never "migrated" downwards
    _one_line_error(capsys, str(newer))
    assert run_cli("history", "show", "--db", tmp_path / "missing.sqlite") == (2, None)
    _one_line_error(capsys, "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()


def test_a_record_of_another_schema_is_bad_input_and_nothing_is_added(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    good = write(tmp_path / "good.json", make_record("a" * 40, "2026-01-01T00:00:00+00:00"))
    other = write(tmp_path / "other.json", {**make_record("b" * 40, "2026-01-02T00:00:00+00:00"), "schema_version": 2})
    assert run_cli("history", "add", good, other, "--db", db) == (2, None)
    _one_line_error(capsys, str(other))
    assert not db.exists()   # all or nothing: no new database file either
    no_commit = make_record("a" * 40, "2026-01-01T00:00:00+00:00")
    del no_commit["environment"]["git_commit"]
    assert run_cli("history", "add", write(tmp_path / "nc.json", no_commit), "--db", db) == (2, None)
    _one_line_error(capsys, "nc.json")
    assert run_cli("history", "add", tmp_path / "nothing-here", "--db", db) == (2, None)
    _one_line_error(capsys, "nothing-here")


def test_two_processes_adding_at_once_both_land(tmp_path):
    db = tmp_path / "h.sqlite"
    folders = []
    for p in range(2):
        for i in range(15):
            write(tmp_path / f"p{p}" / f"r{i}" / "results.json",
                  make_record(f"{p}{i:02d}".ljust(40, "c"), f"2026-01-01T00:{i:02d}:0{p}+00:00"))
        folders.append(tmp_path / f"p{p}")
    procs = [subprocess.Popen([sys.executable, "-m", "backprop_repro", "history", "add", str(f), "--db", str(db)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in folders]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert count(db, "runs") == 30 and count(db, "quantities") == 90
    assert count(db, "schema_version") == 1


# --- show ---------------------------------------------------------------------------------------------------------

def _three_commits(tmp_path, db):
    """Commits A, B (losses[1] one ULP up, weights[0,0] one float32 ULP up, the error text changed), C (same as B),
    on one fingerprint; on a second fingerprint A and C with A's values."""
    w1 = WEIGHTS.copy()
    w1[0, 0] = np.nextafter(w1[0, 0], np.float32(np.inf))
    b_losses = [LOSSES[0], next_after(LOSSES[1]), LOSSES[2]]
    records = [make_record("a" * 40, "2026-01-01T00:00:00+00:00"),
               make_record("b" * 40, "2026-01-02T00:00:00+00:00", b_losses, w1, text="boom!"),
               make_record("c" * 40, "2026-01-03T00:00:00+00:00", b_losses, w1, text="boom!"),
               make_record("a" * 40, "2026-01-01T01:00:00+00:00", env={"blas_core": "SkylakeX"}),
               make_record("c" * 40, "2026-01-03T01:00:00+00:00", env={"blas_core": "SkylakeX"})]
    store.add_records([write(tmp_path / "in" / f"{i}.json", r) for i, r in enumerate(records)], db)


def _csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_show_reports_a_one_ulp_change_and_identical_runs(tmp_path, capsys):
    db, out = tmp_path / "h.sqlite", tmp_path / "out"
    _three_commits(tmp_path, db)
    code, printed = run_cli("history", "show", "--db", db, "--out", out, capsys=capsys)
    assert code == 0
    rows = _csv(out / "history.csv")
    fp1 = store.fingerprint(ENV)[0]
    lane = [r for r in rows if r["quantity"] == "toy:losses" and r["fingerprint"] == fp1]
    assert [(r["commit"][0], r["bit_identical_to_previous"], r["max_ulp_to_previous"], r["changed_elements"])
            for r in lane] == [("a", "", "", ""), ("b", "false", "1", "1"), ("c", "true", "0", "0")]
    weights = [r for r in rows if r["quantity"] == "toy:final_weights.0" and r["fingerprint"] == fp1]
    assert [(r["bit_identical_to_previous"], r["max_ulp_to_previous"]) for r in weights] == \
        [("", ""), ("false", "1"), ("true", "0")]
    text = [r for r in rows if r["quantity"] == "other:original_error" and r["fingerprint"] == fp1]
    assert [r["bit_identical_to_previous"] for r in text] == ["", "false", "true"]
    fp2 = store.fingerprint({**ENV, "blas_core": "SkylakeX"})[0]
    other_lane = [r for r in rows if r["quantity"] == "toy:losses" and r["fingerprint"] == fp2]
    assert [(r["commit"][0], r["bit_identical_to_previous"]) for r in other_lane] == [("a", ""), ("c", "true")]
    lines = [line for line in printed.out.splitlines() if "bits changed" in line]
    assert len(lines) == 3 and any(line == f"toy:losses: bits changed at bbbbbbbbbb (1 ULP, 1 element) on {fp1}"
                                   for line in lines)
    html = (out / "history.html").read_text()
    assert html.count('class="u1 changed"') == 2 and html.count('class="other changed"') == 1
    assert html.count('class="same"') == 1 + 3 + 3   # the legend; C after B on fp1, C after A on fp2


def test_show_of_identical_records_marks_no_change(tmp_path, capsys):
    db, out = tmp_path / "h.sqlite", tmp_path / "out"
    store.add_records([write(tmp_path / f"{c}.json", make_record(c * 40, f"2026-01-0{i + 1}T00:00:00+00:00"))
                       for i, c in enumerate("abc")], db)
    assert run_cli("history", "show", "toy:losses", "--db", db, "--out", out, capsys=capsys)[0] == 0
    rows = _csv(out / "history.csv")
    assert [r["quantity"] for r in rows] == ["toy:losses"] * 3
    assert [r["bit_identical_to_previous"] for r in rows] == ["", "true", "true"]
    assert 'changed"' not in (out / "history.html").read_text()


def test_the_sql_view_gives_the_csv_rows(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    db, out = tmp_path / "h.sqlite", tmp_path / "out"
    _three_commits(tmp_path, db)
    store.add_records([write(tmp_path / "again.json", make_record("b" * 40, "2026-01-04T00:00:00+00:00"))], db)
    assert run_cli("history", "show", "--db", db, "--out", out, capsys=capsys)[0] == 0
    con = sqlite3.connect(db)
    view = pd.read_sql("SELECT * FROM history", con).fillna("")
    con.close()
    cols = ["quantity", "fingerprint", "commit", "date", "bit_identical_to_previous"]
    frame = pd.read_csv(out / "history.csv", dtype=str, keep_default_na=False)[cols]
    assert view[cols].values.tolist() == frame.values.tolist()
    assert "false" in frame["bit_identical_to_previous"].tolist()


def test_compare_values_sees_every_kind_of_change():
    def stored(value, dtype="float64"):
        blob, text = store.encode_value(value, dtype, list(np.shape(value)) if dtype != "str" else [])
        return {"dtype": dtype, "shape": json.dumps(list(np.shape(value))) if dtype != "str" else "[]",
                "value": blob, "text": text}

    assert compare_values(stored([1.0, 2.0]), stored([1.0, 2.0])) == (True, 0, 0)
    assert compare_values(stored([1.0, 2.0]), stored([1.0, next_after(2.0)])) == (False, 1, 1)
    assert compare_values(stored([1.0, 2.0]), stored([1.0, 2.0 + 2 ** -40])) == (False, 2 ** 11, 1)   # spacing 2**-51
    assert compare_values(stored([0.0]), stored([-0.0]))[0] is False   # other bits, though 0 ULP apart
    assert compare_values(stored([1.0, 2.0]), stored([1.0, 2.0], "float32"))[:2] == (False, None)
    assert compare_values(stored([1.0, 2.0]), stored([[1.0, 2.0]]))[:2] == (False, None)
    assert compare_values(stored("a", "str"), stored("b", "str")) == (False, None, 1)
    assert compare_values(stored([None, 1.0]), stored([None, 1.0])) == (True, 0, 0)   # JSON null (non-finite)


# --- bisect -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 7, 31, 100])
def test_search_finds_the_first_change_within_the_bound(n):
    bound = math.ceil(math.log2(n + 1))
    for first in list(range(n)) + [None]:
        calls = []

        def probe(i):
            calls.append(i)
            return first is not None and i >= first

        result = bisect_mod.search(n, probe)
        assert result["first"] == first and result["changed"] == (first is not None)
        assert len(calls) <= bound and len(set(calls)) == len(calls)


def test_search_skips_commits_that_cannot_run():
    probe = lambda i: None if i in (1, 2) else i >= 5   # noqa: E731
    result = bisect_mod.search(8, probe)
    assert result["first"] == 5 and (1, None) not in result["probed"]
    probe = lambda i: None if i in (3, 4) else i >= 5   # noqa: E731 - 3 and 4 cannot run: the change may be there
    result = bisect_mod.search(8, probe)
    assert result["first"] is None and result["changed"] and result["candidates"] == [3, 4, 5]
    probe = lambda i: None if i in (4, 5) else i >= 5   # noqa: E731 - the first change itself cannot run
    result = bisect_mod.search(8, probe)
    assert result["first"] is None and result["changed"] and result["candidates"] == [4, 5, 6]
    result = bisect_mod.search(4, lambda i: None)
    assert result == {"first": None, "changed": False, "candidates": [0, 1, 2, 3], "probed": result["probed"]}


# --- bisect on a throwaway git repository -------------------------------------------------------------------------

FF = "reference_impl/examples/feed_forward.py"


def _git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A clone of this checkout's HEAD plus three commits: an unrelated one, one that moves the last hidden-to-output
    weight of feed_forward by one ULP (prediction and loss change, hidden does not), another unrelated one."""
    path = tmp_path_factory.mktemp("bisect") / "repo"
    subprocess.run(["git", "clone", "--quiet", "--local", str(ROOT), str(path)], check=True)
    _git(path, "checkout", "--quiet", "-B", "bisect-test")   # on a branch, even from a detached HEAD (CI)
    _git(path, "config", "user.email", "test@example.com")
    _git(path, "config", "user.name", "test")
    source = (path / FF).read_text()
    assert "W_HIDDEN_OUTPUT = np.array([0.3, 0.5, 0.9])" in source
    for subject, edit in [("unrelated one", None), ("move a weight by one ULP", True), ("unrelated two", None)]:
        if edit:
            moved = source.replace("np.array([0.3, 0.5, 0.9])", "np.array([0.3, 0.5, 0.9000000000000001])")
            (path / FF).write_text(moved)
        else:
            (path / "NOTES.txt").write_text(subject)
            _git(path, "add", "NOTES.txt")
        _git(path, "commit", "--quiet", "-am", subject)
    return path


def _state(repo):
    return (_git(repo, "rev-parse", "HEAD"), _git(repo, "symbolic-ref", "HEAD"), _git(repo, "status", "--porcelain"),
            _git(repo, "worktree", "list", "--porcelain"))


def test_bisect_names_the_commit_that_moved_the_bits(repo, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(repo)
    (repo / "scratch.txt").write_text("the user's uncommitted file")
    before, db, out = _state(repo), tmp_path / "h.sqlite", tmp_path / "out"
    code, printed = run_cli("history", "bisect", "feed_forward", "--good", "HEAD~3", "--bad", "HEAD", "--db", db,
                            "--out", out, "--quiet", capsys=capsys)
    assert code == 0, printed
    moved = _git(repo, "rev-parse", "HEAD~1")
    assert f"first commit that moved the bits of feed_forward: {moved} move a weight by one ULP" in printed.out
    payload = json.loads((out / "bisect.json").read_text())
    assert payload["first_bad"]["commit"] == moved and payload["commits_in_range"] == 3
    assert {c["quantity"]: c["max_ulp"] for c in payload["first_bad"]["changes"]} == {"prediction": 1, "loss": 3}
    assert payload["checks"] <= math.ceil(math.log2(3 + 1)) + 1
    assert _state(repo) == before                       # HEAD, branch, working tree and worktrees as they were
    assert (repo / "scratch.txt").read_text() == "the user's uncommitted file"
    (repo / "scratch.txt").unlink()
    assert count(db, "runs") == payload["checks"]      # every probe kept in the history
    assert run_cli("history", "show", "feed_forward", "--db", db, "--out", tmp_path / "show", capsys=capsys)[0] == 0
    rows = [r for r in _csv(tmp_path / "show" / "history.csv") if r["quantity"] == "feed_forward:prediction"]
    # probed good, HEAD~1, HEAD~2; shown in commit order (git's depth), the change at HEAD~1
    assert [(r["commit"], r["bit_identical_to_previous"], r["max_ulp_to_previous"]) for r in rows] == \
        [(_git(repo, "rev-parse", "HEAD~3"), "", ""), (_git(repo, "rev-parse", "HEAD~2"), "true", "0"),
         (moved, "false", "1")]


def test_bisect_of_an_unchanged_quantity_and_bad_input(repo, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(repo)
    code, printed = run_cli("history", "bisect", "feed_forward:hidden", "--good", "HEAD~3", "--bad", "HEAD", "--db",
                            tmp_path / "h.sqlite", "--out", tmp_path / "out", "--quiet", capsys=capsys)
    assert code == 1 and "no commit between" in printed.out
    for argv, name in [(["--good", "nosuchrev", "--bad", "HEAD"], "nosuchrev"),
                       (["--good", "HEAD", "--bad", "HEAD~2"], "--good HEAD comes after --bad HEAD~2"),
                       (["--good", "HEAD", "--bad", "HEAD"], "--good HEAD and --bad HEAD are the same commit"),
                       (["--good", "HEAD~1", "--bad", "HEAD", "--repo", str(tmp_path)], str(tmp_path))]:
        assert run_cli("history", "bisect", "feed_forward", *argv, "--db", tmp_path / "new" / "h.sqlite", "--out",
                       tmp_path / "new" / "out") == (2, None)
        _one_line_error(capsys, name)
        assert not (tmp_path / "new").exists()   # bad revisions are found before --db or --out is made
    assert _git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_ctrl_c_during_bisect_leaves_the_checkout_as_it_was(repo, tmp_path):
    before, temporary = _state(repo), set(Path(tempfile.gettempdir()).glob("backprop-repro-bisect-*"))
    proc = subprocess.Popen([sys.executable, "-m", "backprop_repro", "history", "bisect", "feed_forward", "--good",
                             "HEAD~3", "--bad", "HEAD", "--db", str(tmp_path / "h.sqlite"), "--out",
                             str(tmp_path / "out")], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    while _git(repo, "worktree", "list", "--porcelain").count("worktree ") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert time.monotonic() < deadline, "no worktree appeared"
    time.sleep(0.5)   # inside the probe's check
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert _state(repo) == before
    assert set(Path(tempfile.gettempdir()).glob("backprop-repro-bisect-*")) == temporary   # its worktrees removed
    assert "interrupted" in err


def test_a_probe_never_imports_the_installed_packages_modules(tmp_path):
    """A probed commit's package that lacks a module fails to import it, even under an editable install (whose
    finder would otherwise serve the module from the installed checkout)."""
    package = tmp_path / "backprop_repro"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text("import sys\nimport backprop_repro.history\nprint(sys.argv[1:])\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", bisect_mod._BOOTSTRAP.format("backprop_repro"), "check"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode != 0 and "No module named 'backprop_repro.history'" in proc.stderr
    (package / "__main__.py").write_text("import sys\nprint(sys.argv[1:])\n")
    proc = subprocess.run([sys.executable, "-c", bisect_mod._BOOTSTRAP.format("backprop_repro"), "check", "x"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "['check', 'x']"


def test_a_database_without_its_tables_or_with_a_misfit_value_is_bad_input_on_show(tmp_path, capsys):
    import sqlite3

    from backprop_repro.cli.commands import main
    from backprop_repro.history import store

    db = tmp_path / "h.sqlite"
    store.connect(db, create=True).close()
    con = sqlite3.connect(db)
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.commit()
    con.close()
    assert main(["history", "show", "--db", str(db), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and str(db) in err


def test_an_object_dtype_never_enters_the_history():
    from backprop_repro.history import store

    with pytest.raises(ValueError):
        store.encode_value([1.0, 2.0], "object", [2])


# --- notebook verdicts and sweep statistics over time ---------------------------------------------------------------

def make_notebooks(commit, created, verdicts, env=None):
    """A `notebook` record (the shape notebooks.json has) with one entry per ``{path: (verdict, {kind: count})}``."""
    entries = []
    for path, (verdict, kinds) in verdicts.items():
        all_kinds = {k: kinds.get(k, 0) for k in store.KINDS}
        entries.append({"path": path, "verdict": verdict, "stored_outputs": True, "crash": None, "runs": 2,
                        "cause": "numpy-2" if verdict == "crashed" else None, "cause_detail": None, "failures": [],
                        "numbers_compared": 23, "numbers_stored": 24, "numbers_reproduced": 23 - sum(kinds.values()),
                        "kinds": all_kinds, "differences": [{"cell": 1, "kind": k} for k, n in kinds.items()
                                                            for _ in range(n)], "numbers": []})
    return {"schema_version": 1, "environment": {**ENV, **(env or {}), "git_commit": commit, "created": created},
            "strict_digits": False, "runs": 2, "stat_runs": 5, "skipped": [], "summary": {}, "notebooks": entries,
            "exit_status": 0}


def _notebook_history(tmp_path, db, second=("not-reproduced", {"numeric": 2})):
    """exact.ipynb at commits A (reproduced), B (``second``), C (as B); steady.ipynb reproduced throughout."""
    steady = ("reproduced", {})
    records = [make_notebooks("a" * 40, "2026-01-01T00:00:00+00:00", {"exact.ipynb": ("reproduced", {}),
                                                                        "steady.ipynb": steady}),
               make_notebooks("b" * 40, "2026-01-02T00:00:00+00:00", {"exact.ipynb": second, "steady.ipynb": steady}),
               make_notebooks("c" * 40, "2026-01-03T00:00:00+00:00", {"exact.ipynb": second, "steady.ipynb": steady})]
    return [write(tmp_path / "nb" / c / "notebooks.json", r) for c, r in zip("abc", records)]


def test_notebook_verdicts_over_time_show_the_commit_where_a_verdict_changed(tmp_path, capsys):
    db, out = tmp_path / "h.sqlite", tmp_path / "out"
    _notebook_history(tmp_path, db)
    code, printed = run_cli("history", "add", tmp_path / "nb", "--db", db, capsys=capsys)
    assert code == 0 and "added 3 of 3 records" in printed.out
    assert count(db, "notebooks") == 6
    con = sqlite3.connect(db)
    assert con.execute("SELECT DISTINCT command FROM runs").fetchall() == [("notebook",)]
    con.close()
    code, printed = run_cli("history", "show", "--db", db, "--out", out, capsys=capsys)
    assert code == 0
    rows = _csv(out / "history_notebooks.csv")
    fp = store.fingerprint(ENV)[0]
    exact = [r for r in rows if r["notebook"] == "exact.ipynb"]
    assert [(r["commit"][0], r["fingerprint"], r["verdict"], r["previous_verdict"], r["verdict_changed"],
             r["differences"], r["differences_by_kind"], r["numbers_reproduced"]) for r in exact] == [
        ("a", fp, "reproduced", "", "", "0", "", "23"),
        ("b", fp, "not-reproduced", "reproduced", "true", "2", "numeric:2", "21"),
        ("c", fp, "not-reproduced", "not-reproduced", "false", "2", "numeric:2", "21")]
    steady = [r for r in rows if r["notebook"] == "steady.ipynb"]
    assert [r["verdict_changed"] for r in steady] == ["", "false", "false"]
    assert f"notebook:exact.ipynb: verdict changed at bbbbbbbbbb (reproduced -> not-reproduced, numeric:2) on {fp}" \
        in printed.out.splitlines()
    assert "steady.ipynb" not in printed.out
    html = (out / "history.html").read_text()
    # the legend; B changed, C not
    assert html.count('class="v-fail changed"') == 1 and html.count('class="v-fail"') == 1 + 1
    assert html.count('class="v-ok"') == 1 + 4   # the legend; exact at A, steady at A, B, C
    assert "verdict-changed" in html and "Notebook verdicts over time" in html
    assert _csv(out / "history.csv") == []   # no quantities: an empty table, not a failure
    # one notebook alone, by name; an unknown one is bad input
    assert run_cli("history", "show", "notebook:steady.ipynb", "--db", db, "--out", out, capsys=capsys)[0] == 0
    assert {r["notebook"] for r in _csv(out / "history_notebooks.csv")} == {"steady.ipynb"}
    assert run_cli("history", "show", "notebook:nope.ipynb", "--db", db, "--out", out) == (2, None)
    _one_line_error(capsys, "nope.ipynb")


def test_an_unchanged_verdict_marks_nothing_and_a_perturbed_one_is_caught(tmp_path, capsys):
    """The same verdict at every commit marks no change; the verdict perturbed at B alone (differences counts kept)
    is caught, so the comparison can fail."""
    for second, changed in [(("reproduced", {}), []), (("reproduced-statistically", {}), ["b"]),
                            (("crashed", {}), ["b"])]:
        db, out = tmp_path / f"{second[0]}.sqlite", tmp_path / f"out-{second[0]}"
        store.add_records(_notebook_history(tmp_path / second[0], db, second), db)
        assert run_cli("history", "show", "--db", db, "--out", out, capsys=capsys)[0] == 0
        rows = _csv(out / "history_notebooks.csv")
        assert [r["commit"][0] for r in rows if r["verdict_changed"] == "true"] == changed, second
        assert ('changed"' in (out / "history.html").read_text()) == bool(changed)


def test_adding_notebooks_json_is_idempotent_and_bad_ones_add_nothing(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    a, b, c = _notebook_history(tmp_path, db)
    assert len(store.add_records([a], db)) == 1
    assert store.add_records([a], db) == []
    code, printed = run_cli("history", "add", a, tmp_path / "nb" / "a", str(tmp_path / "nb" / "*" / "*.json"), "--db",
                            db, capsys=capsys)
    assert code == 0 and "added 2 of 3 records (1 already there)" in printed.out
    assert (count(db, "runs"), count(db, "notebooks")) == (3, 6)
    renamed = write(tmp_path / "elsewhere" / "nb-a.json", json.loads(a.read_text()))   # same bytes, another name
    assert run_cli("history", "add", renamed, "--db", db, "--quiet", capsys=capsys)[1].out == ""
    assert (count(db, "runs"), count(db, "notebooks")) == (3, 6)
    no_commit = json.loads(a.read_text())
    del no_commit["environment"]["git_commit"]
    for bad, name in [({**json.loads(a.read_text()), "schema_version": 2}, "schema_version is 2"),
                      (no_commit, "`backprop-repro notebook` in a git checkout"),
                      ({**json.loads(a.read_text()), "notebooks": [{"path": "x.ipynb", "verdict": "reproduced",
                                                                    "runs": -1}]}, "not a count"),
                      ({**json.loads(a.read_text()), "notebooks": [{"path": "x.ipynb"}]}, "no path and verdict"),
                      ({**json.loads(a.read_text()), "notebooks": "all"}, "not a list")]:
        path = write(tmp_path / "bad" / "notebooks.json", bad)
        assert run_cli("history", "add", path, "--db", db) == (2, None)
        assert name in _one_line_error(capsys, str(path))
        assert run_cli("history", "add", path, "--db", tmp_path / "new.sqlite") == (2, None)
        _one_line_error(capsys, str(path))
        assert not (tmp_path / "new.sqlite").exists()
    assert (count(db, "runs"), count(db, "notebooks")) == (3, 6)


def test_the_sql_view_gives_the_notebook_csv_rows(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    db, out = tmp_path / "h.sqlite", tmp_path / "out"
    paths = _notebook_history(tmp_path, db)
    again = make_notebooks("b" * 40, "2026-01-04T00:00:00+00:00", {"exact.ipynb": ("reproduced", {})})
    store.add_records(paths + [write(tmp_path / "again.json", again)], db)   # a second run at B: the latest counts
    assert run_cli("history", "show", "--db", db, "--out", out, capsys=capsys)[0] == 0
    con = sqlite3.connect(db)
    view = pd.read_sql("SELECT * FROM notebook_history", con).fillna("").astype(str)
    con.close()
    frame = pd.read_csv(out / "history_notebooks.csv", dtype=str, keep_default_na=False)
    assert list(view.columns) == list(frame.columns[:len(view.columns)])
    assert view.values.tolist() == frame[list(view.columns)].values.tolist()
    # steady never; exact at C only (B's latest run, reproduced, stands for B)
    assert frame.loc[frame["verdict_changed"] == "true", "commit"].tolist() == ["c" * 40]


def _downgrade_to_version_1(db):
    """What a database written before notebooks were kept looks like: schema version 1, no notebooks table."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("DROP VIEW notebook_history")
    con.execute("DROP TABLE notebooks")
    con.execute("UPDATE schema_version SET version = 1")
    con.execute("PRAGMA user_version = 1")
    con.close()


def test_a_version_1_database_is_read_and_migrated_with_its_rows_kept(tmp_path, capsys):
    db, out = tmp_path / "h.sqlite", tmp_path / "out"
    _three_commits(tmp_path, db)
    _downgrade_to_version_1(db)
    before = sqlite3.connect(db).execute("SELECT * FROM history").fetchall()
    code, printed = run_cli("history", "show", "--db", db, "--out", out, "--quiet", capsys=capsys)   # read as it is
    assert code == 0 and printed.out.splitlines() == [f"wrote {out / 'history.csv'}, {out / 'history_notebooks.csv'}, "
                                                      f"{out / 'history_sweeps.csv'}, {out / 'history.html'}"]
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 1        # show never writes
    assert _csv(out / "history_notebooks.csv") == [] and len(_csv(out / "history.csv")) == len(before)
    a, b, c = _notebook_history(tmp_path, db)
    assert run_cli("history", "add", a, b, "--db", db, capsys=capsys)[0] == 0
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION == 2
    assert con.execute("SELECT version FROM schema_version").fetchall() == [(2,)]
    assert con.execute("SELECT * FROM history").fetchall() == before                   # every old row kept
    assert con.execute("SELECT count(*) FROM notebook_history").fetchone()[0] == 4
    con.close()
    # a migration whose add then fails is rolled back whole: the database stays at version 1
    _downgrade_to_version_1(db)
    bad = write(tmp_path / "bad.json", {**make_record("d" * 40, "2026-01-05T00:00:00+00:00"), "schema_version": 9})
    assert run_cli("history", "add", c, bad, "--db", db) == (2, None)
    _one_line_error(capsys, "bad.json")
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 1


def test_a_failed_add_into_a_new_database_leaves_no_file(tmp_path, capsys):
    good = write(tmp_path / "good.json", make_record("a" * 40, "2026-01-01T00:00:00+00:00"))
    corrupt = tmp_path / "corrupt" / "results.json"
    corrupt.parent.mkdir()
    corrupt.write_text('{"schema_version": 1, "environment": {')
    misfit = write(tmp_path / "misfit.json", make_record("b" * 40, "2026-01-02T00:00:00+00:00", losses=["x", 1, 2]))
    for bad in (corrupt, misfit):
        db = tmp_path / "new" / "h.sqlite"
        assert run_cli("history", "add", good, bad, "--db", db) == (2, None)
        _one_line_error(capsys, str(bad))
        assert not db.exists() and not any(db.parent.glob("h.sqlite*"))
    code, printed = run_cli("history", "add", good, "--db", db, "--quiet", capsys=capsys)
    assert (code, printed.out, printed.err) == (0, "", "") and count(db, "runs") == 1


def _sweep_record(commit, created, converged, n=100):
    low, high = _wilson(converged, n)
    entry = {"example": "xor_341", "n_seeds": n, "partial": False, "status": "pass", "verdict": "reproduced",
             "convergence": {"0.1": {"rate": converged / n, "converged": converged, "wilson95": [low, high]}},
             "document": {"share_at_least_as_good": 0.5, "share_wilson95": [0.4, 0.6]}}
    return {**make_record(commit, created), "results": [], "sweeps": [entry]}


def _wilson(k, n, z=1.959963984540054):
    p = k / n
    centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (
        1 + z * z / n)
    return centre - half, centre + half


def test_sweep_statistics_over_time_with_their_intervals(tmp_path, capsys):
    """Rates 0.95 (A), 0.93 (B: within sampling noise of A), 0.60 (C: intervals apart) show in the CSV, the HTML and
    the console, C marked."""
    db, out = tmp_path / "h.sqlite", tmp_path / "out"
    store.add_records([write(tmp_path / c / "sweep-xor_341.json", _sweep_record(c * 40, f"2026-01-0{i}T00:00:00+00:00",
                                                                                k))
                       for i, (c, k) in enumerate([("c", 60), ("a", 95), ("b", 93)], 1)], db)
    code, printed = run_cli("history", "show", "xor_341", "--db", db, "--out", out, capsys=capsys)
    assert code == 0
    rows = [r for r in _csv(out / "history_sweeps.csv") if r["statistic"] == "converged within 0.1"]
    # commit order here is the dates' (git does not know these commits): C was run first
    assert [(r["commit"][0], r["value"], r["interval_overlaps_previous"]) for r in rows] == \
        [("c", "0.6", ""), ("a", "0.95", "false"), ("b", "0.93", "true")]
    assert float(rows[0]["wilson95_low"]) == pytest.approx(_wilson(60, 100)[0]) and rows[0]["n_seeds"] == "100"
    line = next(x for x in printed.out.splitlines() if x.startswith("sweep xor_341 converged within 0.1"))
    assert "0.6000 [0.50" in line and "-> 0.9300 [" in line and "apart from the previous commit's at aaaaaaaaaa" in line
    html = (out / "history.html").read_text()
    assert html.count('class="apart"') == 1 and "Seed sweeps over time" in html and "0.9500 [0.8" in html
    document = [r for r in _csv(out / "history_sweeps.csv") if r["statistic"].startswith("share")]
    assert [r["interval_overlaps_previous"] for r in document] == ["", "true", "true"]


def test_a_record_with_values_sqlite_cannot_keep_is_bad_input_naming_the_record(tmp_path, capsys):
    """An object where text belongs, a commit that is a number, text with a lone surrogate (valid JSON escapes): one
    line naming the record, never a traceback or an error blamed on --db, and no new database left behind."""
    good = make_notebooks("a" * 40, "2026-01-01T00:00:00+00:00", {"x.ipynb": ("reproduced", {})})
    env = lambda **kw: {**good, "environment": {**good["environment"], **kw}}   # noqa: E731
    entry = good["notebooks"][0]
    for n, (bad, name) in enumerate([(env(git_commit=5), "environment.git_commit"),
                                     (env(created=["x"]), "environment.created"),
                                     (env(cpu={"a": 1}), "environment.cpu"),
                                     ({**good, "strict_digits": {"a": 1}}, "strict"),
                                     ({**good, "notebooks": [{**entry, "path": "\ud800.ipynb"}]}, "notebooks[0]"),
                                     ({**good, "notebooks": [{**entry, "verdict": "ok\udfff"}]}, "notebooks[0]"),
                                     ({**good, "notebooks": [{**entry, "runs": 10 ** 30}]}, "notebooks[0]")]):
        path = write(tmp_path / f"bad{n}" / "notebooks.json", bad)
        db = tmp_path / f"new{n}.sqlite"
        assert run_cli("history", "add", path, "--db", db) == (2, None), name
        assert name in _one_line_error(capsys, str(path))
        assert not db.exists()
    # the same in a check record
    path = write(tmp_path / "badr" / "results.json", {**make_record("b" * 40, "2026-01-02T00:00:00+00:00"),
                                                      "environment": {**ENV, "git_commit": 7, "created": "x"}})
    assert run_cli("history", "add", path, "--db", tmp_path / "r.sqlite") == (2, None)
    assert "environment.git_commit" in _one_line_error(capsys, str(path))
    # a notebooks.json holds no sweeps: a 'sweeps' key in one is not read (it broke the add with a traceback)
    db = tmp_path / "h.sqlite"
    path = write(tmp_path / "nb" / "notebooks.json", {**good, "sweeps": [1, {"example": "x"}]})
    assert run_cli("history", "add", path, "--db", db, "--quiet") == (0, None)
    assert (count(db, "notebooks"), count(db, "sweeps")) == (1, 0)


def test_malformed_sweep_entries_show_as_no_value_not_a_traceback(tmp_path, capsys):
    """Sweep entries are kept as they were written (a version 1 database may hold any shape): a convergence that is
    no object, a rate that is no number, an interval that is no pair show as 'no value' or no interval; a well-formed
    statistic beside them keeps its value and interval."""
    db, out = tmp_path / "h.sqlite", tmp_path / "out"
    good = _sweep_record("a" * 40, "2026-01-01T00:00:00+00:00", 60)
    odd = _sweep_record("b" * 40, "2026-01-02T00:00:00+00:00", 95)
    odd["sweeps"][0]["convergence"]["0.2"] = {"rate": "high", "converged": "many", "wilson95": 5}
    odd["sweeps"][0]["convergence"]["0.3"] = [1, 2]
    odd["sweeps"][0]["document"] = {"share_at_least_as_good": True, "share_wilson95": [0.1]}
    lists = _sweep_record("c" * 40, "2026-01-03T00:00:00+00:00", 90)
    lists["sweeps"][0].update(convergence=[1], document=[2])
    store.add_records([write(tmp_path / c / "sweep-xor_341.json", r) for c, r in zip("abc", (good, odd, lists))], db)
    code, printed = run_cli("history", "show", "--db", db, "--out", out, capsys=capsys)
    assert code == 0 and "Traceback" not in printed.err
    rows = {(r["commit"][0], r["statistic"]): r for r in _csv(out / "history_sweeps.csv")}
    kept = rows[("b", "converged within 0.1")]
    assert (kept["value"], kept["count"], kept["interval_overlaps_previous"]) == ("0.95", "95", "false")
    odd_rate = rows[("b", "converged within 0.2")]
    assert (odd_rate["value"], odd_rate["count"], odd_rate["wilson95_low"]) == ("", "", "")
    share = rows[("b", "share at least as good as the document")]
    assert (share["value"], share["wilson95_low"], share["interval_overlaps_previous"]) == ("", "", "")
    assert not any(k[0] == "c" for k in rows) and ("b", "converged within 0.3") not in rows
    assert "0.9500 [" in (out / "history.html").read_text()


def test_an_add_interrupted_while_git_is_asked_leaves_no_new_database(tmp_path, monkeypatch):
    """Asking git for each commit's date takes seconds for many records: a Ctrl-C then leaves no new file (it left
    an empty database)."""
    record = write(tmp_path / "r.json", make_record("a" * 40, "2026-01-01T00:00:00+00:00"))

    def interrupted(commit, repo="."):
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "commit_info", interrupted)
    db = tmp_path / "new" / "h.sqlite"
    with pytest.raises(KeyboardInterrupt):
        store.add_records([record], db)
    assert not db.exists()


def test_an_unknown_notebook_names_a_few_held_ones_on_one_short_line(tmp_path, capsys):
    """A corpus of hundreds of notebooks made the error line list every one; now ten, the same file name first."""
    db = tmp_path / "h.sqlite"
    corpus = {f"lectures/part{i}/nb{i:03d}.ipynb": ("reproduced", {}) for i in range(300)}
    store.add_records([write(tmp_path / "nb" / "notebooks.json",
                             make_notebooks("a" * 40, "2026-01-01T00:00:00+00:00", corpus))], db)
    assert run_cli("history", "show", "notebook:nb007.ipynb", "--db", db, "--out", tmp_path / "o") == (2, None)
    err = _one_line_error(capsys, "notebook:nb007.ipynb")
    assert "notebooks held: lectures/part7/nb007.ipynb\n" in err and len(err) < 300
    assert run_cli("history", "show", "notebook:other.ipynb", "--db", db, "--out", tmp_path / "o") == (2, None)
    err = _one_line_error(capsys, "other.ipynb")
    assert "and 290 more" in err and len(err) < 600


def test_a_database_without_a_write_bit_is_refused_for_root_too(tmp_path, capsys):
    """As root SQLite wrote into a chmod 444 history; like every file this tool replaces, it is refused (exit 2, one
    line), and show still reads it."""
    db = tmp_path / "h.sqlite"
    store.add_records([write(tmp_path / "a.json", make_record("a" * 40, "2026-01-01T00:00:00+00:00"))], db)
    db.chmod(0o444)
    try:
        later = write(tmp_path / "b.json", make_record("b" * 40, "2026-01-02T00:00:00+00:00"))
        assert run_cli("history", "add", later, "--db", db) == (2, None)
        assert "read-only" in _one_line_error(capsys, f"--db {db}")
        assert count(db, "runs") == 1
        assert run_cli("history", "show", "--db", db, "--out", tmp_path / "o", "--quiet", capsys=capsys)[0] == 0
    finally:
        db.chmod(0o644)
