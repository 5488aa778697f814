"""A notebook copy executed in a kernel of this interpreter (nbclient): never a 'python3' spec found by name
(one on JUPYTER_PATH could be another Python), each cell's output capped, and nothing of the kernel left behind
when the run times out, the kernel dies, or Ctrl-C / SIGTERM (as KeyboardInterrupt) stops it."""

import contextlib
import os
import queue
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from .causes import explain_timeout
from .judge import kernel_argv     # one definition; judge records it without importing nbclient

__all__ = ["OUTPUT_CAP", "kernel_argv", "run"]

#: Text a cell may print before the rest is dropped (a notebook that prints forever must not fill the tool's memory).
OUTPUT_CAP = 10_000_000


class OwnPython(KernelSpecManager):
    """Every kernel name means this interpreter's ipykernel."""

    def get_kernel_spec(self, kernel_name):
        return KernelSpec(argv=kernel_argv(), name=kernel_name, display_name=f"Python ({sys.executable})",
                          language="python", resource_dir=str(Path(sys.executable).parent))


class PromptShutdownManager(AsyncKernelManager):
    """jupyter_client's kernel manager for a kernel that has finished its cells: asked to shut down without the SIGINT
    jupyter_client sends first, its exit polled every 10 ms (not 100 ms), terminated if it has not exited 2.5 s after
    the request and killed 2.5 s later (jupyter_client's default times: the kernel's exit work, atexit handlers or a
    checkpoint saved into the user's folder, keeps them)."""

    def __init__(self, **kwargs):
        super().__init__(shutdown_wait_time=5.0, **kwargs)

    async def _async_interrupt_kernel(self):
        if not getattr(self, "shutting_down", False):
            await super()._async_interrupt_kernel()

    async def _async_finish_shutdown(self, waittime=None, pollinterval=0.01, restart=False):
        await super()._async_finish_shutdown(waittime=waittime, pollinterval=pollinterval, restart=restart)


#: Run silently in a kernel that finished its cells, before its shutdown request, in a namespace of its own (the user's
#: is untouched). ipykernel 7's control thread publishes after that request into the IOPub thread, which the main thread
#: may have just stopped: it then waits flush_timeout (10 s) for a flush, or blocks for good sending into the IOPub
#: thread's event pipe (more often when another thread prints), until terminated: 1 exit in 3 to 12 here. A flush now
#: gives up after 0.1 s and a send into an event pipe after 100 ms (the control thread's pipe is made after this runs).
_PREP = """\
import zmq
from ipykernel.iostream import OutStream
from ipykernel.kernelapp import IPKernelApp
OutStream.flush_timeout = 0.1
pub = IPKernelApp.instance().iopub_thread       # not sys.stdout's: a notebook may have replaced sys.stdout
pub.socket.context.setsockopt(zmq.SNDTIMEO, 100)
for pipe in list(pub._event_pipes.values()):
    pipe.setsockopt(zmq.SNDTIMEO, 100)
"""
EXIT_PREP = f"exec({_PREP!r}, {{}})"


class CappedClient(NotebookClient):
    """nbclient's client with each cell's output capped at OUTPUT_CAP characters, consecutive chunks of a stream
    joined, the running cell known (the one a timeout stopped), no SIGINT/SIGTERM handlers of its own, and a kernel
    whose run did not finish (a timeout, a dead kernel, Ctrl-C) killed at once instead of asked to shut down."""

    def __init__(self, nb, km, **kwargs):
        super().__init__(nb, km=km, **kwargs)
        self.current, self.capped, self.used = None, {}, {}

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        self.current = cell_index
        return await super().async_execute_cell(cell, cell_index, *args, **kwargs)

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in (content.get("data") or {}).values())
        used = self.used.get(cell_index, 0)
        self.used[cell_index] = used + size
        if used + size <= OUTPUT_CAP:
            return self._append(outs, msg, display_id, cell_index)
        room = OUTPUT_CAP - used
        if room > 0 and msg.get("msg_type") == "stream":    # keep a stream up to the cap exactly
            self._append(outs, {**msg, "content": {**content, "text": str(content.get("text", ""))[:room]}},
                         display_id, cell_index)
        if cell_index not in self.capped:
            note = f"[backprop-repro: output beyond {OUTPUT_CAP:,} characters dropped]\n"
            outs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
        self.capped[cell_index] = self.capped.get(cell_index, 0) + size - max(room, 0)
        return None

    def _append(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if (out is not None and out.get("output_type") == "stream" and len(outs) >= 2 and outs[-2] is not out
                and outs[-2].get("output_type") == "stream" and outs[-2].get("name") == out.get("name")):
            outs[-2]["text"] += outs.pop()["text"]     # one output per stretch of a stream, not one per message
        return out

    @contextlib.asynccontextmanager
    async def async_setup_kernel(self, **kwargs):   # nbclient's, without its signal handlers: Ctrl-C must reach us
        if not self.km.has_kernel:
            await self.async_start_new_kernel(**kwargs)
        if self.kc is None:
            await self.async_start_new_kernel_client()
        try:
            yield
            await self._prepare_exit()
        except BaseException:   # also a Ctrl-C during the preparation
            self.shutdown_kernel = "immediate"      # busy or gone: nothing it would do on a graceful exit is kept
            raise
        finally:
            await self._async_cleanup_kernel()

    async def _prepare_exit(self, wait=5.0):
        """Run EXIT_PREP and wait up to ``wait`` seconds for its reply; never raises (the shutdown follows anyway)."""
        try:
            msg_id = self.kc.execute(EXIT_PREP, silent=True, store_history=False, allow_stdin=False)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and await self.km.is_alive():   # a kernel that died has no reply
                with contextlib.suppress(queue.Empty):
                    if (await self.kc.get_shell_msg(timeout=0.1))["parent_header"].get("msg_id") == msg_id:
                        return
        except Exception:   # noqa: BLE001 - no kernel: nothing to prepare
            pass


def _kill(client, km):
    """Stop the kernel of an interrupted run now (its process and its connection files; :func:`run` then kills its
    process group); never raises."""
    provisioner = getattr(km, "provisioner", None)
    try:
        process = getattr(provisioner, "process", None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(5)
    except Exception:   # noqa: BLE001 - already gone
        pass
    for cleanup in (lambda: client.kc is not None and client.kc.stop_channels(), km.cleanup_connection_file,
                    km.cleanup_ipc_files):
        try:
            cleanup()
        except Exception:   # noqa: BLE001 - already gone
            pass


def _kill_group(km):
    """Kill what is left of the kernel's process group (the kernel leads its own, in a new session): a child a cell
    started outlives a kernel that died or was killed, and one that ignores SIGTERM outlives ipykernel's exit."""
    try:
        pgid = getattr(getattr(km, "provisioner", None), "pgid", None)
        if pgid and hasattr(os, "killpg") and pgid != os.getpgrp():     # never our own group
            os.killpg(pgid, signal.SIGKILL)
    except Exception:   # noqa: BLE001 - the group is empty
        pass


def run(work, path, timeout):
    """Execute ``work`` (a notebook whose outputs were cleared) in place, in ``path``'s folder.

    Returns (crash or None, seconds); a crash is {"cause", "detail", "cell"} (a timeout or a dead kernel). The cells
    whose output passed OUTPUT_CAP are ``work.metadata["backprop_repro_capped"]`` ({cell: characters dropped})."""
    km = PromptShutdownManager(kernel_name="backprop-repro", kernel_spec_manager=OwnPython())
    client = CappedClient(work, km, timeout_func=lambda cell: timeout, allow_errors=True,
                          resources={"metadata": {"path": str(Path(path).resolve().parent)}})
    start, crash = time.perf_counter(), None
    try:   # the kernel's own log lines (transport warnings, its interrupt traceback) are not ours to print
        client.execute(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except CellTimeoutError:
        cause, detail = explain_timeout(timeout)
        crash = {"cause": cause, "detail": detail, "cell": client.current}
    except DeadKernelError:
        crash = {"cause": "error", "detail": "the kernel died: its process ended (out of memory, os._exit, or a crash "
                                             "in compiled code)", "cell": client.current}
    except RuntimeError as exc:   # jupyter_client: "Kernel died before replying to kernel_info"
        crash = {"cause": "error", "detail": f"the kernel did not start ({exc})", "cell": client.current}
    except BaseException:
        _kill(client, km)
        raise
    finally:
        if km.has_kernel:       # a timeout or a dead kernel: nothing may outlive the run
            _kill(client, km)
        _kill_group(km)
    work.metadata["backprop_repro_capped"] = dict(client.capped)
    work.metadata["backprop_repro_cap"] = OUTPUT_CAP
    return crash, time.perf_counter() - start
