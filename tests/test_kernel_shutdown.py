"""How a notebook's kernel is stopped (notebooks/kernel.py): a kernel that finished its cells is asked to shut down,
with no SIGINT first, and terminated if its exit hangs; a kernel whose run did not finish is killed at once. The
signals are read where jupyter_client sends them (its local provisioner), on real kernels."""

import _thread
import os
import signal
import sys
import threading
import time

import nbformat
import pytest
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from backprop_repro.notebooks import kernel


@pytest.fixture
def signals_sent(monkeypatch):
    """Every signal jupyter_client sends to a kernel in this test, in order."""
    sent = []
    original = LocalProvisioner.send_signal

    async def recording(self, signum):
        sent.append(signal.Signals(signum).name)
        return await original(self, signum)

    monkeypatch.setattr(LocalProvisioner, "send_signal", recording)
    return sent


def _notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def _gone(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" in f.read()
    except FileNotFoundError:
        return True


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see the kernel gone")


def test_a_kernel_that_finished_its_cells_gets_no_sigint_and_its_outputs_are_kept(tmp_path, signals_sent):
    nb = _notebook("import os\nprint(os.getpid())", "print(6 * 7)")
    crash, _ = kernel.run(nb, tmp_path / "nb.ipynb", 60)
    assert crash is None
    assert [c.outputs[0]["text"] for c in nb.cells][1] == "42\n"
    assert _gone(int(nb.cells[0].outputs[0]["text"]))
    assert "SIGINT" not in signals_sent and "SIGKILL" not in signals_sent, signals_sent


def test_a_kernel_that_hangs_in_its_exit_is_terminated_not_waited_for(tmp_path, signals_sent):
    nb = _notebook("import atexit, os, time\natexit.register(time.sleep, 600)\nprint(os.getpid())")
    start = time.monotonic()
    crash, _ = kernel.run(nb, tmp_path / "nb.ipynb", 60)
    assert crash is None and _gone(int(nb.cells[0].outputs[0]["text"]))
    assert time.monotonic() - start < 300          # not the 600 s its exit would take
    assert signals_sent[:1] == ["SIGTERM"], signals_sent


def test_a_kernel_whose_cell_timed_out_is_killed_at_once(tmp_path, signals_sent):
    nb = _notebook("import os\nprint(os.getpid(), flush=True)", "import time\ntime.sleep(600)")
    crash, _ = kernel.run(nb, tmp_path / "nb.ipynb", 2)
    assert crash["cause"] == "timeout" and crash["cell"] == 1
    assert _gone(int(nb.cells[0].outputs[0]["text"]))
    assert signals_sent[:1] == ["SIGKILL"], signals_sent    # no SIGINT, no shutdown request waited for


def test_exit_work_that_takes_a_second_is_not_cut_short(tmp_path, signals_sent):
    # a notebook's atexit work (a checkpoint saved, a log closed) writes into the user's folder: a 0.5 s grace left
    # such a file missing where jupyter_client's 2.5 s let it be written
    nb = _notebook("import atexit, time\n"
                   "def save():\n    time.sleep(1.0)\n    open('saved.txt', 'w').write('done')\n"
                   "atexit.register(save)")
    crash, _ = kernel.run(nb, tmp_path / "nb.ipynb", 60)
    assert crash is None
    assert (tmp_path / "saved.txt").read_text() == "done"
    assert signals_sent == [], signals_sent


WIDENED_EXIT_RACE = """\
def widen():   # closures: the kernel's exit clears this namespace before the race
    import sys, threading, time
    from ipykernel.iostream import OutStream
    pub, flush = sys.stdout.pub_thread, OutStream.flush
    stop = pub.io_loop.stop
    def lingering_stop():       # the IOPub thread stays alive 0.5 s after its loop stopped
        stop()
        time.sleep(0.5)
    def late(self):             # the control thread's flush comes in that moment
        if threading.current_thread().name == 'Control':
            for _ in range(200):
                if pub._stopped:
                    time.sleep(0.1)
                    break
                time.sleep(0.01)
        return flush(self)
    pub.io_loop.stop, OutStream.flush = lingering_stop, late
widen()
"""


def test_ipykernel_does_not_hang_in_its_exit(tmp_path, signals_sent, monkeypatch):
    # ipykernel 7's control thread flushes stdout after the shutdown request; when the IOPub thread's loop has just
    # stopped but the thread is still alive, the flush waits 10 s for it until the kernel is terminated (1 exit in 3 to
    # 12 here). The first cell widens that window so that it is hit every time
    requested, original = [], kernel.PromptShutdownManager._async_request_shutdown

    async def request(self, *args, **kwargs):
        requested.append(time.monotonic())
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(kernel.PromptShutdownManager, "_async_request_shutdown", request)
    nb = _notebook(WIDENED_EXIT_RACE, "print(1)")
    crash, _ = kernel.run(nb, tmp_path / "nb.ipynb", 60)
    assert crash is None and len(requested) == 1
    # it exited by itself: a kernel hung in its exit gets SIGTERM 2.5 s after the request (no wall-clock bound here,
    # which a loaded machine could pass or fail either way)
    assert signals_sent == [], signals_sent


def _assert_gone_else_kill(pid):
    time.sleep(0.2)
    gone = _gone(pid)
    if not gone:
        os.kill(pid, signal.SIGKILL)    # no stray process after a failed test
    assert gone


CHILD = "import subprocess\nchild = subprocess.Popen(['sleep', '600'])\nprint(child.pid, flush=True)"


def test_a_child_of_a_kernel_that_died_does_not_outlive_it(tmp_path):
    nb = _notebook(CHILD, "import os\nos._exit(1)")
    crash, _ = kernel.run(nb, tmp_path / "nb.ipynb", 60)
    assert crash["cause"] == "error" and crash["cell"] == 1
    _assert_gone_else_kill(int(nb.cells[0].outputs[0]["text"]))


def test_a_child_of_a_kernel_stopped_by_ctrl_c_does_not_outlive_it(tmp_path):
    nb = _notebook(CHILD, "import time\ntime.sleep(600)")
    timer = threading.Timer(3, _thread.interrupt_main)    # Ctrl-C while the second cell runs
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            kernel.run(nb, tmp_path / "nb.ipynb", 60)
    finally:
        timer.cancel()
    _assert_gone_else_kill(int(nb.cells[0].outputs[0]["text"]))


def test_a_child_that_ignores_sigterm_does_not_outlive_a_kernel_that_finished(tmp_path):
    # ipykernel's exit sends its children SIGTERM for 14 s before SIGKILL; the kernel is terminated long before
    nb = _notebook("import subprocess, sys, time\n"
                   "child = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
                   "signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); time.sleep(600)'], "
                   "stdout=subprocess.PIPE)\n"
                   "child.stdout.readline()\nprint(child.pid)")
    crash, _ = kernel.run(nb, tmp_path / "nb.ipynb", 60)
    assert crash is None
    _assert_gone_else_kill(int(nb.cells[0].outputs[0]["text"]))


def test_the_group_killed_is_never_the_tools_own(monkeypatch):
    killed = []
    monkeypatch.setattr(kernel.os, "killpg", lambda pgid, sig: killed.append(pgid))
    for pgid in (os.getpgrp(), 4_000_000):
        kernel._kill_group(type("KM", (), {"provisioner": type("P", (), {"pgid": pgid})()})())
    assert killed == [4_000_000]


def test_the_kernels_exit_cannot_block_on_the_iopub_thread(tmp_path):
    # the other way ipykernel 7's exit hangs: its control thread blocks sending into the event pipe of the IOPub thread
    # that has stopped (seen 1 exit in 3 when a thread prints). Read at the kernel's exit: every event pipe, the
    # control thread's made during the shutdown included, gives up sending after 100 ms, and a flush after 0.1 s
    out = tmp_path / "pipes.txt"
    nb = _notebook("import atexit, sys\n"
                   f"def record(pub=sys.stdout.pub_thread, out=open({str(out)!r}, 'w', buffering=1), "
                   "ns=get_ipython().user_ns):\n"
                   "    import zmq\n    from ipykernel.iostream import OutStream\n"
                   "    out.write(f'flush {OutStream.flush_timeout}\\n')\n"
                   "    for thread, pipe in list(pub._event_pipes.items()):\n"
                   "        out.write(f'{thread.name} {pipe.getsockopt(zmq.SNDTIMEO)}\\n')\n"
                   "    out.write(f'user names {sorted(set(ns) & set(\"zmq OutStream IPKernelApp pub\".split()))}')\n"
                   "atexit.register(record)")
    crash, _ = kernel.run(nb, tmp_path / "nb.ipynb", 60)
    assert crash is None
    *lines, names = out.read_text().splitlines()
    assert lines[0] == "flush 0.1" and "Control 100" in lines, lines
    assert all(line.endswith(" 100") for line in lines[1:]), lines
    assert names == "user names []"      # the preparation's names stay out of the user's namespace


def test_a_ctrl_c_while_the_exit_is_prepared_kills_the_kernel_at_once(tmp_path, signals_sent, monkeypatch):
    # the cells have finished, but an interrupted run waits for no graceful exit
    async def interrupted(self, wait=5.0):
        raise KeyboardInterrupt

    monkeypatch.setattr(kernel.CappedClient, "_prepare_exit", interrupted)
    nb = _notebook("import os\nprint(os.getpid())")
    with pytest.raises(KeyboardInterrupt):
        kernel.run(nb, tmp_path / "nb.ipynb", 60)
    assert _gone(int(nb.cells[0].outputs[0]["text"]))
    assert signals_sent[:1] == ["SIGKILL"], signals_sent
