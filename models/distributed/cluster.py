"""Fits on Dask distributed: a real cluster by its scheduler's address, or a local one.

Every fit the engine makes is a pure function of its inputs, so a cluster is just another
`concurrent.futures.Executor` (`Client.get_executor()`); nothing else changes. One series
needs no cluster at all: without an address and with one worker, nothing is started.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from concurrent.futures import Executor

from exportcast.models.parallel import single_threaded_blas


@contextlib.contextmanager
def dask_executor(address: str | None = None, workers: int = 2) -> Iterator[Executor]:
    """An executor on the cluster at `address` (tcp://host:8786), or on a local cluster of
    `workers` single-threaded processes started here and closed on exit."""
    from distributed import Client, LocalCluster

    if address:
        with Client(address) as client:
            yield client.get_executor(pure=False)
        return
    single_threaded_blas()  # the workers inherit it: one BLAS thread per fit
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,  # ERROR: a cluster's own chatter is not the service's log
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client.get_executor(pure=False)


@functools.cache
def cluster_executor(address: str) -> Executor:
    """An executor on the cluster at `address`, connected once per process and kept: a
    service's training process sends every retrain's backtest fits there."""
    from distributed import Client

    return Client(address, set_as_default=False).get_executor(pure=False)
