"""Retraining off the request path: jobs are claimed from the store, fitted in a worker
process, checked, stored, then activated in one transaction.

Any worker process of the service may claim a job; the store hands each series' jobs out
one at a time, and a queued job absorbs later batches (it reads the data when it starts).
A failed or crashed fit marks the job failed and leaves the active version as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.core import Simulation, implausibility, simulate
from models.ensemble import Learning
from models.series import MonthlySeries, format_month
from service import artifacts
from service.settings import Settings
from service.store import Job, Store, VersionRecord
from service.store.base import stamp, utc_now

log = logging.getLogger("exportcast.training")

# Paths long enough for any question the API accepts: 30 calendar years or 360 months.
MAX_HORIZON = 360
MAX_YEARS = 30


@dataclass(frozen=True)
class TrainRequest:
    series_id: str
    unit: str
    start: int
    values: tuple[float, ...]
    model: str
    n_paths: int
    seed: int
    cache_dir: str


def train(request: TrainRequest) -> Simulation:
    """Runs in the worker process: fit (auto learns from cached backtests) and draw paths."""
    series = MonthlySeries(request.series_id, request.unit, request.start, np.array(request.values))
    return simulate(
        series,
        request.model,
        horizon=MAX_HORIZON,
        years=MAX_YEARS,
        n_paths=request.n_paths,
        seed=request.seed,
        learning=Learning(cache_dir=Path(request.cache_dir) / request.series_id),
    )


def _single_threaded_blas() -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


class RetrainFailed(RuntimeError):
    pass


class JobRunner:
    """One per service process: claims queued jobs and runs them in a worker process."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        on_activated: Callable[[str], Awaitable[None]],
        train_fn: Callable[[TrainRequest], Simulation] = train,
        job_timeout: float = 900.0,
    ):
        self.store = store
        self.settings = settings
        self.on_activated = on_activated
        self.train_fn = train_fn
        self.job_timeout = job_timeout
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._pool: ProcessPoolExecutor | None = None
        self._wake = asyncio.Event()
        self.completed = {"succeeded": 0, "failed": 0}

    def nudge(self) -> None:
        """A job was queued here: look now rather than at the next poll."""
        self._wake.set()

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # Each fit uses one core; the server keeps the other. Children inherit this.
            _single_threaded_blas()
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
        return self._pool

    def _discard_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._discard_pool()

    async def run_forever(self) -> None:
        while True:
            try:
                job = await asyncio.to_thread(
                    self.store.claim_job, self.worker, self.settings.job_lease_seconds
                )
            except Exception:
                log.exception("could not claim a job")
                job = None
            if job is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.poll_seconds)
                continue
            await self.run_job(job)

    async def run_job(self, job: Job) -> Job:
        beat = asyncio.create_task(self._heartbeat(job.id))
        try:
            version = await self._retrain(job.series_id)
        except Exception as exc:
            reason = str(exc) or exc.__class__.__name__
            log.warning("job %s for %s failed: %s", job.id, job.series_id, reason)
            self.completed["failed"] += 1
            return await asyncio.to_thread(self.store.finish_job, job.id, "failed", None, reason)
        finally:
            beat.cancel()
        # Load the new version here before the job reads as succeeded, so a client that saw
        # "succeeded" and asks this process again gets the new forecast.
        try:
            await self.on_activated(job.series_id)
        except Exception:
            log.exception("version %s of %s is active but not loaded here", version, job.series_id)
        self.completed["succeeded"] += 1
        return await asyncio.to_thread(self.store.finish_job, job.id, "succeeded", version)

    async def _heartbeat(self, job_id: int) -> None:
        while True:
            await asyncio.sleep(self.settings.job_lease_seconds / 4)
            await asyncio.to_thread(self.store.heartbeat, job_id)

    async def _retrain(self, series_id: str) -> int:
        record = await asyncio.to_thread(self.store.get_series, series_id)
        stored = await asyncio.to_thread(self.store.observations, series_id)
        if not stored:
            raise RetrainFailed("the series has no observations")
        series = MonthlySeries(
            series_id, record.unit, stored[0].month, np.array([o.value for o in stored])
        )
        request = TrainRequest(
            series_id,
            record.unit,
            series.start,
            tuple(series.values.tolist()),
            self.settings.model,
            self.settings.n_paths,
            self.settings.seed,
            str(self.settings.fit_cache()),
        )
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor(), self.train_fn, request)
            sim = await asyncio.wait_for(future, timeout=self.job_timeout)
        except BrokenProcessPool:
            self._discard_pool()
            raise RetrainFailed("the training process crashed") from None
        except TimeoutError:
            self._discard_pool()
            raise RetrainFailed(f"training took longer than {self.job_timeout:g}s") from None
        problem = implausibility(sim, series, self.settings.implausible_factor)
        if problem:
            raise RetrainFailed(problem)
        version = VersionRecord(
            series_id=series_id,
            version=0,
            created_at=stamp(utc_now()),
            data_through=sim.data_through,
            model=sim.model,
            members=sim.members,
            description=sim.description,
            fit_seconds=round(sim.fit_seconds, 3),
            info={**sim.info, "n_paths": sim.n_paths, "horizon": sim.horizon},
        )
        blob = artifacts.dump(sim)
        number = await asyncio.to_thread(self.store.add_version, version, blob, True)
        log.info(
            "series %s: version %s active, data through %s",
            series_id,
            number,
            format_month(sim.data_through),
        )
        return number
