"""The one way every file is written: records, reports, pins, ``--junit-xml``, ``$GITHUB_STEP_SUMMARY``.

``write_text(path, text)`` writes a temporary file beside the final file, fsyncs it and renames it over
the final file, so that a reader sees the old contents or the new, never a part. The final file is
``path`` with every symlink resolved (the link stays a link, its target gets the new contents); an
existing file keeps its mode (and, for root, its owner). Anything that is not a regular file (a
directory, a device, a FIFO, a socket, a mount point) and a read-only file are refused, as is every
failure to write: all raise :class:`WriteFailed` (bad input, exit 2) naming the path the user gave, never
the temporary file. ``distinct`` refuses two outputs of one run that land on the same file.
"""

import errno
import functools
import os
import re
import secrets
import stat
from pathlib import Path

from backprop_repro.core.errors import BadInput

__all__ = ["write_text", "write_bytes", "resolve_target", "read_only_file", "distinct", "temp_beside", "temp_name",
           "kept_mode", "apply_mode", "WriteFailed", "INTERRUPTS", "stop_if_interrupted"]

MOUNTINFO = "/proc/self/mountinfo"
#: The private folder an output set is written in before it is published (see store/outputs.py).
STAGING_PREFIX = ".backprop-repro-staging-"
_WRITTEN = []   # the files this run has replaced, as the user named them (staging files not counted)


def written():
    """The labels of the files written so far in this run (for the interrupt message)."""
    return list(_WRITTEN)


def forget_written():
    _WRITTEN.clear()


#: The Ctrl-Cs this run received (the program's SIGINT handler appends to it; outputs.run_scope clears it). A
#: library can swallow the KeyboardInterrupt (in a weakref callback or a ``__del__`` it is unraisable; an optional
#: import's ``except ImportError`` catches what a C extension's init turns it into) and the run goes on: after one,
#: no output is published (see :func:`stop_if_interrupted`), so an interrupt keeps the previous files whatever
#: caught it.
INTERRUPTS = []


def stop_if_interrupted():
    """Raise KeyboardInterrupt if this run received a Ctrl-C that did not end the run (it was swallowed)."""
    if INTERRUPTS:
        raise KeyboardInterrupt


_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))


class WriteFailed(BadInput):
    """A file could not be written (or must not be): ``label: problem; fix``. ``path`` is the path as given."""

    def __init__(self, path, label, problem, fix, errno=None):
        self.path, self.label, self.problem, self.fix, self.errno = Path(path), label, problem, fix, errno
        super().__init__(f"{label}: {problem}; {fix}")


def _failed(path, label, elsewhere, exc=None, problem=None):
    if exc is not None:
        reason = exc.strerror or str(exc)
        if exc.errno in _SPACE:
            return WriteFailed(path, label, f"no space left on the device ({reason})",
                               f"free some space or {elsewhere}; the file was left as it was", exc.errno)
        return WriteFailed(path, label, f"cannot write there ({reason})", f"make it writable or {elsewhere}",
                           exc.errno)
    return WriteFailed(path, label, problem, f"make it writable or {elsewhere}")


_READ_ONLY_FOLDERS = []


def set_read_only_folders(folders):
    """The folders this run only reads (the pins, for every command but the ones that update them): no write of
    this module lands in them, also not through a link."""
    _READ_ONLY_FOLDERS[:] = [Path(os.path.realpath(folder)) for folder in folders]


def refuse_read_only_folder(path, label=None, elsewhere="write elsewhere"):
    """A ``WriteFailed`` when ``path`` (its links resolved) lies in a folder this run only reads."""
    final = Path(os.path.realpath(path))
    for folder in _READ_ONLY_FOLDERS:
        if final == folder or folder in final.parents:
            link = f" (a link to {final})" if final != Path(os.path.abspath(path)) else ""
            raise WriteFailed(Path(path), label or str(path), f"is in the pin folder {folder}{link}, which this "
                              f"command only reads", elsewhere)


def resolve_target(path, label=None, elsewhere="write elsewhere"):
    """The file a write to ``path`` replaces: ``path`` with its symlinks resolved, checked to be a regular file
    (or absent) in an existing directory, writable and not a mount point."""
    path = Path(path)
    label = label or str(path)
    refuse_read_only_folder(path, label, elsewhere)
    final = Path(os.path.realpath(path))
    link = f" (a link to {final})" if final != Path(os.path.abspath(path)) else ""
    try:
        st = os.stat(final)
    except FileNotFoundError:
        if not final.parent.is_dir():
            raise WriteFailed(path, label, f"no such directory {final.parent}{link}",
                              f"create it or {elsewhere}") from None
        st = None
    except OSError as exc:   # a link loop, a path through a file
        raise WriteFailed(path, label, f"cannot resolve the path ({exc.strerror or exc})", elsewhere) from None
    for test, kind in _KINDS if st is not None else ():
        if test(st.st_mode):
            raise WriteFailed(path, label, f"is {kind}{link}, not a regular file",
                              f"move it away or {elsewhere} (give the path of a regular file)")
    if st is not None and _mount_point(final):
        raise WriteFailed(path, label, f"is a mount point{link}; it cannot be replaced atomically", elsewhere)
    if not os.access(final.parent, os.W_OK | os.X_OK):   # the temporary file and the rename need the folder
        raise WriteFailed(path, label, f"its folder {final.parent} is read-only{link}",
                          f"make it writable or {elsewhere}", errno.EACCES)
    if st is not None and read_only_file(final, st):
        raise WriteFailed(path, label, f"the file is read-only{link}", f"make it writable (chmod u+w) or {elsewhere}")
    return final


def read_only_file(path, st):
    """Whether the file at ``path`` (``os.stat`` result ``st``) is read-only: os.access says yes to root for any
    file, but a file without a write bit is read-only for root too (its owner meant it so), refused rather than
    silently replaced."""
    return not (os.access(path, os.W_OK) and st.st_mode & 0o222)


def _mount_point(final):
    """Whether a file is mounted over (a bind mount, as containers do with single files): renaming onto it fails.
    Linux lists them in /proc/self/mountinfo; st_dev cannot tell (overlay file systems report other devices)."""
    try:
        with open(MOUNTINFO, "rb") as handle:
            points = [line.split()[4] for line in handle if len(line.split()) > 4]
    except OSError:
        return False
    name = os.fsencode(final)
    return any(re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), p) == name for p in points)


def kept_mode(final):
    """(mode, owner) that a new file at ``final`` gets: the existing file's, else the usual 0666 - umask."""
    try:
        st = os.stat(final)
    except FileNotFoundError:
        return 0o666 & ~_umask(), None
    return stat.S_IMODE(st.st_mode), (st.st_uid, st.st_gid)


@functools.lru_cache(maxsize=None)
def _umask():
    """The process's umask, read once: reading it means setting it, which other threads must not see twice."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply_mode(path, mode, owner):
    """Give a new file the mode (and, as root, the owner) of the file it replaces."""
    os.chmod(path, mode)   # created 0600; by path, as Windows has no fchmod
    if owner is not None and hasattr(os, "geteuid") and os.geteuid() == 0 and owner != (os.getuid(), os.getgid()):
        try:
            os.chown(path, *owner)
        except OSError:   # a file system without owners: the contents matter more
            pass


def temp_name(final):
    """A fresh name for a temporary file beside ``final`` (known before the file exists, for a journal)."""
    final = Path(final)
    return final.parent / f".{final.name}.{secrets.token_hex(6)}.tmp"


def temp_beside(final, data, label=None, elsewhere="write elsewhere", user_path=None, tmp=None):
    """A complete, fsynced temporary copy of ``data`` beside ``final`` (at ``tmp`` if given) with ``final``'s
    kept mode; its path. Renaming it over ``final`` is the atomic step (``os.replace``)."""
    final = Path(final)
    user_path = user_path or final
    mode, owner = kept_mode(final)
    tmp = Path(tmp or temp_name(final))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    except OSError as exc:
        raise _failed(user_path, label or str(user_path), elsewhere, exc) from None
    except BaseException:   # Ctrl-C as os.open returned, before its descriptor was kept: the file is ours
        tmp.unlink(missing_ok=True)
        raise
    try:
        try:
            apply_mode(tmp, mode, owner)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _failed(user_path, label or str(user_path), elsewhere, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_bytes(path, data, label=None, append=False, elsewhere="write elsewhere", published=True):
    """Replace the file at ``path`` (through its symlinks) with ``data`` atomically; ``append`` keeps its
    current contents in front. Raises WriteFailed (exit 2) naming ``label`` or ``path``. ``published=False``: a
    working file of the run (a resume journal entry), which the interrupt message does not list as an output.
    After a swallowed Ctrl-C a published file is not written: KeyboardInterrupt."""
    label = label or str(path)
    staged = any(part.startswith(STAGING_PREFIX) for part in Path(path).parts)
    if published and not staged:
        stop_if_interrupted()
    final = resolve_target(path, label, elsewhere)
    if append:
        try:
            data = final.read_bytes() + data
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise WriteFailed(path, label, f"cannot read it to append ({exc.strerror or exc})", elsewhere) from None
    tmp = temp_beside(final, data, label, elsewhere, user_path=path)
    try:
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _failed(path, label, elsewhere, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if published and not staged:
        _WRITTEN.append(label)
    return final


def write_text(path, text, label=None, append=False, elsewhere="write elsewhere", published=True):
    """``write_bytes`` of ``text`` as UTF-8 with ``\\n`` line ends."""
    return write_bytes(path, text.encode("utf-8"), label, append, elsewhere, published)


def distinct(outputs):
    """Refuse (exit 2) when two of ``outputs`` (pairs of label and path) are the same file after resolving
    symlinks: one output of a run would overwrite another."""
    seen = {}
    for label, path in outputs:
        if path is None:
            continue
        real = os.path.realpath(path)
        if real in seen:
            raise BadInput(f"{label}: is the same file as {seen[real]} ({real}), which this run also writes; "
                           f"pass another path")
        seen[real] = label
