"""A quiet process pool (``check --jobs``, ``notebook --jobs``): fresh interpreters started by a fork server
that never prints a worker's traceback, workers that leave Ctrl-C to the parent and die with it, and
:func:`stop_pool`, which leaves no worker behind."""


def _worker_start():
    """Workers leave Ctrl-C to the parent (which stops them) and, on Linux, die with their parent."""
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _exit_with_parent():
    """A thread that ends this worker when the process that started the pool dies (kill -9 included): the fork
    server holds the pool's pipes open, so without it an orphaned worker would wait for work for ever."""
    import multiprocessing
    import os
    import threading

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch():
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def stop_pool(pool):
    """End a pool at once: running workers killed, queued work failed (after an interrupt or an error). It never
    waits for the pool's manager thread, which a Ctrl-C can leave blocked; the resource tracker that would report
    the semaphores left behind writes to /dev/null (:func:`_start_quiet_forkserver`)."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    for process in workers:
        if process.is_alive():
            process.kill()
    # no cancel_futures: the pool, broken by the kills, fails every pending future itself, and on Python 3.11 its
    # manager thread dies with a printed InvalidStateError on a future cancelled here (fixed in 3.12)
    pool.shutdown(wait=False)


def _start_quiet_forkserver():
    """Start multiprocessing's fork server (the parent of every worker) with Ctrl-C blocked and stderr on
    /dev/null, inherited by the workers from their first instruction: a Ctrl-C, or the run ending while a
    worker starts, never prints a worker's traceback. A worker's failure reaches the parent as its result."""
    import os
    import signal
    from multiprocessing import forkserver

    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        forkserver.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def example_pool(jobs, initializer=_worker_start):
    """A process pool of ``jobs`` workers (None for ``jobs`` <= 1): fresh interpreters, never a fork of a threaded
    parent; workers leave Ctrl-C to the parent. ``initializer`` runs in each worker (it should call
    :func:`_worker_start`)."""
    if jobs is None or jobs <= 1:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    if method == "forkserver":
        _start_quiet_forkserver()
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method),
                               initializer=initializer)


def stop_servers():
    """Stop multiprocessing's fork server and resource tracker now (they would exit only once this process does):
    a command that used a pool leaves no process of its own behind when it exits. Private API, hence the guard."""
    from multiprocessing import forkserver, resource_tracker

    for server in (getattr(forkserver, "_forkserver", None), getattr(resource_tracker, "_resource_tracker", None)):
        try:
            server._stop()
        except (AttributeError, OSError, ChildProcessError):
            pass
