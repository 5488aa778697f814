"""How a notebook's kernel is stopped (notebooks/kernel.py): a kernel that finished its cells is asked to shut down,
with no SIGINT first, and terminated if its exit hangs; a kernel whose run did not finish is killed at once. The
signals are read where jupyter_client sends them (its local provisioner), on real kernels."""

import signal
import sys
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
