"""Outputs as one unit: a staging folder inside the output folder published file by file under a journal,
files of other commands kept, a lock against concurrent runs, full disks and interruptions that leave the
previous complete set, kills completed by the next run, and no lock or staging file left behind."""

import errno
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from backprop_repro.store import atomic
from backprop_repro.render import report
from backprop_repro.cli.commands import main
from backprop_repro.store.outputs import LOCK_NAME, output_set

from .conftest import ROOT


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
    assert _same_run(out)                     # the old set or the new one, never a mix
    if proc.returncode == 130:
        assert _unchanged(out, before)
    assert not _leftovers(out)


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
