"""The history database: verdict records (results.json, sweep-<id>.json, notebooks.json) kept in SQLite at full
precision.

Schema version 2 (``PRAGMA user_version`` = 2, ``PRAGMA application_id`` = 0x42505248 "BPRH", and the same in the
``schema_version`` table; documented in reports/README.md):

- ``fingerprints``: one row per environment fingerprint, a stable hash (:func:`fingerprint`) and its fields
  (os, cpu, simd targets in force, blas library and kernel, python, numpy);
- ``commits``: commit hash, its committer date, subject and depth (``git rev-list --count``: its number of
  ancestors and itself) when git could tell; depth, then date order the history;
- ``runs``: one row per record: commit, date (``environment.created``), fingerprint, command, the record's
  digest (sha256 of its file), strict, exit status, source file, time added, the full environment.
  Unique on (commit, date, fingerprint, command, digest): adding a record that is already there adds nothing;
- ``quantities``: every quantity's actual value: dtype, shape (JSON), the elements as little-endian bytes of that
  dtype (exact bits), or the text of a text value; its policy and check status;
- ``sweeps``: a sweep entry of a record as JSON;
- ``notebooks`` (new in version 2): per notebook of a notebooks.json record its verdict, cause, fresh runs, counts
  of numbers and of differences (in all, and per kind as JSON);
- the view ``history``: one row per quantity, fingerprint and commit (the latest run there) with
  ``bit_identical_to_previous``, as history.csv has them;
- the view ``notebook_history`` (version 2): one row per notebook, fingerprint and commit (the latest run there)
  with the previous verdict and ``verdict_changed``, as history_notebooks.csv has them.

A version 1 database (before notebooks) is migrated in place by the next add, in the add's transaction: its rows
are kept. ``show`` reads a version 1 database as it is (no notebooks).

Writes are one ``BEGIN IMMEDIATE`` transaction under a busy timeout, so concurrent adds wait for each other.
"""

import glob
import hashlib
import json
import re
import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from backprop_repro.core.errors import BadInput
from backprop_repro.store.locations import checkout_root
from backprop_repro.store.results import load_results

__all__ = ["SCHEMA_VERSION", "APPLICATION_ID", "DEFAULT_DB", "connect", "fingerprint", "expand", "add_records",
           "encode_value", "decode_value", "record_rows"]

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)    # show reads these; add migrates 1 to 2
APPLICATION_ID = 0x42505248   # "BPRH": tells our database from any other SQLite file
DEFAULT_DB = "reports/history.sqlite"
BUSY_TIMEOUT = 120.0          # seconds a writer waits for another one (concurrent adds, CI)
RECORD_NAMES = ("results.json", "sweep-*.json", "notebooks.json")
KINDS = ("rounding", "numeric", "text", "error", "cosmetic", "nondeterministic", "image", "missing", "added")
FINGERPRINT_FIELDS = ("os", "cpu", "simd", "blas", "python", "numpy")

# commits in order of their depth (ancestors counted by git), then committer date (else the first date a run of
# them was made), then hash: the order of both views
_COMMIT_ORDER = """commit_order AS (
  SELECT r.git_commit, ROW_NUMBER() OVER (ORDER BY c.depth IS NULL, c.depth, COALESCE(c.committed, MIN(r.created)),
                                          r.git_commit) AS commit_key
  FROM runs r LEFT JOIN commits c ON c.git_commit = r.git_commit GROUP BY r.git_commit)"""

_SCHEMA = [
    "CREATE TABLE schema_version (version INTEGER NOT NULL, name TEXT NOT NULL)",
    "CREATE TABLE fingerprints (fingerprint TEXT PRIMARY KEY, os TEXT, cpu TEXT, simd TEXT, blas TEXT, python TEXT, "
    "numpy TEXT)",
    "CREATE TABLE commits (git_commit TEXT PRIMARY KEY, committed TEXT, subject TEXT, depth INTEGER)",
    "CREATE TABLE runs (run_id INTEGER PRIMARY KEY, git_commit TEXT NOT NULL, created TEXT NOT NULL, "
    "fingerprint TEXT NOT NULL REFERENCES fingerprints, command TEXT NOT NULL, digest TEXT NOT NULL, strict INTEGER, "
    "exit_status INTEGER, source TEXT, added TEXT NOT NULL, environment TEXT NOT NULL, "
    "UNIQUE (git_commit, created, fingerprint, command, digest))",
    "CREATE TABLE quantities (run_id INTEGER NOT NULL REFERENCES runs, example TEXT NOT NULL, quantity TEXT NOT NULL, "
    "dtype TEXT NOT NULL, shape TEXT NOT NULL, value BLOB, text TEXT, policy TEXT, status TEXT, "
    "PRIMARY KEY (run_id, example, quantity))",
    "CREATE TABLE sweeps (run_id INTEGER NOT NULL REFERENCES runs, example TEXT NOT NULL, entry TEXT NOT NULL, "
    "PRIMARY KEY (run_id, example))",
    f"""CREATE VIEW history AS
WITH {_COMMIT_ORDER},
latest AS (
  SELECT q.example, q.quantity, r.fingerprint, r.git_commit, r.created, q.dtype, q.shape, q.value, q.text, o.commit_key,
         ROW_NUMBER() OVER (PARTITION BY q.example, q.quantity, r.fingerprint, r.git_commit
                            ORDER BY r.created DESC, r.run_id DESC) AS k
  FROM quantities q JOIN runs r ON r.run_id = q.run_id JOIN commit_order o ON o.git_commit = r.git_commit)
SELECT example || ':' || quantity AS quantity, fingerprint, git_commit AS "commit", created AS date,
  CASE WHEN LAG(git_commit) OVER w IS NULL THEN NULL
       WHEN dtype IS LAG(dtype) OVER w AND shape IS LAG(shape) OVER w AND value IS LAG(value) OVER w
            AND text IS LAG(text) OVER w THEN 'true' ELSE 'false' END AS bit_identical_to_previous
FROM latest WHERE k = 1
WINDOW w AS (PARTITION BY example, quantity, fingerprint ORDER BY commit_key, git_commit)
ORDER BY example, quantity, fingerprint, commit_key, git_commit""",
]
# version 2: notebook verdicts (also the migration from version 1)
_SCHEMA_2 = [
    "CREATE TABLE notebooks (run_id INTEGER NOT NULL REFERENCES runs, notebook TEXT NOT NULL, verdict TEXT NOT NULL, "
    "cause TEXT, runs INTEGER, numbers_stored INTEGER, numbers_compared INTEGER, numbers_reproduced INTEGER, "
    "differences INTEGER NOT NULL, kinds TEXT NOT NULL, PRIMARY KEY (run_id, notebook))",
    f"""CREATE VIEW notebook_history AS
WITH {_COMMIT_ORDER},
latest AS (
  SELECT n.*, r.fingerprint, r.git_commit, r.created, o.commit_key,
         ROW_NUMBER() OVER (PARTITION BY n.notebook, r.fingerprint, r.git_commit
                            ORDER BY r.created DESC, r.run_id DESC) AS k
  FROM notebooks n JOIN runs r ON r.run_id = n.run_id JOIN commit_order o ON o.git_commit = r.git_commit)
SELECT notebook, fingerprint, git_commit AS "commit", created AS date, verdict,
  LAG(verdict) OVER w AS previous_verdict,
  CASE WHEN LAG(git_commit) OVER w IS NULL THEN NULL WHEN verdict IS LAG(verdict) OVER w THEN 'false'
       ELSE 'true' END AS verdict_changed,
  cause, runs, numbers_compared, numbers_reproduced, differences
FROM latest WHERE k = 1
WINDOW w AS (PARTITION BY notebook, fingerprint ORDER BY commit_key, git_commit)
ORDER BY notebook, fingerprint, commit_key, git_commit""",
]


def _bad_db(path, why):
    return BadInput(f"--db {path}: {why}; pass --db a history database written by `backprop-repro history add` "
                    f"(or a new file name)")


def connect(path, create=False):
    """An open connection to the history at ``path`` (autocommit mode; writers use ``BEGIN IMMEDIATE``), its schema
    checked; with ``create`` a missing or empty file gets the schema. BadInput (one line naming the file) for a file
    that is not SQLite, SQLite without our schema, or another schema version."""
    path = Path(path)
    if not create and not path.is_file():
        raise BadInput(f"--db {path}: no history database there; run `backprop-repro history add RESULTS --db {path}` "
                       f"first")
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT, isolation_level=None)
        else:
            con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT,
                                  isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise _bad_db(path, f"cannot open it ({exc})") from None
    try:
        _check_schema(con, path, create)
    except sqlite3.DatabaseError as exc:
        con.close()
        raise _bad_db(path, f"not a readable SQLite database ({exc})") from None
    except BaseException:
        con.close()
        raise
    return con


def _check_schema(con, path, create):
    if create:
        con.execute("BEGIN IMMEDIATE")   # two processes creating the file at once: one makes the schema
    failed = False
    try:
        app, version = (con.execute(f"PRAGMA {p}").fetchone()[0] for p in ("application_id", "user_version"))
        tables = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if create and app == 0 and version == 0 and tables == 0:
            for statement in _SCHEMA + _SCHEMA_2:
                con.execute(statement)
            con.execute("INSERT INTO schema_version VALUES (?, 'backprop-repro history')", (SCHEMA_VERSION,))
            con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif app != APPLICATION_ID:
            raise _bad_db(path, f"an SQLite database without the history schema ({tables} schema objects, "
                                f"application_id {app})")
        elif version not in READABLE_VERSIONS:
            raise _bad_db(path, f"history schema_version {version}, this tool reads "
                                f"{' and '.join(map(str, READABLE_VERSIONS))}")
    except BaseException:
        failed = True
        raise
    finally:
        if create and failed:   # a half-made migration is never kept
            try:
                con.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        elif create:
            con.execute("COMMIT")


def migrate(con):
    """Upgrade a version 1 history (before notebooks) to this version inside the caller's write transaction: its
    rows are kept, and a failed add rolls the upgrade back with it."""
    if con.execute("PRAGMA user_version").fetchone()[0] == 1:
        for statement in _SCHEMA_2:
            con.execute(statement)
        con.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _os(env):
    """The operating system as it matters for numbers: a Linux kernel release is dropped (libc stays)."""
    platform = env.get("platform") or ""
    if env.get("system") == "Linux" or platform.startswith("Linux-"):
        libc = platform.split("-with-", 1)[1] if "-with-" in platform else ""
        return " ".join(p for p in ("Linux", env.get("machine") or "", libc) if p)
    return platform or env.get("system") or "unknown"


def fingerprint(env):
    """``(hash, fields)`` of an environment: os, cpu, the SIMD targets in force, the BLAS library and kernel, Python,
    NumPy. The hash is the first 12 hex digits of the sha256 of the fields' canonical JSON (stable across runs)."""
    simd = env.get("simd_targets", env.get("simd")) or []
    blas = " ".join(str(b) for b in (env.get("blas"), env.get("blas_core")) if b)
    fields = {"os": _os(env), "cpu": env.get("cpu") or "unknown", "simd": " ".join(map(str, simd)),
              "blas": blas or "unknown", "python": env.get("python") or "unknown",
              "numpy": env.get("numpy") or "unknown"}
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]
    return digest, fields


def _is_pattern(text):
    return any(c in text for c in "*?[")


def expand(patterns):
    """Record files from paths, folders (every results.json, sweep-<id>.json and notebooks.json below them) and glob
    patterns (the .json files and folders they match), in order, without repeats. BadInput for a missing path, a
    folder without records or no record at all."""
    found = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if _is_pattern(pattern) else [pattern]
        for match in matches:
            path = Path(match)
            if path.is_dir():
                inside = sorted({p for name in RECORD_NAMES for p in path.rglob(name) if p.is_file()})
                if not inside and not _is_pattern(pattern):
                    raise BadInput(f"{path}: no results.json, sweep-<id>.json or notebooks.json in this folder; pass "
                                   f"a record written by `backprop-repro check`, `sweep` or `notebook`")
                found += inside
            elif path.is_file() and (path.suffix == ".json" or not _is_pattern(pattern)):   # a pattern's JSON only
                found.append(path)
            elif not _is_pattern(pattern):
                raise BadInput(f"{path}: no such file or folder; pass results.json files, folders holding them or "
                               f"glob patterns")
    unique = list(dict.fromkeys(found))
    if not unique:
        raise BadInput(f"{' '.join(patterns)}: matched no record; pass results.json files, folders holding them or "
                       f"glob patterns")
    return unique


def encode_value(actual, dtype, shape):
    """``(blob, text)`` of a quantity's actual value: little-endian bytes of ``dtype`` (JSON's null, a non-finite
    float, becomes NaN), or the text of a text value; (None, None) when there is no value."""
    if actual is None or dtype is None:
        return None, None
    if dtype == "str":
        return None, actual if isinstance(actual, str) else json.dumps(actual)
    if np.dtype(dtype).kind not in "fiub":   # bytes of objects, dates or text would be pointers or unreadable
        raise ValueError(f"dtype {dtype} is not a numeric dtype of a results file")
    array = np.array(actual, dtype=np.dtype(dtype).newbyteorder("<"))
    if list(array.shape) != list(shape or []):
        array = array.reshape(shape)
    return array.tobytes(), None


def decode_value(blob, text, dtype, shape):
    """The inverse of :func:`encode_value`: a NumPy array of native byte order, or the text."""
    if dtype == "str" or blob is None:
        return text
    array = np.frombuffer(blob, dtype=np.dtype(dtype).newbyteorder("<")).reshape(json.loads(shape))
    return array.astype(np.dtype(dtype))


def record_rows(record):
    """``[(example, quantity, dtype, shape_json, blob, text, policy, status)]`` of a record's quantities that have a
    value; BadInput-free: a value that does not fit its dtype raises ValueError."""
    rows = []
    for r in record.get("results", []):
        blob, text = encode_value(r.get("actual"), r.get("dtype"), r.get("shape"))
        if blob is None and text is None:
            continue
        rows.append((r["example"], r["quantity"], r["dtype"], json.dumps(list(r.get("shape") or [])), blob, text,
                     r.get("policy"), r.get("status")))
    return rows


def _command(path, record):
    if "notebooks" in record and "results" not in record:
        return "notebook"
    if Path(path).name.startswith("sweep-") or (record.get("sweeps") and not record.get("results")):
        return "sweep"
    return "check"


def _digest(path):
    """sha256 of the record file's bytes (a record written once is never rewritten; canonical JSON would cost
    more than the rest of an add)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise BadInput(f"{path}: cannot read results file ({exc.strerror or exc})") from None


def _is_notebooks(path):
    """Whether the file at ``path`` is a `notebook` record (by its name, else by its top-level keys)."""
    name = Path(path).name
    if name == "notebooks.json":
        return True
    if name == "results.json" or name.startswith("sweep-"):
        return False
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False   # load_results says why in one line
    return isinstance(record, dict) and "notebooks" in record and "results" not in record


def _bad_notebooks(path, why):
    return BadInput(f"{path}: {why}; regenerate it with `backprop-repro notebook`")


def _count(value, path, what):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad_notebooks(path, f"{what} is {value!r}, not a count")
    return value


def notebook_rows(record, path="notebooks.json"):
    """``[(notebook, verdict, cause, runs, numbers_stored, numbers_compared, numbers_reproduced, differences,
    kinds_json)]`` of a `notebook` record; BadInput naming the file for an entry that is not one."""
    entries = record.get("notebooks")
    if not isinstance(entries, list):
        raise _bad_notebooks(path, "its 'notebooks' is not a list")
    rows = {}
    for i, nb in enumerate(entries):
        if not isinstance(nb, dict) or not isinstance(nb.get("path"), str) or not isinstance(nb.get("verdict"), str) \
                or not nb["verdict"]:
            raise _bad_notebooks(path, f"notebooks[{i}] has no path and verdict")
        kinds = nb.get("kinds") or {}
        if not isinstance(kinds, dict):
            raise _bad_notebooks(path, f"notebooks[{i}].kinds is not an object")
        kinds = {k: _count(v, path, f"notebooks[{i}].kinds.{k}") for k, v in sorted(kinds.items())}
        listed = nb.get("differences")
        differences = len(listed) if isinstance(listed, list) else sum(v or 0 for v in kinds.values())
        cause = nb.get("cause")
        rows[nb["path"]] = (nb["path"], nb["verdict"], cause if cause is None else str(cause),
                            _count(nb.get("runs"), path, f"notebooks[{i}].runs"),
                            *(_count(nb.get(k), path, f"notebooks[{i}].{k}")
                              for k in ("numbers_stored", "numbers_compared", "numbers_reproduced")),
                            differences, json.dumps(kinds, sort_keys=True))
    return list(rows.values())


def _load_notebooks(path):
    """A notebooks.json record read and checked for what the history keeps (BadInput naming the file)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise _bad_notebooks(path, f"cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise _bad_notebooks(path, f"not valid JSON ({exc})") from None
    found = record.get("schema_version") if isinstance(record, dict) else None
    if found != 1:
        raise _bad_notebooks(path, f"schema_version is {found!r}, this tool reads notebook records of version 1")
    if not isinstance(record.get("environment"), dict) or "notebooks" not in record:
        raise _bad_notebooks(path, "missing key 'environment' or 'notebooks'")
    return record


def _prepared(path, digest):
    """A record file read, validated and turned into the rows it adds (BadInput naming the file)."""
    notebook = _is_notebooks(path)
    record = _load_notebooks(path) if notebook else load_results(path)
    env = record["environment"]
    commit, created = env.get("git_commit"), env.get("created")
    if not commit or not created:
        raise BadInput(f"{path}: its environment has no git_commit or created date; regenerate it with "
                       f"`backprop-repro {'notebook' if notebook else 'check'}` in a git checkout")
    try:
        rows = [] if notebook else record_rows(record)
    except (ValueError, TypeError) as exc:
        raise BadInput(f"{path}: a quantity's value does not fit its dtype and shape ({exc}); regenerate it with "
                       f"`backprop-repro check`") from None
    fp, fields = fingerprint(env)
    # a notebooks.json holds no sweeps: a 'sweeps' key in one is not read
    entries = [] if notebook else record.get("sweeps") or []
    if not all(isinstance(s, dict) and isinstance(s.get("example", ""), str) for s in entries):
        raise BadInput(f"{path}: a sweep entry is not an object with a text 'example'; regenerate it with "
                       f"`backprop-repro sweep`")
    sweeps = [(s.get("example", ""), json.dumps(s, sort_keys=True)) for s in entries]
    prepared = {"path": str(path), "commit": commit, "created": created, "fingerprint": fp, "fields": fields,
                "command": _command(path, record), "digest": digest,
                "strict": record.get("strict_digits" if notebook else "strict"),
                "exit_status": record.get("exit_status"), "environment": json.dumps(env, sort_keys=True),
                "rows": rows, "sweeps": sweeps, "notebooks": notebook_rows(record, path) if notebook else []}
    _check_storable(prepared, path, "notebook" if notebook else prepared["command"])
    return prepared


def _check_storable(p, path, command):
    """BadInput naming the record for a value SQLite cannot keep as written (an object where text or a number
    belongs, text with a lone surrogate, a commit or date that is not text): found before the database is made or
    written, not reported as an error of --db or as a traceback."""
    values = [("environment.git_commit", p["commit"]), ("environment.created", p["created"]),
              ("strict" if command == "check" else "strict_digits", p["strict"]), ("exit_status", p["exit_status"])]
    values += [(f"environment.{k}", p["fields"][k]) for k in FINGERPRINT_FIELDS]
    values += [(f"notebooks[{i}]", v) for i, row in enumerate(p["notebooks"]) for v in row]
    values += [(f"results[{i}]", v) for i, row in enumerate(p["rows"]) for v in row]
    values += [("sweeps", e) for e, _ in p["sweeps"]]
    for where, value in values:
        fits = value is None or isinstance(value, (str, int, float, bytes))
        if where in ("environment.git_commit", "environment.created"):
            fits = isinstance(value, str)
        if fits and isinstance(value, int) and not -2 ** 63 <= value < 2 ** 63:
            fits = False        # SQLite's integers are 64-bit
        if fits and isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                fits = False
        if not fits:
            raise BadInput(f"{path}: {where} is {json.dumps(value, default=str)[:60]} ({type(value).__name__}), not "
                           f"text or a number the history can keep; regenerate it with `backprop-repro {command}`")


def commit_info(commit, repo="."):
    """``(committer date ISO-8601 in UTC, subject, depth)`` of ``commit`` in the git checkout ``repo``, or Nones."""
    if not re.fullmatch(r"[0-9a-fA-F]{7,64}", commit or ""):
        return None, None, None
    try:
        out = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%cI%n%s", commit, "--"],
                             capture_output=True, text=True, timeout=10)
        depth = subprocess.run(["git", "-C", str(repo), "rev-list", "--count", commit, "--"], capture_output=True,
                               text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None, None, None
    lines = out.stdout.splitlines()
    if out.returncode != 0 or depth.returncode != 0 or not lines:
        return None, None, None
    try:   # in UTC, as `created` is: the two sort together as text
        date = datetime.fromisoformat(lines[0]).astimezone(timezone.utc).isoformat(timespec="seconds")
        return date, lines[1] if len(lines) > 1 else "", int(depth.stdout.strip())
    except ValueError:
        return None, None, None


def add_records(paths, db, repo="."):
    """Add the records at ``paths`` to the history ``db`` in one transaction (all or none); the ids of the runs
    added (a record already there adds nothing). Commit dates come from the git checkout ``repo`` when it knows
    them, else from the checkout this package runs from. A file whose bytes are already there is not read again.
    A new database file is made only once every record has been read and checked: bad input leaves no file."""
    digests = {p: _digest(p) for p in paths}
    prepared = infos = None
    repos = [repo] + [r for r in [checkout_root()] if r is not None]

    def commit_infos():
        return {c: next((i for i in map(lambda r: commit_info(c, r), repos) if i[0]), (None, None, None))
                for c in dict.fromkeys(p["commit"] for p in prepared)}

    if not Path(db).exists():
        prepared = [_prepared(p, d) for p, d in digests.items()]
        infos = commit_infos()   # git asked (seconds for many commits) before the file is made: Ctrl-C leaves none
    con = connect(db, create=True)
    try:
        if prepared is None:
            known = _known_digests(con, list(digests.values()))
            # every new file read and checked before anything is written
            prepared = [_prepared(p, d) for p, d in digests.items() if d not in known]
            infos = commit_infos()
        con.execute("BEGIN IMMEDIATE")
        try:
            migrate(con)   # asked again inside the transaction: a concurrent add may have done it
            added = [run_id for p in prepared if (run_id := _insert(con, p, infos[p["commit"]])) is not None]
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise _bad_db(db, f"cannot write to it ({exc})") from None
    finally:
        con.close()
    return added


def _known_digests(con, digests, chunk=500):
    """The ``digests`` already in the history (asked in chunks: SQLite caps the parameters of a statement)."""
    known = set()
    for i in range(0, len(digests), chunk):
        part = digests[i:i + chunk]
        known |= {d for d, in con.execute(f"SELECT digest FROM runs WHERE digest IN ({','.join('?' * len(part))})",
                                          part)}
    return known


def _insert(con, p, info):
    con.execute("INSERT OR IGNORE INTO fingerprints VALUES (?, ?, ?, ?, ?, ?, ?)",
                (p["fingerprint"], *(p["fields"][k] for k in FINGERPRINT_FIELDS)))
    con.execute("INSERT OR IGNORE INTO commits VALUES (?, ?, ?, ?)", (p["commit"], *info))
    if info[0]:
        con.execute("UPDATE commits SET committed = ?, subject = ?, depth = ? WHERE git_commit = ? "
                    "AND committed IS NULL", (*info, p["commit"]))
    cursor = con.execute(
        "INSERT OR IGNORE INTO runs (git_commit, created, fingerprint, command, digest, strict, exit_status, source, "
        "added, environment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (p["commit"], p["created"], p["fingerprint"], p["command"], p["digest"], p["strict"], p["exit_status"],
         p["path"], datetime.now(timezone.utc).isoformat(timespec="seconds"), p["environment"]))
    if cursor.rowcount == 0:
        return None
    run_id = cursor.lastrowid
    con.executemany("INSERT INTO quantities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [(run_id, *r) for r in p["rows"]])
    con.executemany("INSERT OR REPLACE INTO sweeps VALUES (?, ?, ?)", [(run_id, *s) for s in p["sweeps"]])
    con.executemany("INSERT INTO notebooks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(run_id, *n) for n in p["notebooks"]])
    return run_id
