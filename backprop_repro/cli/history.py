"""``backprop-repro history``: records kept in an SQLite history (``add``), read back as each quantity's runs per
environment fingerprint in commit order (``show``), and the commit that moved a quantity's bits (``bisect``)."""

import json

from backprop_repro.cli import common

HELP = "history across commits and machines: add, show, bisect"
_DB_HELP = "the history database (default reports/history.sqlite under the working directory)"


def add_parser(sub):
    p = sub.add_parser("history", help=HELP, description=(
        "Keep verdict records in an SQLite history at full precision, keyed by commit, date, environment fingerprint "
        "and command; show each quantity's runs over commits and where its bits changed; bisect to the commit that "
        "moved them."))
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add records (idempotent)", description=(
        "Add results.json / sweep-<id>.json / notebooks.json records to the history in one transaction (all or "
        "none); a record already there adds nothing."))
    add.add_argument("results", nargs="+", metavar="RESULTS",
                     help="record files, folders holding them (searched below), or glob patterns")
    add.add_argument("--db", default=None, metavar="PATH", help=_DB_HELP)
    common.add_quiet(add, "print nothing when the add succeeds (errors still one line on stderr)")
    add.set_defaults(func=run_add)
    show = actions.add_parser("show", help="history.csv, history_notebooks.csv, history_sweeps.csv, history.html",
                              description=(
        "For each quantity and fingerprint: its runs in commit order, bit-identical to the previous run or not, the "
        "largest ULP distance to it; notebook verdicts and sweep statistics (with their Wilson intervals) over "
        "commits; write history.csv, history_notebooks.csv, history_sweeps.csv and history.html to --out; one line "
        "per quantity whose bits changed, per notebook whose verdict changed and per sweep statistic."))
    show.add_argument("quantities", nargs="*", metavar="ID|ID:QUANTITY|notebook:PATH",
                      help="what to show (default: everything)")
    show.add_argument("--db", default=None, metavar="PATH", help=_DB_HELP)
    common.add_out(show)
    common.add_quiet(show, "print only the files written, not a line per change")
    show.set_defaults(func=run_show)
    _add_bisect(actions)


def _add_bisect(actions):
    b = actions.add_parser("bisect", help="first commit that moved the bits", description=(
        "Find the first commit between --good and --bad at which the example's values (or one quantity's) stop "
        "being bit-identical to those at --good, on this machine: each probed commit runs its own check in a "
        "temporary git worktree; the checkout is left as it was. Exit 0 when found, 1 when nothing changed."))
    b.add_argument("target", metavar="ID[:QUANTITY]", help="an example id, or one of its quantities")
    b.add_argument("--good", required=True, metavar="REV", help="a commit whose values are the reference")
    b.add_argument("--bad", required=True, metavar="REV", help="a later commit whose values differ")
    b.add_argument("--repo", default=".", metavar="DIR", help="the git checkout (default: the working directory)")
    b.add_argument("--db", default=None, metavar="PATH", help=_DB_HELP + "; every probe is added to it")
    common.add_out(b)
    common.add_quiet(b)
    b.set_defaults(func=run_bisect)


def _db(args):
    from backprop_repro.history.store import DEFAULT_DB
    from backprop_repro.store import atomic

    atomic.refuse_read_only_folder(args.db or DEFAULT_DB, f"--db {args.db or DEFAULT_DB}", "pass another --db")
    return args.db or DEFAULT_DB


def _db_to_write(args):
    """The --db an add or a bisect writes into: an existing file without a write bit is refused, for root too (its
    owner meant it so; root's SQLite would write into it), as any file this tool replaces."""
    import os
    import stat

    from backprop_repro.core.errors import BadInput
    from backprop_repro.store import atomic

    db = _db(args)
    try:
        st = os.stat(db)
    except OSError:
        return db      # absent (made by the add), or unreadable: connect says why
    if stat.S_ISREG(st.st_mode) and atomic.read_only_file(db, st):
        raise BadInput(f"--db {db}: the file is read-only; make it writable (chmod u+w) or pass another --db")
    return db


def run_add(args):
    from backprop_repro.core import record
    from backprop_repro.history import store

    paths = store.expand(args.results)
    added = store.add_records(paths, _db_to_write(args))
    if not args.quiet:
        print(f"history {_db(args)}: added {len(added)} of {len(paths)} records "
              f"({len(paths) - len(added)} already there)")
    return record.build("history", payload={"added": len(added), "records": len(paths)})


def run_show(args):
    import sqlite3

    from backprop_repro.core import record
    from backprop_repro.core.errors import BadInput
    from backprop_repro.history import show, store
    from backprop_repro.render import history as render
    from backprop_repro.store.outputs import OWNED, output_set

    con = store.connect(_db(args))   # a missing or bad --db before --out is made
    try:
        result = show.history(con, args.quantities)
    except (sqlite3.Error, ValueError) as exc:   # tables missing or a value that does not fit its dtype
        raise BadInput(f"--db {_db(args)}: the history does not read ({exc}); add the records again into a new "
                       f"--db") from None
    finally:
        con.close()
    out = common.writable_dir(args.out, "--out")
    with output_set(out, OWNED["history"]) as staging:
        render.write_history(result, staging)
    for line in [] if args.quiet else render.console_lines(result):
        print(line)
    print(f"wrote {', '.join(str(out / name) for name in render.FILES)}")
    # a change of bits in the history is information, not a verdict on this run: no failing observation
    return record.build("history", payload={"rows": len(result["rows"]), "changed": len(result["changes"]),
                                                "notebook_rows": len(result["notebooks"]),
                                                "verdicts_changed": len(result["verdict_changes"]),
                                                "sweep_rows": len(result["sweeps"])})


def run_bisect(args):
    from backprop_repro.core import record
    from backprop_repro.core.errors import BadInput
    from backprop_repro.core.record import Kind, Observation, Status
    from backprop_repro.history import bisect, store
    from backprop_repro.render import history as render
    from backprop_repro.store import atomic
    from backprop_repro.store.outputs import OWNED, output_set

    bisect.revisions(args.repo, args.good, args.bad)   # bad revisions before --db or --out is made
    out = common.writable_dir(args.out, "--out")
    store.connect(_db_to_write(args), create=True).close()   # a bad --db is bad input before any commit runs

    def keep(path, commit):
        try:
            store.add_records([path], _db(args), repo=args.repo)
        except BadInput as exc:   # an old commit's record this version cannot read: the bisection goes on
            common.say(f"note: {commit[:10]} not added to the history: {exc}")

    payload = bisect.bisect(args.repo, args.target, args.good, args.bad, on_record=keep,
                            progress=common.Progress(0, "bisect", args.quiet))
    with output_set(out, OWNED["bisect"]) as staging:
        atomic.write_text(staging / "bisect.json", json.dumps(payload, indent=1) + "\n")
    for line in render.bisect_lines(payload):
        print(line)
    print(f"wrote {out / 'bisect.json'}")
    status = Status.PASS if payload["changed"] else Status.FAIL   # exit 1: nothing changed between the two
    return record.build("history", [Observation(Kind.QUANTITY, args.target, status, note="bisect")], payload=payload)
