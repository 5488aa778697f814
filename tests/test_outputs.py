"""Outputs as one unit: a staging folder inside the output folder published file by file under a journal,
files of other commands kept, a lock against concurrent runs, full disks and interruptions that leave the
previous complete set, kills completed by the next run, and no lock or staging file left behind."""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from backprop_repro.store import atomic, outputs
from backprop_repro.render import report
from backprop_repro.cli.commands import main
from backprop_repro.store.outputs import LOCK_NAME, output_set

from .conftest import PINS_DIR, ROOT


def _same_run(out):
    """results.json and index.html of ``out`` come from one run (the created stamp of one is in the other)."""
    created = json.loads((out / "results.json").read_text())["environment"]["created"]
    return created in (out / "index.html").read_text()


@pytest.fixture
def previous(tmp_path):
    out = tmp_path / "out"
    assert main(["check", "feed_forward", "--out", str(out), "--quiet"]) == 0
    return out, {p.name: p.read_bytes() for p in out.iterdir()}


def _unchanged(out, before, but_ours=False):
    """``out`` holds exactly the files ``before`` (``but_ours``: not counting a killed run's lock and staging)."""
    return {p.name: p.read_bytes() for p in out.iterdir()
            if not (but_ours and p.name.startswith(".backprop-repro"))} == before


def _differences(out, before):
    """How ``out`` differs from the files ``before``: names extra, missing and changed (empty when unchanged)."""
    now = {p.name: p.read_bytes() if p.is_file() else None for p in out.iterdir()}
    found = {"extra": sorted(set(now) - set(before)), "missing": sorted(set(before) - set(now)),
             "changed": sorted(n for n in set(now) & set(before) if now[n] != before[n])}
    return {kind: names for kind, names in found.items() if names}


def _leftovers(out):
    """Lock, staging and temporary files of ours in ``out`` or beside it (the old layout's too)."""
    return ([p.name for p in out.iterdir() if p.name.startswith(".backprop-repro") or p.name.endswith(".tmp")]
            + [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")])


def test_interrupted_report_leaves_the_previous_complete_set(previous, monkeypatch):
    out, before = previous

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "write_report", interrupted)
    assert main(["check", "feed_forward", "--out", str(out), "--quiet"]) == 130
    assert _unchanged(out, before) and _same_run(out)
    assert not _leftovers(out)


def test_full_disk_is_bad_input_and_keeps_the_previous_set(previous, monkeypatch, capsys):
    out, before = previous
    real = atomic.write_text

    def full(path, text):
        if path.name == "index.html":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, text)

    monkeypatch.setattr(atomic, "write_text", full)
    assert main(["check", "feed_forward", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no space left" in err and str(out) in err and err.count("\n") == 1 and "Traceback" not in err
    assert ".tmp" not in err and "staging" not in err
    assert _unchanged(out, before) and not _leftovers(out)


def test_other_commands_files_are_kept_and_a_stale_report_is_dropped(previous):
    out, _ = previous
    (out / "bench.csv").write_text("network\n")
    assert main(["check", "feed_forward", "--out", str(out), "--quiet", "--no-report"]) == 0
    names = {p.name for p in out.iterdir()}
    assert "bench.csv" in names and "results.json" in names and "index.html" not in names


def test_a_concurrent_run_on_the_same_folder_is_bad_input(previous, capsys):
    out, before = previous
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom backprop_repro.store.outputs import output_set\n"
                               "with output_set(sys.argv[1], ()):\n    print('held', flush=True); time.sleep(60)",
                               str(out)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["check", "feed_forward", "--out", str(out), "--quiet"]) == 2
    finally:
        holder.kill()
        holder.communicate()
    assert "another backprop-repro run" in capsys.readouterr().err and _unchanged(out, before, but_ours=True)
    # the killed holder's lock file is free again: the next run takes it, and removes it at its end
    assert main(["check", "feed_forward", "--out", str(out), "--quiet"]) == 0 and not _leftovers(out)


def test_the_lock_file_is_removed_and_never_admits_two_holders(tmp_path, monkeypatch):
    import fcntl

    from backprop_repro.store.outputs import _Lock

    first, second = _Lock(tmp_path), _Lock(tmp_path)
    assert first.acquire() and not second.acquire()
    first.release()
    assert not (tmp_path / LOCK_NAME).exists()
    # the race: a taker opens the file, its holder removes it and lets go, the taker locks the removed file; it
    # must retry on a new file, else a third run could lock that new one and two runs would hold the folder
    holder, taker = _Lock(tmp_path), _Lock(tmp_path)
    assert holder.acquire()
    real = fcntl.flock

    def flock(fd, operation):
        if holder.fd is not None:
            holder.release()
        return real(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    assert taker.acquire()
    monkeypatch.setattr(fcntl, "flock", real)
    assert os.path.samestat(os.fstat(taker.fd), os.stat(tmp_path / LOCK_NAME))
    assert not _Lock(tmp_path).acquire()
    taker.release()
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("made", [".backprop-repro.lock", ".x.txt."])
def test_a_ctrl_c_as_a_file_is_opened_leaves_no_file(tmp_path, monkeypatch, made):
    """The interrupt handler runs as os.open returns, before the descriptor is stored: the lock file (or a
    temporary file beside an output) the call made is removed all the same."""
    real, interrupts = os.open, [KeyboardInterrupt]

    def opened_then_interrupted(path, *args, **kwargs):
        fd = real(path, *args, **kwargs)
        if os.path.basename(path).startswith(made) and interrupts:
            raise interrupts.pop()
        return fd

    monkeypatch.setattr(os, "open", opened_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        with outputs.run_scope():
            outputs.claim(tmp_path / "out")
            atomic.write_text(tmp_path / "x.txt", "new")
    monkeypatch.setattr(os, "open", real)
    assert not list(tmp_path.iterdir())   # nor the folder the run made (empty again)


def test_without_flock_exclusive_creation_is_the_lock(tmp_path, monkeypatch):
    """Where the file system refuses flock (some network mounts): a second run is refused, a killed run's lock
    (its process gone) is taken over, and the file goes at release."""
    import fcntl

    from backprop_repro.store.outputs import _Lock

    def refused(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", refused)
    first, second = _Lock(tmp_path), _Lock(tmp_path)
    assert first.acquire() and not second.acquire()
    first.release()
    assert not list(tmp_path.iterdir())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / LOCK_NAME).write_text(dead.stdout.strip())
    assert second.acquire()
    second.release()
    assert not list(tmp_path.iterdir())


def test_a_publication_cut_by_a_kill_is_completed_by_the_next_run(previous):
    out, before = previous
    script = ("import os, signal, sys\nfrom backprop_repro.cli.commands import main\n"
              "from backprop_repro.store.outputs import STAGING_PREFIX as STAGING\nreal, seen = os.replace, []\n"
              "def replace(src, dst):\n"
              "    if STAGING in str(src) and STAGING not in str(dst):\n"
              "        seen.append(dst)\n"
              "        if len(seen) == 5:   # results.json, the last\n"
              "            os.kill(os.getpid(), signal.SIGKILL)\n"
              "    real(src, dst)\n"
              "os.replace = replace\n"
              "sys.exit(main(['check', 'feed_forward', 'losses', '--jobs', '1', '--out', sys.argv[1], '--quiet']))\n")
    # --jobs 1: a SIGKILLed parent would strand pool workers
    done = subprocess.run([sys.executable, "-c", script, str(out)], cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr

    # killed half-way: the report is new (it has the second example), the record old; journal and lock remain
    assert "losses" in (out / "index.html").read_text()
    assert (out / "results.json").read_bytes() == before["results.json"]
    assert _leftovers(out)
    with output_set(out, ("unrelated.txt",)):            # any next run in the folder completes it first
        pass
    assert "losses" in (out / "results.json").read_text() and _same_run(out) and not _leftovers(out)


@pytest.mark.parametrize("delay", [0.8, pytest.param(1.6, marks=pytest.mark.slow), 2.4,
                                   pytest.param(3.2, marks=pytest.mark.slow)])
def test_ctrl_c_at_any_point_of_check_leaves_a_whole_folder(previous, delay):
    out, before = previous
    proc = subprocess.Popen([sys.executable, "-m", "backprop_repro", "check", "--out", str(out), "--quiet"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 130), err
    assert "Traceback" not in err
    differences = _differences(out, before)
    assert _same_run(out), (differences, err)     # the old set or the new one, never a mix
    if proc.returncode == 130 and f"published --out {out} (complete, new)" in err:
        # interrupted after the publication (printing the summary): the line says so, the set is whole and new
        assert err.count("\n") == 1 and set(differences) == {"changed"}, (differences, err)
    elif proc.returncode == 130:   # in start-up, in the run, or ended by the watchdog: one line, nothing new
        assert err.count("\n") == 1 and "published" not in err and not differences, (differences, err)
    assert not _leftovers(out), (_leftovers(out), err)


INTERRUPTED_LINE = "backprop-repro: interrupted; pins and output folders keep their previous complete contents\n"
# A real Ctrl-C whose KeyboardInterrupt is raised in a __del__ (as in importlib's module-lock weakref callback,
# which runs at every import of start-up): unraisable, so the run goes on (program mode: the real handlers)
_SWALLOWED = ("import os, signal, sys\nsys.argv[0] = 'backprop-repro'\n"
              "from backprop_repro.cli.program import main\nfrom backprop_repro.sources import runner\n"
              "class Swallowed:\n    def __del__(self):\n        os.kill(os.getpid(), signal.SIGINT)\n"
              "real = runner.check\n"
              "def check(*args, **kwargs):\n    Swallowed()\n    return real(*args, **kwargs)\n"
              "runner.check = check\n"
              "sys.exit(main(['check', 'feed_forward', '--jobs', '1', '--out', sys.argv[1], '--quiet']))\n")


def test_a_ctrl_c_a_library_swallowed_still_keeps_the_previous_set(previous):
    """The flaky exit-130 run that had replaced the folder: the interrupt was swallowed, the run went on and
    published, then reported 130. Now it ends at the next step with the previous set and the usual line."""
    out, before = previous
    done = subprocess.run([sys.executable, "-c", _SWALLOWED, str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 130, done.stderr
    assert done.stderr == INTERRUPTED_LINE and "PASS" not in done.stdout   # stopped before the verdict
    assert not _differences(out, before) and not _leftovers(out)


def test_a_swallowed_ctrl_c_during_the_report_publishes_nothing(previous, monkeypatch):
    """The last moment: a Ctrl-C swallowed after the last example (while the report is written) still keeps the
    previous set: the publication checks before its journal makes the new set the published one."""
    from backprop_repro.cli import program

    out, before = previous
    noted, real = atomic.INTERRUPTS, report.write_report

    def swallowed(*args, **kwargs):
        noted.append(signal.SIGINT)   # what the program's handler notes before its raise, which is lost here
        return real(*args, **kwargs)

    monkeypatch.setattr(report, "write_report", swallowed)
    try:
        assert main(["check", "feed_forward", "--out", str(out), "--quiet"]) == 130
    finally:
        noted.clear()
    assert not _differences(out, before) and not _leftovers(out), _differences(out, before)


def test_a_ctrl_c_an_earlier_run_in_the_process_noted_does_not_stop_the_next_run(previous):
    """main() called again in one process (tests, a program that embeds the tool): the interrupt an earlier run
    noted is that run's; the next run judges and publishes as usual."""
    from backprop_repro.cli import program

    out, _ = previous
    published = (out / "results.json").stat().st_ino
    atomic.INTERRUPTS.append(signal.SIGINT)    # what an earlier run's handler noted
    try:
        assert main(["check", "feed_forward", "--out", str(out), "--quiet"]) == 0
    finally:
        atomic.INTERRUPTS.clear()
    assert (out / "results.json").stat().st_ino != published     # a new set (the same bytes, within a second)


def test_after_a_swallowed_ctrl_c_only_a_set_kept_on_purpose_is_published(tmp_path, monkeypatch):
    """A command that caught the interrupt itself to keep its partial work (a sweep) publishes it under its own
    name; any other output set, and any other published file, is refused; a working file is still written."""
    monkeypatch.setattr(atomic, "INTERRUPTS", [signal.SIGINT])
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        with output_set(out, ("a.txt",)) as staging:
            (staging / "a.txt").write_text("new")
    with output_set(out, ("a.partial.txt",), after_interrupt=True) as staging:
        (staging / "a.partial.txt").write_text("partial")
    assert sorted(p.name for p in out.iterdir()) == ["a.partial.txt"]
    with pytest.raises(KeyboardInterrupt):
        atomic.write_text(tmp_path / "junit.xml", "<testsuite/>")
    atomic.write_text(tmp_path / "entry.json", "{}", published=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry.json", "out"]
    monkeypatch.setattr(atomic, "INTERRUPTS", [])    # the same writes without an interrupt go through
    with output_set(out, ("a.txt",)) as staging:
        (staging / "a.txt").write_text("new")
    assert (out / "a.txt").read_text() == "new"


@pytest.mark.slow
def test_a_partial_sweep_never_replaces_a_complete_one(tmp_path):
    pins = tmp_path / "pins"
    pins.mkdir()
    out = tmp_path / "o"
    assert main(["sweep", "xor_341", "--seeds", "200", "--out", str(out), "--pins", str(pins), "--no-progress",
                 "--update-pin"]) == 1
    complete = (out / "sweep-xor_341.json").read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "backprop_repro", "sweep", "xor_341", "--seeds", "100000", "--no-progress",
                             "--out", str(out), "--pins", str(pins)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(3.0)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert (out / "sweep-xor_341.json").read_bytes() == complete
    partial = json.loads((out / "sweep-xor_341.partial.json").read_text())
    assert partial["sweeps"][0]["partial"]


def test_a_second_run_on_a_folder_fails_at_once_while_the_first_works(tmp_path):
    """Two real processes on one --out: the folder is held from the moment --out is checked, not only while
    publishing, so the second run fails at once (exit 2, one line) instead of running beside the first; the
    first, interrupted, leaves no lock behind."""
    out = tmp_path / "out"
    first = subprocess.Popen([sys.executable, "-m", "backprop_repro", "check", "--jobs", "1", "--out", str(out)],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert first.stderr.readline()                    # a progress line: past the checks, running examples
        second = subprocess.run([sys.executable, "-m", "backprop_repro", "check", "feed_forward", "--quiet",
                                 "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
        running = first.poll() is None
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=120)
    finally:
        first.kill()
    assert running, "the first run ended before the second started: the test proves nothing"
    assert second.returncode == 2, second.stderr
    assert "another backprop-repro run is writing" in second.stderr and second.stderr.count("\n") == 1
    assert first.returncode == 130 and "Traceback" not in err
    assert not out.exists()   # made by the first run, which published nothing: removed, lock and all


@pytest.mark.parametrize("bad", [["nosuch"], ["feed_forward", "--pins", "{tmp}/no-pins"],
                                 ["feed_forward", "--repeat", "0"]])
def test_bad_input_found_after_out_was_made_leaves_no_new_folder(tmp_path, capsys, bad):
    """A run that publishes nothing removes the folders it created; an existing folder stays exactly as it was."""
    bad = [b.replace("{tmp}", str(tmp_path)) for b in bad]
    new = tmp_path / "new" / "deeper"
    assert main(["check", *bad, "--out", str(new), "--quiet"]) == 2
    assert not (tmp_path / "new").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    os.chmod(kept, 0o700)
    before = os.stat(kept)
    assert main(["check", *bad, "--out", str(kept), "--quiet"]) == 2
    after = os.stat(kept)
    assert kept.is_dir() and not list(kept.iterdir())
    # (its mtime moves: the lock lived in it for the run)
    assert (before.st_mode, before.st_ino, before.st_uid) == (after.st_mode, after.st_ino, after.st_uid)


def test_a_new_folder_of_a_run_that_published_is_kept(tmp_path):
    out = tmp_path / "new" / "out"
    assert main(["check", "feed_forward", "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    assert (out / "results.json").is_file() and not _leftovers(out)


def test_ctrl_c_inside_making_the_staging_folder_leaves_nothing(previous, monkeypatch):
    """The staging folder is named before it is made: an interrupt inside its mkdir (after the folder exists)
    or right after it still removes it."""
    out, before = previous
    real = os.mkdir

    def mkdir(path, *args, **kwargs):
        real(path, *args, **kwargs)
        if os.path.basename(path).startswith(".backprop-repro-staging-"):
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "mkdir", mkdir)
    assert main(["check", "feed_forward", "--out", str(out), "--quiet", "--jobs", "1"]) == 130
    assert _unchanged(out, before) and not _leftovers(out)


_LATE_INTERRUPT = """
import os, signal, sys
sys.argv[0] = "backprop-repro"          # main() behaves as the console script
from backprop_repro.cli.program import main
from backprop_repro.render import console
from backprop_repro.store import outputs
where = sys.argv.pop(1)

def raising(real):
    def wrapped(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt
    return wrapped

if where == "publish":
    outputs._publish = raising(outputs._publish)
elif where == "summary":
    console.check_tail = raising(console.check_tail)
    console.pins_update_summary = raising(console.pins_update_summary)
if where.startswith("swallowed"):        # a library catches the KeyboardInterrupt; then the run ends or hangs
    import threading, time
    from backprop_repro.cli import program
    program.INTERRUPT_GRACE = 1.0

    def swallowing(real):
        def wrapped(*args, **kwargs):
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)
            except KeyboardInterrupt:
                pass
            if where == "swallowed-hang":
                threading.Event().wait()
            return real(*args, **kwargs)
        return wrapped

    console.check_tail = swallowing(console.check_tail)
    console.pins_update_summary = swallowing(console.pins_update_summary)
code = main(sys.argv[1:])
if where == "exit":                      # Ctrl-C on the way out, as the console script does sys.exit(main())
    os.kill(os.getpid(), signal.SIGINT)
sys.exit(code)
"""


@pytest.mark.parametrize("command, where", [("check", "publish"), ("check", "summary"), ("check", "exit"),
                                            ("check", "swallowed"), ("check", "swallowed-hang"),
                                            ("pins", "summary"), ("pins", "exit"), ("pins", "swallowed-hang")])
def test_ctrl_c_after_the_work_is_130_with_one_true_line(tmp_path, where, command):
    """An interrupt at the publication, in the summary after it and after main() returned: exit 130 (never a
    death by SIGINT), one line that names what this run published, and every published set whole. Also when a
    library swallows the KeyboardInterrupt, and when the run then hangs (ended after INTERRUPT_GRACE, 1 s here).
    pins update publishes no output set, hence no "publish" case for it."""
    out, pins = tmp_path / "out", tmp_path / "pins"
    shutil.copytree(PINS_DIR, pins)
    data = json.loads((pins / "feed_forward.json").read_text())
    data["quantities"]["loss"]["reason"] = "edited"     # pins update must rewrite this pin
    (pins / "feed_forward.json").write_text(json.dumps(data))
    args = (["check", "feed_forward", "losses", "--jobs", "1", "--quiet", "--out", str(out), "--pins", str(pins)]
            if command == "check" else ["pins", "update", "feed_forward", "--pins", str(pins)])
    done = subprocess.run([sys.executable, "-c", _LATE_INTERRUPT, where, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 130, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "interrupted" in lines[0] and "Traceback" not in done.stderr, done.stderr
    if command == "check":
        assert _same_run(out) and not _leftovers(out)     # whole: record and report of one run
        assert f"--out {out}" in lines[0] and "keep their previous" not in lines[0]
    else:
        assert "feed_forward.json" in lines[0] and "edited" not in (pins / "feed_forward.json").read_text()


def test_ctrl_c_while_taking_the_lock_leaves_no_lock_file(tmp_path, monkeypatch):
    """The lock file is made before it is locked: an interrupt in between removes it again (nobody holds it),
    and a run interrupted there leaves neither the lock nor the folder it made."""
    import fcntl

    real, calls = fcntl.flock, []

    def interrupted(fd, operation):
        calls.append(fd)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real(fd, operation)

    monkeypatch.setattr(fcntl, "flock", interrupted)
    out = tmp_path / "new"
    assert main(["check", "feed_forward", "--out", str(out), "--quiet", "--jobs", "1"]) == 130
    assert not out.exists() and not list(tmp_path.iterdir())


def test_an_interrupt_python_cannot_raise_prints_nothing_and_still_ends_with_130(tmp_path):
    """A Ctrl-C inside a weakref callback (where importlib cleans up its module locks) is "ignored" by Python with
    a traceback on stderr; the run still ends with 130 and its one line only."""
    script = _LATE_INTERRUPT.replace('if where.startswith("swallowed"):', '''if where == "unraisable":
    import weakref

    def in_a_callback(real):
        def wrapped(*args, **kwargs):
            class Thing:
                pass
            thing = Thing()
            ref = weakref.ref(thing, lambda ref: os.kill(os.getpid(), signal.SIGINT))
            del thing
            assert ref() is None
            return real(*args, **kwargs)
        return wrapped

    console.check_tail = in_a_callback(console.check_tail)
if where.startswith("swallowed"):''')
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", script, "unraisable", "check", "feed_forward", "--jobs", "1",
                           "--quiet", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 130, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
