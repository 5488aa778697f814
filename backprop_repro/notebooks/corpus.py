"""Notebook corpora: ``notebook --jobs N`` (worker processes, one kernel each), ``--resume`` (a journal of judged
notebooks in the output folder), ``--dask ADDRESS|local`` (one task per notebook on a Dask cluster) and the corpus
summary of notebooks.json.

Whatever runs them, the records are those of :func:`.judge.check_notebook`, in the order the notebooks were
given: the output files are the same as one after another, timings apart.

Journal: ``OUT/.notebooks-journal/KEY.json``, one file per judged notebook, written atomically as soon as it is
judged (a ``kill -9`` loses only the notebooks in flight). KEY is the SHA-256 of the notebook's bytes and path, the
options, the tool's version and the environment that ran it (Python, NumPy, platform, git commit, pinning
settings): ``--resume`` reuses an entry only when all of them are unchanged. Files the notebook reads beside it are
not in the key. The journal is beside the output set, never inside its staging folder; a run whose output set is
published removes its own entries (and the folder once empty).

Worker loss: a worker process (``--jobs``) or Dask worker that dies while it runs a notebook is replaced and the
notebook run again, up to ``--retries`` times; a notebook that has killed ``retries + 1`` workers is ``crashed``
with cause ``killed-worker``. With ``--jobs``, the notebooks that were running when a worker died run again each
alone, and only a worker lost while one notebook ran alone is charged to it. A Dask worker runs one task at a
time (``--dask local``; on a cluster of your own, give workers one thread and set the scheduler's
``distributed.scheduler.allowed-failures`` to 0 for the count to be exact).

Dask: each notebook is one task that reads the notebook at the same path and working directory as given here
(the machines need the notebooks' folder at the same path; a copy that differs is reported, never judged),
checks it in a child process killed after :func:`hard_timeout`, and returns its record with the worker's
address and environment fingerprint (``worker``; ``worker.differs`` names Python/NumPy/platform differences).
"""

import hashlib
import json
import os
import statistics
import sys
from collections import Counter
from pathlib import Path

from backprop_repro.core.errors import EXIT_INTERRUPTED, BadInput

__all__ = ["JOURNAL", "KILLED_WORKER", "Journal", "checker", "summary", "default_jobs"]

JOURNAL = ".notebooks-journal"
KILLED_WORKER = "killed-worker"    # a crash cause beside causes.CAUSES: the notebook's run ended its worker
#: What a journal key and a Dask worker's environment are compared on (not the time, not the thread count).
ENV_KEYS = ("python", "numpy", "platform", "machine", "executable", "git_commit", "settings")
DASK_INSTALL = "pip install 'backprop-repro[dask]'"


def default_jobs():
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:        # not on Linux
        return os.cpu_count() or 1


# --- journal --------------------------------------------------------------------------------------------------

class Journal:
    """The judged notebooks of a run in ``OUT/.notebooks-journal`` (see the module docstring)."""

    def __init__(self, out, options, environment, resume=False):
        from backprop_repro import __version__

        self.folder = Path(out) / JOURNAL
        self.resume, self.keys, self.warned = resume, [], False      # keys: this run's entries
        self.base = {"tool": __version__, "options": {k: list(v) if isinstance(v, tuple) else v
                                                      for k, v in sorted(options.items())},
                     "environment": {k: environment.get(k) for k in ENV_KEYS}}

    def key(self, path):
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        text = json.dumps({**self.base, "notebook": digest, "path": str(path)}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key):
        """The record journalled under ``key`` (None without --resume, or when absent or unreadable)."""
        if not self.resume:
            return None
        try:
            entry = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        record = entry.get("record") if isinstance(entry, dict) and entry.get("key") == key else None
        return record if isinstance(record, dict) and "verdict" in record else None

    def put(self, key, record):
        """Journal ``record`` atomically; a folder that cannot be written costs resumability, not the run."""
        from backprop_repro.store import atomic

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic.write_text(self.folder / f"{key}.json", json.dumps({"key": key, "record": record}) + "\n",
                              published=False)   # not an output: an interrupt line must not name it
        except (OSError, atomic.WriteFailed, TypeError, ValueError) as exc:   # ValueError: a circular record
            if not self.warned:
                print(f"warning: {self.folder}: cannot journal results ({exc}); this run cannot be resumed",
                      file=sys.stderr)
                self.warned = True

    def clear(self, keys):
        """Remove the entries ``keys`` (a published run's) and the folder once empty."""
        for key in keys:
            (self.folder / f"{key}.json").unlink(missing_ok=True)
        try:
            self.folder.rmdir()
        except OSError:       # another run's entries, or already gone
            pass


# --- the records, as they finish --------------------------------------------------------------------------------

def _lost(path, workers, retries):
    """The record of a notebook whose runs ended ``workers`` workers."""
    from .judge import _not_run

    detail = (f"the notebook's run ended the worker process running it {workers} time(s) (out of memory, os._exit, "
              f"a kill, or a crash in compiled code); retried {retries} time(s)")
    return {**_not_run(path, None), "verdict": "crashed", "crash": detail, "cause": KILLED_WORKER,
            "cause_detail": detail, "stored_outputs": None}


def _counted(notebooks, finished, progress, total, done):
    """Records as ``finished`` yields them (index, record), each counted on the progress; {index: record}."""
    records = {}
    for i, record in finished:
        records[i] = record
        done += 1
        if progress:
            progress(f"[{done}/{total}] {notebooks[i]}: {record['verdict']}", advance=True)
    return records


def checker(out=None, jobs=1, resume=False, dask=None, retries=1):
    """``check_all`` for :func:`.judge.run_notebooks`: notebooks in ``jobs`` worker processes (or on the Dask cluster
    at ``dask``, 'local' for a LocalCluster of ``jobs`` workers), journalled in ``out`` (reused with ``resume``).
    Returns (check_all, state): after a run ``state["journal"]`` (:class:`Journal` or None; once the output set is
    published, ``journal.clear(journal.keys)``) and ``state["reused"]`` (records taken from the journal)."""
    if jobs < 1:
        raise BadInput(f"--jobs {jobs}: give 1 (one notebook after another) or more worker processes")
    if retries < 0:
        raise BadInput(f"--retries {retries}: give 0 or more runs again after a worker is lost")
    if dask is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise BadInput(f"--dask {dask}: dask.distributed is not installed in this Python; install it with "
                           f"{DASK_INSTALL}, or leave out --dask") from None
    state = {}

    def check_all(notebooks, options, environment, progress):
        journal = Journal(out, options, environment, resume) if out is not None else None
        state["journal"] = journal
        keys = [journal.key(p) for p in notebooks] if journal else [None] * len(notebooks)
        if journal:
            journal.keys = list(keys)
        records, todo = {}, []
        for i, (path, key) in enumerate(zip(notebooks, keys)):
            record = journal.get(key) if journal else None
            if record is not None:
                records[i] = record
                if progress:
                    progress(f"[{len(records)}/{len(notebooks)}] {path}: {record['verdict']} (from the journal)",
                             advance=True)
            else:
                todo.append(i)
        state["reused"] = len(records)
        if dask is not None:
            finished = _dask_records(notebooks, todo, options, environment, dask, jobs, retries)
        elif jobs > 1 and len(todo) > 1:
            finished = _pool_records(notebooks, todo, options, min(jobs, len(todo)), retries)
        else:
            finished = _local_records(notebooks, todo, options)

        def journalled():
            for i, record in finished:
                if journal:
                    journal.put(keys[i], record)
                yield i, record

        records.update(_counted(notebooks, journalled(), progress, len(notebooks), len(records)))
        return [records[i] for i in range(len(notebooks))]

    return check_all, state


def _local_records(notebooks, todo, options):
    from .judge import check_notebook

    for i in todo:
        yield i, check_notebook(notebooks[i], **options)


# --- worker processes (--jobs) --------------------------------------------------------------------------------

_in_task = False


def _notebook_worker_start():
    """A pool worker (:func:`backprop_repro.core.pool._worker_start`) where SIGTERM stops the notebook in hand: its
    kernel is killed (kernel.run on KeyboardInterrupt) and the worker exits."""
    import signal

    from backprop_repro.core.pool import _worker_start

    _worker_start()

    def stop(signum, frame):
        if _in_task:
            raise KeyboardInterrupt
        os._exit(EXIT_INTERRUPTED)

    signal.signal(signal.SIGTERM, stop)


def _check_in_worker(path, cwd, options):
    """A worker's task: the record of one notebook, checked from the parent's working directory."""
    global _in_task
    from .judge import check_notebook

    os.chdir(cwd)              # the fork server keeps the folder it started in; relative paths are the parent's
    _in_task = True
    try:
        return check_notebook(path, **options)
    except KeyboardInterrupt:  # SIGTERM from the parent: the kernel is gone, and so is this worker
        os._exit(EXIT_INTERRUPTED)
    finally:
        _in_task = False


def stop_notebook_pool(pool, grace=10.0):
    """Stop a notebook pool after an interrupt: each worker asked (SIGTERM) to kill its kernel and exit, then
    :func:`backprop_repro.core.pool.stop_pool` for any still there."""
    import signal
    import time

    from backprop_repro.core.pool import stop_pool, stop_servers

    workers = list((getattr(pool, "_processes", None) or {}).values())
    for process in workers:
        try:
            os.kill(process.pid, signal.SIGTERM)
        except (ProcessLookupError, TypeError):
            pass
    deadline = time.monotonic() + grace
    for process in workers:
        process.join(max(0.0, deadline - time.monotonic()))
    stop_pool(pool)
    stop_servers()


def _pool_records(notebooks, todo, options, jobs, retries):
    """(index, record) as worker processes finish them. At most ``jobs`` are submitted at a time; when a worker dies
    the pool is replaced and the notebooks it was running run again, each alone, so that a lost worker is charged to
    the notebook that ran alone (:func:`_lost` after ``retries`` runs again)."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    from backprop_repro.core.pool import example_pool, stop_servers

    cwd, queue, deaths, suspects = os.getcwd(), list(todo), Counter(), set()
    pool = example_pool(jobs, initializer=_notebook_worker_start)
    running = {}
    try:
        while queue or running:
            while queue and len(running) < jobs and not (queue[0] in suspects and running) \
                    and not any(i in suspects for i in running.values()):
                i = queue.pop(0)
                running[pool.submit(_check_in_worker, str(notebooks[i]), cwd, options)] = i
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = []
            for future in done:
                i = running.pop(future)
                try:
                    record = future.result()
                except BrokenProcessPool:
                    broken.append(i)
                    continue
                yield i, record
            if broken:                # the pool is gone, with every notebook it was running
                broken += [running.pop(f) for f in list(running)]
                stop_notebook_pool(pool)
                pool = example_pool(jobs, initializer=_notebook_worker_start)
                again = []
                for i in sorted(broken):
                    deaths[i] += len(broken) == 1
                    if deaths[i] > retries:
                        yield i, _lost(str(notebooks[i]), deaths[i], retries)
                    else:
                        suspects.add(i)
                        again.append(i)
                queue[:0] = again
    except BaseException:
        stop_notebook_pool(pool)      # an interrupt or an error: no worker or kernel outlives the run
        raise
    pool.shutdown()
    stop_servers()


# --- Dask (--dask) -------------------------------------------------------------------------------------------

def hard_timeout(path, options):
    """Seconds a Dask task gives one notebook: the per-cell timeout for every code cell of every run it may make,
    and a minute for the kernel's start and the comparison."""
    from .judge import load_notebook

    cells = sum(c.get("cell_type") == "code" for c in load_notebook(path).cells)
    return options["timeout"] * (cells + 1) * max(options["runs"], options["stat_runs"]) + 60


def _dask_task(path, cwd, digest, options, limit):
    """A Dask task: ``("ok", record, environment, worker)`` of one notebook, checked in a child process of the
    worker killed after ``limit`` seconds; ``("timeout", limit)``, ``("unreadable", message)`` or
    ``("died", returncode)`` otherwise."""
    import pickle
    import signal
    import subprocess

    try:
        from distributed import get_worker
        worker = get_worker().address
    except (ImportError, ValueError):
        worker = None
    with subprocess.Popen([sys.executable, "-m", "backprop_repro.notebooks.corpus", str(os.getpid())],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          start_new_session=True) as child:
        try:
            answer, _ = child.communicate(pickle.dumps((path, cwd, digest, options)), timeout=limit)
        except subprocess.TimeoutExpired:
            answer = None
        finally:
            if child.poll() is None:     # SIGTERM: it kills its kernel; SIGKILL if it does not end
                os.killpg(child.pid, signal.SIGTERM)
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
                    child.wait()
    if answer is None:
        return ("timeout", limit)
    if child.returncode != 0 or not answer:
        return ("died", child.returncode)
    result = pickle.loads(answer)
    return result + (worker,) if result[0] == "ok" else result


def _task_main(parent):
    """The child process of :func:`_dask_task`: reads (path, cwd, digest, options) from stdin, writes the pickled
    outcome to stdout; SIGTERM (also sent when its worker dies) kills its kernel and ends it."""
    import pickle
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt       # kernel.run kills the kernel on its way out

    signal.signal(signal.SIGTERM, stop)
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)
    try:
        _answer()
    except KeyboardInterrupt:
        os._exit(EXIT_INTERRUPTED)


def _answer():
    """The outcome of the task read from stdin, written to stdout (pickled)."""
    import pickle

    out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)                           # nothing printed may corrupt the answer
    path, cwd, digest, options = pickle.load(sys.stdin.buffer)
    try:
        os.chdir(cwd)
        data = Path(path).read_bytes()
    except OSError as exc:
        result = ("unreadable", f"the worker cannot read it ({exc.strerror or exc}) in {cwd}")
    else:
        if hashlib.sha256(data).hexdigest() != digest:
            result = ("unreadable", "the worker's copy differs from the one given")
        else:
            from backprop_repro.core.environment import fingerprint

            from .judge import check_notebook

            result = ("ok", check_notebook(path, **options), fingerprint())
    out.write(pickle.dumps(result))
    out.flush()


def _children():
    """This process's descendants (psutil comes with distributed)."""
    import psutil

    return psutil.Process().children(recursive=True)


def _reap(processes, grace=10.0):
    """Wait for ``processes`` (a closed local cluster's workers, their tasks and kernels) to end; kill the rest."""
    import psutil

    _, alive = psutil.wait_procs(processes, timeout=grace)
    for process in alive:
        try:
            process.kill()
        except psutil.Error:
            pass


def _from_task(path, result, environment, retries):
    """The record of one Dask task's result, with the worker and its environment."""
    from .judge import _not_run

    kind = result[0]
    if kind == "ok":
        _, record, env, worker = result
        differs = [k for k in ("python", "numpy", "platform", "machine") if env.get(k) != environment.get(k)]
        return {**record, "worker": {"address": worker, "environment": env, "differs": differs}}
    if kind == "timeout":
        detail = (f"the notebook ran beyond its hard limit of {result[1]:g} s on the worker (--timeout for every "
                  f"code cell of every run, plus a minute) and was killed")
        cause = "timeout"
    elif kind == "unreadable":
        detail = (f"{result[1]}: the machines running the notebooks need the notebook's folder at the same path, "
                  f"with the same contents")
        cause = "error"
    else:
        detail = f"the process checking it on the worker ended with status {result[1]}"
        cause = "error"
    return {**_not_run(path, None), "verdict": "crashed", "crash": detail, "cause": cause, "cause_detail": detail,
            "stored_outputs": None}


def _restore_environ(saved):
    """This process's environment variables as they were (``saved``)."""
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    os.environ.update(saved)


def _dask_client(stack, address, jobs, tree):
    """A Dask client on ``stack``: a LocalCluster of ``jobs`` one-thread worker processes for ``local`` (its
    processes listed into ``tree`` as it closes), else the scheduler at ``address``."""
    import logging

    from distributed import Client, LocalCluster

    if address == "local":
        # registered first, so it runs last: a LocalCluster sets OMP/MKL/OPENBLAS_NUM_THREADS=1 in this process too
        stack.callback(_restore_environ, dict(os.environ))
        cluster = stack.enter_context(LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                                   dashboard_address=None, silence_logs=logging.CRITICAL))
        client = stack.enter_context(Client(cluster))
        stack.callback(lambda: tree.extend(_children()))     # first, while the cluster still runs
        return client
    try:
        return stack.enter_context(Client(address, timeout="30s"))
    except (OSError, ValueError, TypeError) as exc:
        raise BadInput(f"--dask {address}: cannot reach a Dask scheduler there ({exc}); give its address such as "
                       f"tcp://host:8786, or 'local'") from None


def _dask_records(notebooks, todo, options, environment, address, jobs, retries):
    """(index, record) as the Dask tasks finish (each notebook one task; a lost worker's task submitted again)."""
    import contextlib
    import logging

    import dask
    from distributed import as_completed
    from distributed.client import FutureCancelledError

    try:
        from distributed.scheduler import KilledWorker
    except ImportError:   # older layouts
        from distributed import KilledWorker

    if not todo:
        return
    cwd = os.getcwd()
    args = {i: (str(notebooks[i]), cwd, hashlib.sha256(Path(notebooks[i]).read_bytes()).hexdigest(), options,
                hard_timeout(notebooks[i], options)) for i in todo}
    quiet = {"distributed": logging.getLogger("distributed")}
    levels = {name: log.level for name, log in quiet.items()}
    from backprop_repro.core.pool import stop_servers

    with contextlib.ExitStack() as stack:
        tree = []
        stack.callback(_reap, tree)             # last: whatever the local cluster started, gone
        stack.callback(stop_servers)            # the resource tracker the local workers' start brought up
        for log in quiet.values():
            log.setLevel(logging.CRITICAL)      # worker restarts are reported per notebook, not as log lines
        stack.callback(lambda: [log.setLevel(levels[name]) for name, log in quiet.items()])
        # a task on a dying worker fails at once (KilledWorker), so --retries counts the lost workers exactly;
        # a scheduler of your own keeps its distributed.scheduler.allowed-failures
        # one task at a time per worker (threads_per_worker=1 and saturation 1): a lost worker is charged to the
        # notebook it ran, never to one merely queued there
        stack.enter_context(dask.config.set({"distributed.scheduler.allowed-failures": 0,
                                             "distributed.scheduler.worker-saturation": 1.0}))
        client = _dask_client(stack, address, jobs, tree)
        deaths = Counter()
        futures = {client.submit(_dask_task, *args[i], pure=False): i for i in todo}
        pending = as_completed(futures)
        try:
            for future in pending:
                i = futures[future]
                try:
                    result = future.result()
                except (KilledWorker, FutureCancelledError):
                    deaths[i] += 1
                    if deaths[i] > retries:
                        yield i, _lost(str(notebooks[i]), deaths[i], retries)
                    else:
                        again = client.submit(_dask_task, *args[i], pure=False)
                        futures[again] = i
                        pending.add(again)
                    continue
                yield i, _from_task(str(notebooks[i]), result, environment, retries)
        finally:
            client.cancel(list(futures))


# --- summary --------------------------------------------------------------------------------------------------

def _missing_modules(record):
    import re

    return sorted({m.group(1).split(".")[0] for f in record.get("failures") or [] if f.get("cause") == "missing-module"
                   for m in [re.search(r"No module named '([^']+)'", f.get("error") or "")] if m})


def summary(records, notes=(), wall_seconds=None):
    """The corpus in the terms reproducibility studies report (Pimentel et al. 2019, Samuel and Mietchen 2024)."""
    verdicts = Counter(r["verdict"] for r in records)
    crashed = [r for r in records if r["verdict"] == "crashed"]
    seconds = [r.get("seconds_executing", 0.0) + r.get("seconds_comparing", 0.0) for r in records]
    skipped = verdicts["not-run"]
    causes = Counter(r.get("cause") or "error" for r in crashed)
    return {
        "found": len(records), "valid": len(records), "passed_over": len(notes), "skipped": skipped,
        "run": len(records) - skipped,
        "with_stored_outputs": sum(bool(r.get("stored_outputs")) for r in records),
        "ran_without_error": len(records) - skipped - len(crashed),
        "reproduced": verdicts["reproduced"], "reproduced_statistically": verdicts["reproduced-statistically"],
        "not_reproduced": verdicts["not-reproduced"], "no_stored_outputs": verdicts["no-stored-outputs"],
        "crashed": len(crashed), "timed_out": causes.get("timeout", 0),
        "crashed_by_cause": dict(sorted(causes.items())),
        "missing_modules": dict(sorted(Counter(m for r in crashed for m in _missing_modules(r)).items())),
        "numbers_stored": sum(r.get("numbers_stored", 0) for r in records),
        "numbers_compared": sum(r.get("numbers_compared", 0) for r in records),
        "numbers_reproduced": sum(r.get("numbers_reproduced", 0) for r in records),
        "seconds_total": round(sum(seconds), 3), "seconds_median": round(statistics.median(seconds), 3)
        if seconds else 0.0, "seconds_wall": None if wall_seconds is None else round(wall_seconds, 3),
    }


#: summary's keys in the order the console and the HTML show them, with their labels.



if __name__ == "__main__":
    _task_main(int(sys.argv[1]))
