"""Where Monte Carlo samples run: serially, in local worker processes, or on a Dask cluster.

One small abstraction, :class:`Executor`, with one operation: run a list of
independent calls ``fn(*args)`` and yield ``(index, result)`` as they finish.
The Monte Carlo engine (:func:`rmtverify.simulate.run_samples`) submits one
call per uncached (d, seed) sample and reassembles the results by index, so
the numbers never depend on the executor, on the number of workers, or on
the order in which samples finish:

- the seed of a sample is ``SeedSequence(root, spawn_key=(crc32(config), d, i))``,
  fixed by the sample's identity, not by where or when it runs;
- every sample is computed with one BLAS thread (:func:`one_blas_thread`),
  wherever it runs, so the floating-point operations are the same ones.

Executors are described by a picklable :class:`ExecutorSpec` (``serial``,
``processes`` with ``jobs`` workers, or ``dask`` with a scheduler address),
which travels inside :class:`~rmtverify.claims.base.RunOptions` to the
process that runs a claim; that process builds the executor the first time it
needs it (:func:`get_executor`) and reuses it.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from rmtverify.core.exceptions import InputError

KINDS = ("serial", "processes", "dask")
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

# --------------------------------------------------------------- BLAS threads

_controller = None
_permanent = False
_lock = threading.Lock()


def _threadpools():
    global _controller
    if _controller is None:
        import numpy  # noqa: F401  (both OpenBLAS copies must be loaded before the scan)
        import scipy.linalg  # noqa: F401
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def limit_blas_permanently() -> None:
    """One BLAS thread for the rest of this (worker) process."""
    global _permanent
    with _lock:
        if not _permanent:
            for var in BLAS_VARS:
                os.environ[var] = "1"
            _threadpools().limit(limits=1, user_api="blas")
            _permanent = True


def _in_dask_worker() -> bool:
    if "distributed" not in sys.modules:  # a Dask worker has imported it; importing it here costs 0.5 s
        return False
    try:
        from distributed import get_worker

        get_worker()
        return True
    except (ImportError, ValueError):
        return False


@contextmanager
def one_thread_environment():
    """BLAS_VARS = 1 in this process's environment while processes are spawned, restored afterwards:
    spawned children read them at start-up, before NumPy loads OpenBLAS."""
    saved = {k: os.environ.get(k) for k in BLAS_VARS}
    os.environ.update({k: "1" for k in BLAS_VARS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def one_blas_thread():
    """Compute with one BLAS thread: the same operations in every executor (bit-identical results).

    In a worker process (a local pool or a Dask worker) the limit is set once and kept: its
    cores belong to the executor's processes, not to BLAS threads. In the caller's own process
    (the serial executor) the previous setting is restored afterwards.
    """
    if _permanent or _in_dask_worker():
        limit_blas_permanently()
        yield
        return
    with _threadpools().limit(limits=1, user_api="blas"):
        yield


def die_with_parent() -> None:
    """Make this worker process end when its parent does, even if the parent is killed (SIGKILL): on Linux the
    kernel sends SIGKILL to the child (prctl PR_SET_PDEATHSIG); elsewhere a daemon thread watches the parent."""
    import signal

    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # the parent died before the call
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass

    def watch():
        import time

        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="rmtverify-parent-watch").start()


def _worker_init() -> None:
    die_with_parent()
    limit_blas_permanently()


# --------------------------------------------------------------- executors


@dataclass(frozen=True)
class ExecutorSpec:
    """A picklable description of an executor."""

    kind: str = "serial"
    jobs: int = 1
    address: str | None = None

    def describe(self) -> str:
        if self.kind == "processes":
            return f"{self.jobs} local worker processes"
        if self.kind == "dask":
            return f"Dask scheduler {self.address}"
        return "serial"


#: what a Dask scheduler address looks like: protocol://host[:port] (tcp, tls, ucx, ws, wss, inproc)
ADDRESS = re.compile(r"^(tcp|tls|ucx|ws|wss|inproc)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+)(:\d{1,5})?/?$")


def scheduler_address(address) -> str:
    """A Dask scheduler address (protocol://host[:port]), or InputError naming the parameter."""
    text = address.strip() if isinstance(address, str) else ""
    match = ADDRESS.match(text)
    if not match or (match.group(3) and not 0 < int(match.group(3)[1:]) < 65536):
        raise InputError("scheduler", f"a Dask scheduler address protocol://host[:port], such as tcp://host:8786; got {address!r}")
    return text


def executor_spec(jobs=None, scheduler=None) -> ExecutorSpec:
    """``--jobs N`` (N > 1: local worker processes) or ``--scheduler ADDRESS`` (a Dask cluster)."""
    from rmtverify.core.params import parse

    if scheduler:
        return ExecutorSpec("dask", 0, scheduler_address(scheduler))
    jobs = 1 if jobs is None else parse("jobs", jobs)
    return ExecutorSpec("processes", jobs) if jobs > 1 else ExecutorSpec("serial", 1)


class Executor:
    """Runs independent calls; ``imap_unordered`` yields (index, result) as they finish."""

    spec: ExecutorSpec = ExecutorSpec()

    def imap_unordered(self, fn, arglist):
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SerialExecutor(Executor):
    spec = ExecutorSpec()

    def imap_unordered(self, fn, arglist):
        for i, args in enumerate(arglist):
            yield i, fn(*args)


class ProcessExecutor(Executor):
    """A pool of ``jobs`` local worker processes (spawned; one BLAS thread each)."""

    def __init__(self, jobs: int):
        self.spec = ExecutorSpec("processes", jobs)
        self._pool = None

    def _get_pool(self):
        if self._pool is None:
            import concurrent.futures as cf
            import multiprocessing as mp

            with one_thread_environment():
                self._pool = cf.ProcessPoolExecutor(self.spec.jobs, mp_context=mp.get_context("spawn"), initializer=_worker_init)
                # start the workers now, while the environment says one thread
                list(self._pool.map(_noop, range(self.spec.jobs)))
        return self._pool

    def imap_unordered(self, fn, arglist):
        import concurrent.futures as cf

        pool = self._get_pool()
        futures = {pool.submit(fn, *args): i for i, args in enumerate(arglist)}
        try:
            for fut in cf.as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def close(self, wait: bool = True):
        """Shut the pool down; ``wait=False`` (an interrupted run) cancels what is queued and ends the workers now."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=wait, cancel_futures=True)
            if not wait:
                terminate_children()


class DaskExecutor(Executor):
    """Samples as tasks on a Dask distributed cluster (``dask.distributed.Client(address)``)."""

    #: how long to try to reach the scheduler before giving up
    connect_timeout = "20s"

    def __init__(self, address: str):
        self.spec = ExecutorSpec("dask", 0, address)
        self._client = None

    def _get_client(self):
        if self._client is None:
            try:
                from distributed import Client
            except ImportError as exc:  # pragma: no cover - a declared dependency
                raise InputError("scheduler", "--scheduler needs dask[distributed] installed") from exc
            try:
                self._client = Client(self.spec.address, timeout=self.connect_timeout, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise InputError("scheduler", f"cannot reach a Dask scheduler at {self.spec.address!r} ({exc})") from None
        return self._client

    def imap_unordered(self, fn, arglist):
        from distributed import as_completed

        client = self._get_client()
        futures = [client.submit(fn, *args, pure=False) for args in arglist]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures, loop=client.loop):
                yield index[fut.key], fut.result()
        finally:
            client.cancel([f for f in futures if not f.done()])

    def close(self):
        if self._client is not None:
            self._client.close()
            self._client = None


def _noop(_):
    return None


def make_executor(spec: ExecutorSpec | None) -> Executor:
    spec = spec or ExecutorSpec()
    if spec.kind == "serial":
        return SerialExecutor()
    if spec.kind == "processes":
        return ProcessExecutor(spec.jobs)
    if spec.kind == "dask":
        return DaskExecutor(spec.address)
    raise InputError("executor", f"one of {', '.join(KINDS)}; got {spec.kind!r}")


_executors: dict = {}


def get_executor(spec) -> Executor:
    """The executor for ``spec`` (an ExecutorSpec, an Executor, or None for serial), one per process."""
    if isinstance(spec, Executor):
        return spec
    spec = spec or ExecutorSpec()
    ex = _executors.get(spec)
    if ex is None:
        ex = _executors[spec] = make_executor(spec)
    return ex


def terminate_children() -> None:
    """End every child process of this one (the workers of an interrupted run)."""
    import multiprocessing as mp

    for child in mp.active_children():
        child.terminate()
    for child in mp.active_children():
        child.join(timeout=5)
        if child.is_alive():
            child.kill()


@atexit.register
def _close_all(wait: bool = True):
    for ex in list(_executors.values()):
        try:
            ex.close(wait) if isinstance(ex, ProcessExecutor) else ex.close()
        except Exception:  # pragma: no cover - best effort at interpreter exit
            pass
    _executors.clear()


def close_executors(wait: bool = True) -> None:
    """Close every executor this process made; ``wait=False`` after an interruption: end the workers now."""
    _close_all(wait)
