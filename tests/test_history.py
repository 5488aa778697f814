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
    con.execute("PRAGMA user_version = 2")
    con.close()
    assert run_cli("history", "show", "--db", newer, "--out", tmp_path / "o") == (2, None)
    assert "schema_version 2" in _one_line_error(capsys, str(newer))
    assert run_cli("history", "show", "--db", tmp_path / "missing.sqlite") == (2, None)
    _one_line_error(capsys, "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()


def test_a_record_of_another_schema_is_bad_input_and_nothing_is_added(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    good = write(tmp_path / "good.json", make_record("a" * 40, "2026-01-01T00:00:00+00:00"))
    other = write(tmp_path / "other.json", {**make_record("b" * 40, "2026-01-02T00:00:00+00:00"), "schema_version": 2})
    assert run_cli("history", "add", good, other, "--db", db) == (2, None)
    _one_line_error(capsys, str(other))
    assert not db.exists() or count(db, "runs") == 0   # all or nothing
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
                       (["--good", "HEAD", "--bad", "HEAD~2"], "--good HEAD"),
                       (["--good", "HEAD~1", "--bad", "HEAD", "--repo", str(tmp_path)], str(tmp_path))]:
        assert run_cli("history", "bisect", "feed_forward", *argv, "--db", tmp_path / "h.sqlite", "--out",
                       tmp_path / "out") == (2, None)
        _one_line_error(capsys, name)
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
