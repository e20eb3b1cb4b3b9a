"""Worker processes for fits: spawned, never forked, and one BLAS thread each.

Measured on the 2-core machine: two processes that each spawned BLAS threads ran slower
than a plain loop. Fits are independent and pure, so any `concurrent.futures.Executor` can
run them instead (a Dask cluster's `client.get_executor()`, say).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def single_threaded_blas() -> None:
    """One BLAS thread in processes started from now on; an explicit setting wins."""
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")


def exit_with_parent(parent: int, every: float = 1.0) -> None:
    """In a worker: end this process once the process that started it is gone.

    A pool's workers wait on a queue for work; if their parent is killed (kill -9, OOM)
    nothing ever closes it, and they would hang on to their memory forever.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(70)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _start_worker(parent: int, setup: Callable[[], None] | None) -> None:
    exit_with_parent(parent)
    if setup is not None:
        setup()


def process_pool(workers: int, setup: Callable[[], None] | None = None) -> ProcessPoolExecutor:
    """`workers` spawned processes; `setup` (picklable) runs in each as it starts."""
    single_threaded_blas()
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getpid(), setup),
    )


_shared: dict[int, ProcessPoolExecutor] = {}
_shared_lock = threading.Lock()


def shared_pool(workers: int) -> ProcessPoolExecutor:
    """A pool kept for the life of this process, one per size.

    Starting processes and importing statsmodels in them costs about a second per worker;
    a service that retrains every month, or a backtest run again and again, pays it once.
    A pool broken by a crashed worker is replaced on the next call."""
    with _shared_lock:
        pool = _shared.get(workers)
        if pool is None or getattr(pool, "_broken", False):
            pool = _shared[workers] = process_pool(workers)
        return pool
