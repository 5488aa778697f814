"""Output folders as one unit: a run writes its whole set into a staging folder and swaps it in at the end.

``with output_set(out, owned) as staging:`` yields a fresh staging folder beside ``out`` (its creation is
the write probe: unique, so parallel runs never collide); the command writes its files there. On success
the files of ``out`` that this command does not own (another command's outputs) are carried over, and
the staging folder replaces ``out`` (two renames; an interruption between them is repaired by the next
run, which restores the previous set). On any failure or interruption the staging folder is removed and
``out`` keeps its previous complete set. A lock beside the folder (``filelock``) keeps two runs from
writing the same folder at once: the second is bad input (exit 2), never a mix.
"""

import errno
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import BadInput

__all__ = ["output_set", "OWNED"]

#: The files each command owns in its output folder. Files a command owns but did not write this time are
#: dropped (a stale index.html never stays beside a newer results.json).
OWNED = {
    "check": ("results.json", "index.html", "comparison.csv", "document_values.csv", "claims.csv"),
    "report": ("index.html", "comparison.csv", "document_values.csv", "claims.csv"),
    "bench": ("bench.csv", "bench.json", "scaling.csv", "gates.csv"),
    "compare": ("drift.html", "drift.csv"),
    "drift": ("cpu_drift.csv", "cpu_drift.html", "cpu_drift.json"),
    "selftest": ("selftest.json",),
    "notebook": ("notebooks.json", "notebook_numbers.csv", "notebooks.html"),
}


def _previous(out):
    return out.parent / f".{out.name}.previous"


def _repair(out):
    """Finish or undo a swap that an interruption cut between its two renames."""
    previous = _previous(out)
    if previous.exists():
        if not out.exists():
            os.rename(previous, out)
        else:
            shutil.rmtree(previous, ignore_errors=True)


def _bad_write(path, exc, option):
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return BadInput(f"{option} {path}: no space left while writing ({exc.strerror}); free some space or pass "
                        f"another {option}; the previous outputs were kept")
    return BadInput(f"{option} {path}: cannot write there ({getattr(exc, 'strerror', None) or exc}); pass a directory "
                    f"you can write to")


@contextmanager
def output_set(out, owned, option="--out"):
    out = Path(out)
    from filelock import FileLock, Timeout

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists() and not out.is_dir():
            raise BadInput(f"{option} {out}: exists and is not a directory; pass a directory")
        lock = FileLock(str(out.parent / f".{out.name}.lock"), timeout=0)
        lock.acquire()
    except Timeout:
        raise BadInput(f"{option} {out}: another backprop-repro run is writing there now; wait for it or pass another "
                       f"{option}") from None
    except OSError as exc:
        raise _bad_write(out, exc, option) from None
    staging = None
    try:
        _repair(out)
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
        except OSError as exc:
            raise _bad_write(out, exc, option) from None
        try:
            yield staging
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EROFS):
                raise _bad_write(out, exc, option) from None
            raise
        try:
            if out.is_dir():
                for item in out.iterdir():
                    if item.name not in owned and not (staging / item.name).exists():
                        target = staging / item.name
                        if item.is_dir():
                            shutil.copytree(item, target)
                        else:
                            shutil.copy2(item, target)
            os.chmod(staging, 0o755 & ~_umask())
            if out.exists():
                os.rename(out, _previous(out))
            os.rename(staging, out)
            staging = None
            shutil.rmtree(_previous(out), ignore_errors=True)
        except OSError as exc:
            raise _bad_write(out, exc, option) from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        _repair(out)
        lock.release()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
