"""``history bisect``: the first commit between --good and --bad at which an example's values (or one quantity's)
stop being bit-identical to those at --good, on this machine, as ``git bisect run`` would find it.

Each probed commit runs its own code: a temporary ``git worktree`` of it (outside the checkout), that commit's
package first on the path (``python -m backprop_repro``, or ``python -m repro`` before the rename), a check of the
one example with the options that commit knows. A commit that cannot run is skipped (``git bisect skip``). The
user's checkout, branch and working tree are never touched; every worktree is removed, also after Ctrl-C.
For N commits in good..bad (good excluded, bad included) the search needs ceil(log2(N + 1)) checks plus one of
--good.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from backprop_repro.core.errors import BadInput
from backprop_repro.history.show import compare_values
from backprop_repro.history.store import record_rows

__all__ = ["search", "revisions", "Prober", "changes_against", "values_of", "bisect"]

PROBE_TIMEOUT = 900   # seconds one commit's check may take before it counts as one that cannot run
# `python -m PACKAGE` without an editable install's finder: that finder would serve a module the probed commit lacks
# from the installed checkout (the worktree comes first on sys.path, but the finder also answers for submodules)
_BOOTSTRAP = ("import runpy, sys; sys.meta_path[:] = [f for f in sys.meta_path if not "
              "getattr(f, '__module__', '').startswith('__editable__')]; runpy.run_module({!r}, run_name='__main__', "
              "alter_sys=True)")
_OPTIONS = ("--strict", "--no-report", "--quiet")


def search(n, probe):
    """Binary search over commits 0..n-1 (in order; --good before 0) for the first one ``probe(i)`` says changed
    (True), given that it is monotone; ``probe`` returns False for unchanged and None for a commit that cannot run
    (skipped: the nearest other candidate is tried). Returns ``{"first": index or None, "changed": whether a changed
    commit was seen, "candidates": [indices the first change may be at when skips leave it open], "probed":
    [(index, outcome), ...]}``."""
    lo, hi, skipped, probed = -1, n, set(), []
    while hi - lo > 1:
        open_ = [i for i in range(lo + 1, hi) if i not in skipped]
        if not open_:
            break
        middle = (lo + hi) // 2
        i = min(open_, key=lambda k: (abs(k - middle), k))
        outcome = probe(i)
        probed.append((i, outcome))
        if outcome is None:
            skipped.add(i)
        elif outcome:
            hi = i
        else:
            lo = i
    candidates = list(range(lo + 1, min(hi + 1, n)))   # the skipped ones left open, and hi
    first = hi if hi < n and len(candidates) == 1 else None
    return {"first": first, "changed": hi < n, "candidates": candidates, "probed": probed}


def _git(repo, *args, check=True):
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if check and out.returncode != 0:
        raise subprocess.CalledProcessError(out.returncode, args, out.stdout, out.stderr)
    return out


def revisions(repo, good, bad):
    """``(good hash, [hashes of good..bad in order, bad last], {hash: subject})``; BadInput for a folder that is not a
    git checkout, an unknown revision or a --good that is not an ancestor of --bad."""
    if _git(repo, "rev-parse", "--show-toplevel", check=False).returncode != 0:
        raise BadInput(f"--repo {repo}: not a git checkout; run from the project's checkout or pass --repo DIR")
    hashes = []
    for option, rev in (("--good", good), ("--bad", bad)):
        out = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        if out.returncode != 0:
            raise BadInput(f"{option} {rev}: unknown revision in {repo}; pass a commit, tag or branch (`git log`)")
        hashes.append(out.stdout.strip())
    if hashes[0] == hashes[1]:
        raise BadInput(f"--good {good} and --bad {bad} are the same commit ({hashes[0][:10]}): nothing lies between "
                       f"them; pass an older --good")
    if _git(repo, "merge-base", "--is-ancestor", hashes[1], hashes[0], check=False).returncode == 0:
        raise BadInput(f"--good {good} comes after --bad {bad} ({bad} is its ancestor); pass them the other way round")
    if _git(repo, "merge-base", "--is-ancestor", *hashes, check=False).returncode != 0:
        raise BadInput(f"--good {good}: not an ancestor of --bad {bad} (they are on different branches); pass an "
                       f"older --good on --bad's history")
    log = _git(repo, "log", "--reverse", "--topo-order", "--ancestry-path", "--format=%H %s",
               f"{hashes[0]}..{hashes[1]}").stdout.splitlines()
    subjects = dict(line.split(" ", 1) if " " in line else (line, "") for line in log)
    commits = list(subjects)
    subjects[hashes[0]] = _git(repo, "log", "-1", "--format=%s", hashes[0]).stdout.strip()
    return hashes[0], commits, subjects


@contextmanager
def _uninterrupted():
    """Ctrl-C ignored while worktrees are removed (a second Ctrl-C must not leave one behind)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:   # not the main thread: nothing to shield
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


class Prober:
    """Runs the check of one example at given commits, each in its own temporary worktree of ``repo``; ``close``
    removes whatever is left (call it in a ``finally``)."""

    def __init__(self, repo, example, on_record=None):
        self.repo, self.example, self.on_record = Path(repo), example, on_record
        self.root = Path(tempfile.mkdtemp(prefix="backprop-repro-bisect-"))
        self.log = []

    def run(self, commit):
        """The results record of ``commit``'s check, or None when that commit cannot run it."""
        tree, out = self.root / commit[:12], self.root / f"out-{commit[:12]}"
        try:
            if _git(self.repo, "worktree", "add", "--detach", "--quiet", str(tree), commit, check=False).returncode:
                return self._note(commit, "git worktree add failed")
            return self._check(commit, tree, out)
        finally:
            with _uninterrupted():
                self._remove(tree)
                shutil.rmtree(out, ignore_errors=True)

    def _check(self, commit, tree, out):
        package = next((p for p in ("backprop_repro", "repro") if (tree / p / "__main__.py").is_file()), None)
        if package is None:
            return self._note(commit, "neither backprop_repro nor repro has a __main__ there")
        sources = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in (tree / package).rglob("*.py"))
        options = [o for o in _OPTIONS if f'"{o}"' in sources]
        if '"--pins"' in sources and (tree / "expected_outputs").is_dir():   # never another checkout's pins
            options += ["--pins", str(tree / "expected_outputs")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), *filter(None, [os.environ.get("PYTHONPATH")])])}
        try:
            proc = subprocess.run([sys.executable, "-c", _BOOTSTRAP.format(package), "check", self.example, *options,
                                   "--out", str(out)],
                                  cwd=tree, env=env, capture_output=True, text=True, timeout=PROBE_TIMEOUT)
        except subprocess.TimeoutExpired:
            return self._note(commit, f"check took longer than {PROBE_TIMEOUT} s")
        results = out / "results.json"
        if proc.returncode not in (0, 1) or not results.is_file():
            last = (proc.stderr.strip().splitlines() or [""])[-1]
            return self._note(commit, f"check exited {proc.returncode}: {last[:200]}")
        record = json.loads(results.read_text(encoding="utf-8"))
        if self.on_record is not None:
            self.on_record(results, commit)
        self._note(commit, None)
        return record

    def _note(self, commit, problem):
        self.log.append({"commit": commit, "ran": problem is None, "problem": problem})
        return None

    def _remove(self, tree):
        if tree.exists():
            _git(self.repo, "worktree", "remove", "--force", str(tree), check=False)
            shutil.rmtree(tree, ignore_errors=True)
        _git(self.repo, "worktree", "prune", check=False)

    def close(self):
        with _uninterrupted():
            for tree in [p for p in self.root.iterdir() if p.is_dir()] if self.root.exists() else []:
                self._remove(tree)
            shutil.rmtree(self.root, ignore_errors=True)
            _git(self.repo, "worktree", "prune", check=False)


def values_of(record, example, quantity=None):
    """``{quantity: stored value}`` of one example's (or one quantity's) values in a results record."""
    rows = record_rows(record)
    return {r[1]: {"dtype": r[2], "shape": r[3], "value": r[4], "text": r[5]} for r in rows
            if r[0] == example and (quantity is None or r[1] == quantity)}


def changes_against(good, current):
    """``[{quantity, max_ulp, changed_elements}]`` of the quantities of ``good`` whose bits differ in ``current``
    (a quantity missing there is a change)."""
    changes = []
    for name, value in good.items():
        if name not in current:
            changes.append({"quantity": name, "max_ulp": None, "changed_elements": None, "dtype": value["dtype"],
                            "note": "missing"})
            continue
        same, ulp, changed = compare_values(value, current[name])
        if not same:
            changes.append({"quantity": name, "max_ulp": ulp, "changed_elements": changed, "dtype": value["dtype"],
                            "note": ""})
    return changes


def _target(record, example, quantity, good):
    values = values_of(record, example, quantity)
    if not values:
        what = f"{example}:{quantity}" if quantity else example
        raise BadInput(f"{what}: the check at --good {good} produced no such {'quantity' if quantity else 'example'} "
                       f"with a value; pass an id (and quantity) that commit knows (`backprop-repro list`)")
    return values


def bisect(repo, target, good, bad, on_record=None, progress=lambda message: None):
    """Find the first commit in good..bad whose values of ``target`` (``ID`` or ``ID:QUANTITY``) differ in any bit
    from those at ``good``: the bisect.json payload (``first`` is None when nothing changed)."""
    example, _, quantity = target.partition(":")
    good_hash, commits, subjects = revisions(repo, good, bad)
    prober = Prober(repo, example, on_record)
    found = {}
    try:
        progress(f"bisect: checking --good {good_hash[:10]}")
        good_record = prober.run(good_hash)
        if good_record is None:
            raise BadInput(f"--good {good}: its check of {example} cannot run ({prober.log[-1]['problem']}); pass a "
                           f"--good commit that runs it")
        reference = _target(good_record, example, quantity or None, good)

        def probe(i):
            progress(f"bisect: checking {commits[i][:10]} ({len(commits)} commits in range)")
            record = prober.run(commits[i])
            if record is None:
                return None
            found[i] = changes_against(reference, values_of(record, example, quantity or None))
            return bool(found[i])

        result = search(len(commits), probe)
    finally:
        prober.close()
    return _payload(target, good_hash, commits, subjects, result, found, prober.log)


def _payload(target, good_hash, commits, subjects, result, found, log):
    first = result["first"]
    return {"target": target, "good": good_hash, "bad": commits[-1], "commits_in_range": len(commits),
            "checks": len(log), "changed": result["changed"],
            "first_bad": None if first is None else {"commit": commits[first], "subject": subjects[commits[first]],
                                                     "changes": found[first]},
            "candidates": [{"commit": commits[i], "subject": subjects[commits[i]]} for i in result["candidates"]]
            if result["changed"] or result["candidates"] else [],
            "probes": [{**entry, "subject": subjects.get(entry["commit"], "")} for entry in log]}
