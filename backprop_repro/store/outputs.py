"""Output folders stay the user's: a run replaces only the files its command owns, each atomically, and
publishes them as one set without ever renaming or recreating the folder itself.

``with output_set(out, owned) as staging:`` locks ``out`` (``out/.backprop-repro.lock``), makes a private
staging folder inside it (``out/.backprop-repro-staging-XXXX``, so on the same file system) and yields it;
the command writes its files there. At the end every file is checked before anything is published: its
final place is ``out/NAME`` with symlinks resolved (a link stays a link and its target gets the contents),
it must be a regular file or absent, writable and not a mount point, and it keeps the existing file's mode.
Then a journal in the staging folder lists the renames (and the removals of owned files this run did not
write: a stale index.html never stays beside a newer results.json; an owned name that is a symlink loses
the link, never its target), and publication follows the journal: removals, then one ``os.replace`` per
file, the command's record (the first owned name) last.

The folder's mode, owner, other files, symlinks, hard links and subfolders are never touched, so ``--out .``,
a mount point and a folder with dangling links work. A replaced file that had other hard links is a new file:
the other names keep the previous contents (as with any atomic save).

All or nothing, as far as a file system allows: a failure or interruption before the journal is written
leaves every file as it was (so does a Ctrl-C that a library swallowed, the run going on: no set is
published after one, see :func:`backprop_repro.store.atomic.stop_if_interrupted`); once it is written, an
interruption completes the renames in the same process before the interrupt goes on (exit 130, the new set in
place), and a killed process leaves the journal for the next run in that folder, which completes it before
anything else. A reader looking during those few renames can see some files new and others old. The lock
and the staging folder are removed at the end of every run, interrupted or not; only a killed process (or a
rename that the file system refuses half-way, reported as exit 2) leaves them, and the next run clears them.
The lock keeps a second run from writing the same folder at the same time (bad input, exit 2). Inside
:func:`run_scope` (every command of the program) the folder is held from :func:`claim`, when ``--out`` is
checked, to the end of the run, so the second run fails before its work rather than after it; a folder the run
created and left empty is removed at the end.
"""

import errno
import json
import os
import shutil
import secrets
import stat
import sys
from contextlib import contextmanager
from pathlib import Path

from backprop_repro.store import atomic
from backprop_repro.core.errors import BadInput

__all__ = ["output_set", "run_scope", "claim", "written", "abandon", "OWNED", "LOCK_NAME", "STAGING_PREFIX"]

#: The files each command owns in its output folder. Files a command owns but did not write this time are
#: dropped (a stale index.html never stays beside a newer results.json).
OWNED = {
    "check": ("results.json", "index.html", "comparison.csv", "document_values.csv", "claims.csv"),
    # a report replaces a check's set whole: the record behind an older report is not left beside it
    "report": ("index.html", "comparison.csv", "document_values.csv", "claims.csv", "results.json"),
    "bench": ("bench.csv", "bench.json", "scaling.csv", "gates.csv"),
    "compare": ("drift.html", "drift.csv"),
    "drift": ("cpu_drift.csv", "cpu_drift.html", "cpu_drift.json"),
    "selftest": ("selftest.json",),
    "notebook": ("notebooks.json", "notebook_numbers.csv", "notebooks.html"),
    "history": ("history.csv", "history_notebooks.csv", "history_sweeps.csv", "history.html"),
    "bisect": ("bisect.json",),
}

LOCK_NAME = ".backprop-repro.lock"
STAGING_PREFIX = atomic.STAGING_PREFIX
_PREPARED = ".journal-prepared.json"   # temporary files made beside link targets outside the folder
_COMMIT = ".journal-commit.json"       # written once everything is ready: from here on the set is published


def destinations(out, owned):
    """(label, path) of every file an output set of ``owned`` in ``out`` writes, for atomic.distinct."""
    return [(str(Path(out) / name), Path(out) / name) for name in owned]


_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _bad_write(path, exc, option):
    if isinstance(exc, OSError) and exc.errno in _SPACE:
        return BadInput(f"{option} {path}: no space left while writing ({exc.strerror}); free some space or pass "
                        f"another {option}; the previous outputs were kept")
    return BadInput(f"{option} {path}: cannot write there ({getattr(exc, 'strerror', None) or exc}); pass a directory "
                    f"you can write to")


class _Lock:
    """An exclusive lock on ``directory`` through a file inside it that is removed on release.

    flock where the system has it: the holder unlinks the file while still holding it, and a taker checks that
    the file it locked is still the one named (else it retries), so a removed lock file never admits two runs.
    Elsewhere (or where the file system refuses flock) creating the file exclusively is the lock."""

    def __init__(self, directory):
        self.path = Path(directory) / LOCK_NAME
        self.fd = self._opened = None

    def acquire(self):
        """True when this process now holds the folder, False when another run does."""
        self._opened = None
        try:
            return self._acquire()
        except BaseException:   # Ctrl-C half-way: a file this run made must not stay behind
            if self.fd is not None:
                self.release()
            elif self._opened is not None:
                self._drop_unheld(self._opened)
            else:   # the interrupt ran as os.open returned, before its descriptor was kept: the file may be ours
                try:
                    self._drop_unheld(os.open(self.path, os.O_RDWR))
                except OSError:
                    pass
            raise

    def _drop_unheld(self, fd):
        """Remove the lock file ``fd`` opened when nobody holds it (a taker interrupted before it locked)."""
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.path.samestat(os.fstat(fd), os.stat(self.path)):
                self.path.unlink()
        except (ImportError, OSError):   # held by another run, or gone already
            pass
        finally:
            os.close(fd)

    def _acquire(self):
        try:
            import fcntl
        except ImportError:
            fcntl = None
        while fcntl is not None:
            fd = self._opened = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._opened = None
                os.close(fd)
                return False
            except OSError as exc:
                self._opened = None
                os.close(fd)
                if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                break   # no flock on this file system: fall back to exclusive creation
            try:
                current = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                current = False
            if current:
                self.fd, self._opened = fd, None
                return True
            self._opened = None
            os.close(fd)   # the previous holder removed it after we opened it: take the new one
        try:
            if self.path.exists() and not self._soft_owner_alive():
                self.path.unlink(missing_ok=True)
            self._opened = None
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        os.write(self.fd, str(os.getpid()).encode())
        return True

    def _soft_owner_alive(self):
        """Whether the process named in an exclusive-creation lock still runs (assumed where it cannot be asked:
        on Windows os.kill would end it)."""
        if os.name == "nt":
            return True
        try:
            pid = int(self.path.read_text() or "0")
            if pid <= 0:
                return False
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except (ValueError, OSError):   # unreadable, or alive but another user's
            return not isinstance(sys.exc_info()[1], ValueError)
        return True

    def release(self):
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)   # while still holding it: see the class docstring
        except OSError:
            pass
        finally:
            os.close(self.fd)
            self.fd = None


def _recover(staging):
    """Finish a committed publication (its journal is there) or drop an uncommitted one; remove ``staging``.
    Used at the end of every run and, for a run that was killed, by the next run in the folder. True when a
    publication was completed."""
    commit = staging / _COMMIT
    journal = None
    if commit.is_file():
        try:
            journal = json.loads(commit.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            journal = None
    if journal is not None:
        for path in journal["remove"]:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        for tmp, final in journal["rename"]:
            if os.path.lexists(tmp):
                os.replace(tmp, final)
        for folder in {os.path.dirname(final) for _, final in journal["rename"]}:
            _fsync_dir(folder)
    else:
        try:
            temps = json.loads((staging / _PREPARED).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            temps = []
        for tmp in temps:
            Path(tmp).unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    return journal is not None


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:   # not every system fsyncs directories; the renames are done either way
        pass
    finally:
        os.close(fd)


def _publish(out, staging, owned, option, after_interrupt=False):
    """Check every file of the set, write the journal, then apply it (see the module docstring)."""
    label = f"{option} {out}"
    elsewhere = f"pass another {option}"
    out_real = os.path.realpath(out)
    renames, removals, outside, finals = [], [], [], []
    for rank, name in enumerate(owned):
        dest = out / name
        if os.path.lexists(staging / name):
            final = atomic.resolve_target(dest, f"{label}: {name}", elsewhere)
            finals.append((str(dest), final))
            if os.path.dirname(final) == out_real:
                atomic.apply_mode(staging / name, *atomic.kept_mode(final))
                renames.append((rank, str(staging / name), str(final)))
            else:   # a link to a file in another folder: its temporary file must sit beside it
                outside.append((rank, name, final))
        elif os.path.lexists(dest):
            if not (dest.is_symlink() or stat.S_ISREG(dest.lstat().st_mode)):
                raise BadInput(f"{label}: {name} is not a regular file, and this command owns that name; move it "
                               f"away or {elsewhere}")
            removals.append(str(dest))
    atomic.distinct(finals)
    temps = []
    try:
        for rank, name, final in outside:
            tmp = atomic.temp_name(final)
            temps.append(str(tmp))
            atomic.write_text(staging / _PREPARED, json.dumps(temps))   # before it exists: a kill never strands it
            atomic.temp_beside(final, (staging / name).read_bytes(), f"{label}: {name}", elsewhere,
                               user_path=out / name, tmp=tmp)
            renames.append((rank, str(tmp), str(final)))
    except BaseException:
        for tmp in temps:
            Path(tmp).unlink(missing_ok=True)
        raise
    renames.sort(key=lambda entry: -entry[0])   # the record (first owned name) lands last
    if not after_interrupt:   # the last moment: a Ctrl-C that a library swallowed still keeps the previous set
        atomic.stop_if_interrupted()
    atomic.write_text(staging / _COMMIT, json.dumps({"rename": [[tmp, final] for _, tmp, final in renames],
                                                     "remove": removals}))
    _WRITTEN.append(label)   # committed: from here on the new set is what an interrupt leaves
    try:
        _recover(staging)
    except OSError as exc:
        raise BadInput(f"{label}: publishing the new files failed half-way ({exc.strerror or exc}: "
                       f"{getattr(exc, 'filename', '')}); the next run in this folder completes it") from None


#: The run in progress (see :func:`run_scope`): the folders it holds, {real path: {"lock", "created", "option"}}.
_RUN = None
#: What the last run published or wrote, for the interrupt message: output folders and single files.
_WRITTEN = []


@contextmanager
def run_scope():
    """One command's run. Every folder :func:`claim` hands out in it stays locked until the run ends, however
    it ends; a folder the run created is removed again if it is still empty then (bad input found after the
    folder was made leaves nothing behind; an existing folder is never removed)."""
    global _RUN
    outer, _RUN = _RUN, {}
    _WRITTEN.clear()
    atomic.forget_written()
    atomic.INTERRUPTS.clear()   # an earlier run's Ctrl-C (main() called again in one process) is not this run's
    try:
        yield
    finally:
        held, _RUN = _RUN, outer
        for entry in reversed(list({id(e): e for e in held.values()}.values())):   # one entry may have 2 keys
            if entry["lock"] is not None:
                entry["lock"].release()
            for folder in reversed(entry["created"]):   # deepest first; stops at the first that is not empty
                try:
                    os.rmdir(folder)
                except OSError:
                    break


def abandon():
    """For a process about to end without unwinding (an interrupted run that hung): drop the uncommitted staging
    folders and the locks of the folders this run holds, and the empty folders it made. A committed journal stays
    for the next run to complete."""
    for entry in list({id(e): e for e in (_RUN or {}).values()}.values()):
        lock = entry["lock"]
        if lock is None or lock.fd is None:
            continue
        for staging in lock.path.parent.glob(STAGING_PREFIX + "*"):
            if not (staging / _COMMIT).exists():
                shutil.rmtree(staging, ignore_errors=True)
        lock.release()
        for folder in reversed(entry["created"]):
            try:
                os.rmdir(folder)
            except OSError:
                break


def written():
    """What this run has published so far (output folders, then single files such as pins), as the user named
    them: the interrupt message says which files are new."""
    return list(_WRITTEN) + [label for label in atomic.written() if label not in _WRITTEN]


def _make_dirs(out, created, option):
    """Create ``out`` and its missing parents, noting each one this run makes in ``created`` (before it exists,
    so that an interrupt cannot strand it) in the order made."""
    missing = []
    folder = Path(os.path.abspath(out))
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        created.append(folder)
        try:
            os.mkdir(folder)
        except FileExistsError:
            created.remove(folder)   # made by someone else meanwhile: theirs
        except OSError as exc:
            created.remove(folder)
            raise _bad_write(out, exc, option) from None


def claim(out, option="--out", lock=True):
    """``out`` as a folder of this run: created if missing and, inside :func:`run_scope`, held (``lock``)
    from now until the run ends, so that a second run on the same folder fails at once instead of after its
    work. Bad input if it is not a directory or another run holds it."""
    out = Path(out)
    entry = {"lock": None, "created": [], "option": option}
    if _RUN is not None:
        entry = _RUN.setdefault(os.path.realpath(out) if os.path.lexists(out) else os.path.abspath(out), entry)
    _make_dirs(out, entry["created"], option)
    if not out.is_dir():
        raise BadInput(f"{option} {out}: exists and is not a directory; pass a directory")
    if _RUN is None or not lock or entry["lock"] is not None:
        return out
    held = _Lock(out)
    entry["lock"] = held    # before it exists: the end of the run removes it, however the run ends
    try:
        if held.acquire():
            _RUN[os.path.realpath(out)] = entry
            return out
    except OSError as exc:
        entry["lock"] = None
        raise _bad_write(out, exc, option) from None
    entry["lock"] = None
    raise BadInput(f"{option} {out}: another backprop-repro run is writing there now; wait for it or pass another "
                   f"{option} (if none runs, remove {held.path})")


def _held(out):
    """Whether this run already holds ``out`` (claimed at the start of the run)."""
    entry = (_RUN or {}).get(os.path.realpath(out))
    return entry is not None and entry["lock"] is not None and entry["lock"].fd is not None


@contextmanager
def output_set(out, owned, option="--out", after_interrupt=False):
    """See the module docstring. After a Ctrl-C this process received but did not end on (a library swallowed
    it), nothing is published (KeyboardInterrupt) unless ``after_interrupt``: a command that caught the interrupt
    itself to keep its partial work, marked partial (a sweep's finished seeds)."""
    out = claim(out, option, lock=False)
    label = f"{option} {out}"
    lock = _Lock(out)
    if not _held(out):   # a caller outside a run (a library use): held for the publication only
        try:
            if not lock.acquire():
                raise BadInput(f"{option} {out}: another backprop-repro run is writing there now; wait for it or "
                               f"pass another {option} (if none runs, remove {lock.path})")
        except OSError as exc:
            raise _bad_write(out, exc, option) from None
    staging = None
    try:
        if not after_interrupt:
            atomic.stop_if_interrupted()
        for stale in out.glob(STAGING_PREFIX + "*"):   # left by a killed run: complete or drop it first
            if stale.is_dir() and not stale.is_symlink():
                _recover(stale)
        # named before it exists, so that the cleanup below covers an interrupt inside or right after mkdir
        staging = out / f"{STAGING_PREFIX}{secrets.token_hex(6)}"
        try:
            os.mkdir(staging, 0o700)
        except OSError as exc:
            if exc.errno == errno.EEXIST:   # not ours (ours are named at random): never touch it
                staging = None
            raise _bad_write(out, exc, option) from None
        try:
            yield staging
        except atomic.WriteFailed as exc:
            if staging not in exc.path.parents:
                raise
            fix = "free some space" if exc.errno in _SPACE else "make it writable"
            raise BadInput(f"{option} {out}: {exc.problem} while writing {exc.path.relative_to(staging)}; {fix} or "
                           f"pass another {option}; the previous outputs were kept") from None
        except OSError as exc:
            if exc.errno in (*_SPACE, errno.EACCES, errno.EROFS):
                raise _bad_write(out, exc, option) from None
            raise
        try:
            _publish(out, staging, owned, option, after_interrupt)
        except OSError as exc:
            raise _bad_write(out, exc, option) from None
    finally:
        try:
            if staging is not None and os.path.lexists(staging) and _recover(staging) and label not in _WRITTEN:
                _WRITTEN.append(label)
        except OSError:
            pass    # a committed journal the file system would not apply: the next run completes it
        finally:
            lock.release()
