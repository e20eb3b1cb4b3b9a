"""Retraining off the request path: jobs are claimed from the store, fitted in a worker
process, checked, stored, then activated in one transaction.

Any worker process of the service may claim a job; the store hands each series' jobs out
one at a time, and a queued job absorbs later batches (it reads the data when it starts).
A failed or crashed fit marks the job failed and leaves the active version as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from exportcast.models.core import simulate
from exportcast.models.distributed.cluster import cluster_executor
from exportcast.models.evaluation.auto import Learning, full_track, prefetch_next
from exportcast.models.limits import MAX_HORIZON, MAX_YEARS
from exportcast.models.nowcast.flashes import Flash
from exportcast.models.parallel import process_pool
from exportcast.models.registry import AUTO_MEMBERS, get_model
from exportcast.models.series import MonthlySeries, format_month
from exportcast.models.simulation import Simulation, implausibility, snapshot
from exportcast.service import artifacts
from exportcast.service.config import Settings
from exportcast.service.hierarchies import HierarchyRequest, request_for, train_hierarchy
from exportcast.service.hierarchies import basis as hierarchy_basis
from exportcast.service.logs import configure_process_logging
from exportcast.service.store import Job, Store, VersionRecord
from exportcast.service.store.base import QuietRepeats, stamp, utc_now

log = logging.getLogger("exportcast.training")


@dataclass(frozen=True)
class TrainRequest:
    series: MonthlySeries
    model: str
    n_paths: int
    seed: int
    cache_dir: Path  # backtest fits `auto` learns from, one folder per series
    jobs: int = 1  # processes for those backtest fits
    dask_scheduler: str | None = None  # or a Dask cluster for them
    flashes: tuple[Flash, ...] = ()  # partial-month figures: the next month's, and history
    country: str | None = None  # whose working days the flashes are read with
    targets: tuple[float, ...] = ()  # the series' default targets, for its track record

    def learning(self) -> Learning:
        executor = cluster_executor(self.dask_scheduler) if self.dask_scheduler else None
        return Learning(
            cache_dir=self.cache_dir / self.series.id, jobs=self.jobs, executor=executor
        )


def train(request: TrainRequest) -> Simulation:
    """Runs in the worker process: fit (auto learns from cached backtests) and draw paths
    long enough for any question the API accepts."""
    return simulate(
        request.series,
        request.model,
        horizon=MAX_HORIZON,
        years=MAX_YEARS,
        n_paths=request.n_paths,
        seed=request.seed,
        learning=request.learning(),
        flashes=request.flashes,
        country=request.country,
    )


def prefetch(request: TrainRequest) -> int:
    """Runs in the worker process while it is idle: the backtest fits the next month's
    retrain will learn from, into the cache; the number of fits made."""
    if request.model != "auto":
        return 0
    return prefetch_next(request.series, AUTO_MEMBERS, get_model, request.learning())


def backtest_track(request: TrainRequest, group: int) -> list[dict] | None:
    """Runs in the worker process while it is idle, one months-known group a step:
    `auto`'s backtest projections at every months-known for the series' track record
    (None until the last step; the fits are shared with later retrains)."""
    if request.model != "auto":
        return []
    return full_track(request.series, AUTO_MEMBERS, get_model, request.learning(), group)


def version_record(
    sim: Simulation, created_at: str, version: int = 0, targets: Sequence[float] = ()
) -> VersionRecord:
    """What the store keeps about a version besides its paths (numbered when stored), with
    what it said of each year (`projections`) for the series' track record."""
    return VersionRecord(
        series_id=sim.series_id,
        version=version,
        created_at=created_at,
        data_through=sim.data_through,
        model=sim.model,
        members=sim.members,
        description=sim.description,
        fit_seconds=round(sim.fit_seconds, 3),
        info={
            **sim.learned,
            "n_paths": sim.n_paths,
            "horizon": sim.horizon,
            "projections": snapshot(sim, targets=targets),
        },
    )


def data_key(series: MonthlySeries) -> str:
    """A digest of the complete years a backtest track record is made from."""
    complete = (series.end + 1) // 12 * 12 - series.start
    digest = hashlib.sha256(f"{series.start}|".encode())
    digest.update(np.ascontiguousarray(series.values[:complete], dtype=np.float64).tobytes())
    return digest.hexdigest()[:32]


class RetrainFailed(RuntimeError):
    pass


class JobRunner:
    """One per service process: claims queued jobs and runs each in a training process,
    `train_slots` at once."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        on_activated: Callable[[Simulation, VersionRecord], Awaitable[None]],
        train_fn: Callable[[TrainRequest], Simulation] = train,
        job_timeout: float = 900.0,
        on_finished: Callable[[str], None] | None = None,
        prefetch_fn: Callable[[TrainRequest], int] | None = prefetch,
        track_fn: Callable[[TrainRequest, int], list[dict] | None] | None = backtest_track,
        hierarchy_fn: Callable[[HierarchyRequest], dict] = train_hierarchy,
    ):
        self.store = store
        self.settings = settings
        self.on_activated = on_activated
        self.train_fn = train_fn
        self.job_timeout = job_timeout
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        # One training process per slot, each in a pool of its own: a crash or a timeout
        # kills only its own job's process, never a job running beside it.
        self._pools: list[ProcessPoolExecutor | None] = [None] * settings.train_slots
        self._wake = asyncio.Event()
        self.on_finished = on_finished  # called with "succeeded" or "failed", for /metrics
        self.prefetch_fn = prefetch_fn if settings.prefetch else None
        self._to_prefetch: dict[str, TrainRequest] = {}  # by series, when a slot is free
        # The backtest track record at every months-known, made once per series and data
        # (after the fits ahead, in a free slot), unless the store has it for that data.
        self.track_fn = track_fn if settings.prefetch else None
        self._to_track: dict[str, tuple[TrainRequest, int]] = {}  # with the next step
        self._last_job = 0.0  # loop time the last job was claimed or finished
        # Hierarchies to bring up to date once none of their series is being retrained
        # (one version for a month that arrives for the total and ten items, not eleven).
        self.hierarchy_fn = hierarchy_fn
        self._to_reconcile: set[str] = set()
        self._reconciling: set[str] = set()  # being made here now: never two at once
        self._reconcile_checked = 0.0
        self._claim_failures = QuietRepeats(log)

    def reconcile_soon(self, hierarchy_id: str) -> None:
        """A hierarchy was declared here: make its version once a slot is free."""
        self._to_reconcile.add(hierarchy_id)
        self._wake.set()

    def nudge(self) -> None:
        """A job was queued here: look now rather than at the next poll."""
        self._wake.set()

    def _executor(self, slot: int) -> ProcessPoolExecutor:
        pool = self._pools[slot]
        if pool is None:
            # A training process (with `train_jobs` fit processes of its own while it
            # learns), printing its progress in the server's format.
            pool = self._pools[slot] = process_pool(1, configure_process_logging)
        return pool

    def _discard_pool(self, slot: int) -> None:
        pool, self._pools[slot] = self._pools[slot], None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        for slot in range(len(self._pools)):
            self._discard_pool(slot)

    async def _claim(self) -> Job | None:
        try:
            return await asyncio.to_thread(
                self.store.claim_job,
                self.worker,
                self.settings.job_lease_seconds,
                self.settings.job_max_attempts,
                self.settings.job_retry_seconds,
            )
        except Exception as exc:
            self._claim_failures.failed("could not claim a job", exc)
            return None

    async def run_forever(self) -> None:
        """Up to `train_slots` jobs at once (of different series: the store hands out a
        series' jobs one at a time); a slot with no job to take fits ahead for a series
        retrained earlier."""
        free = list(range(len(self._pools)))
        running: set[asyncio.Task] = set()
        try:  # versions made from data a previous run did not see, or never made
            self._to_reconcile.update(h.id for h in await asyncio.to_thread(self.store.hierarchies))
        except Exception as exc:
            self._claim_failures.failed("could not list the hierarchies", exc)

        def start(work: Awaitable[None], slot: int) -> None:
            task = asyncio.ensure_future(work)
            running.add(task)

            def finished(_: asyncio.Future) -> None:
                running.discard(task)
                free.append(slot)
                self._wake.set()

            task.add_done_callback(finished)

        while True:
            job = await self._claim() if free else None
            loop = asyncio.get_running_loop()
            if job is not None:
                slot = free.pop()
                self._last_job = loop.time()
                start(self._run_logged(job, slot), slot)
                continue
            if free and self._to_reconcile and loop.time() >= self._reconcile_checked + 1.0:
                ready = await self._hierarchy_ready()
                if ready is not None:
                    slot = free.pop()
                    start(self._reconcile_one(ready, slot), slot)
                    continue
            if free and self._to_prefetch:
                slot = free.pop()
                start(self._prefetch_one(slot), slot)
                continue
            idle = loop.time() - self._last_job >= self.settings.track_after_idle_seconds
            if free and self._to_track and idle and len(free) == len(self._pools):
                slot = free.pop()
                start(self._track_one(slot), slot)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.poll_seconds)

    async def _run_logged(self, job: Job, slot: int) -> None:
        try:
            await self.run_job(job, slot)
        except Exception:  # the store failed us (or the series was deleted meanwhile)
            log.exception("job %s for %s could not be finished", job.id, job.series_id)
        # Its hierarchies look again whatever the outcome: the data they read changed even
        # when this series' own model was refused.
        with contextlib.suppress(Exception):  # the next start looks again
            hierarchies = await asyncio.to_thread(self.store.hierarchies)
            self._to_reconcile.update(h.id for h in hierarchies if job.series_id in h.series_ids())
            self._wake.set()

    async def run_job(self, job: Job, slot: int = 0) -> Job:
        beat = asyncio.create_task(self._heartbeat(job.id))
        log.info("job %s: retraining %s (attempt %s)", job.id, job.series_id, job.attempts)
        try:
            request = await self._request(job.series_id)
            sim, record = await self._retrain(request, slot)
        except Exception as exc:
            reason = str(exc) or exc.__class__.__name__
            log.warning("job %s for %s failed: %s", job.id, job.series_id, reason)
            if self.on_finished is not None:
                self.on_finished("failed")
            return await asyncio.to_thread(self.store.finish_job, job.id, "failed", None, reason)
        finally:
            beat.cancel()
        # Serve the new version here before the job reads as succeeded, so a client that saw
        # "succeeded" and asks this process again gets the new forecast.
        version = record.version
        try:
            await self.on_activated(sim, record)
        except Exception:
            log.exception("version %s of %s is active but not loaded here", version, job.series_id)
        if self.on_finished is not None:
            self.on_finished("succeeded")
        self._last_job = asyncio.get_running_loop().time()
        if self.prefetch_fn is not None:
            self._to_prefetch[job.series_id] = request
        return await asyncio.to_thread(self.store.finish_job, job.id, "succeeded", version)

    async def _hierarchy_ready(self) -> str | None:
        """A hierarchy to update none of whose series is queued or being retrained."""
        self._reconcile_checked = asyncio.get_running_loop().time()
        try:
            busy = await asyncio.to_thread(self.store.busy_series)
            records = {h.id: h for h in await asyncio.to_thread(self.store.hierarchies)}
        except Exception as exc:
            self._claim_failures.failed("could not read the hierarchies", exc)
            return None
        self._to_reconcile &= set(records)  # deleted meanwhile
        waiting = sorted(self._to_reconcile - self._reconciling)
        return next((h for h in waiting if not busy & set(records[h].series_ids())), None)

    async def _reconcile_one(self, hierarchy_id: str, slot: int) -> None:
        """A new version of the hierarchy unless the latest was made from the same data; a
        failure leaves the latest serving."""
        self._to_reconcile.discard(hierarchy_id)  # data arriving meanwhile adds it again
        self._reconciling.add(hierarchy_id)
        try:
            await self._make_hierarchy(hierarchy_id, slot)
        finally:
            self._reconciling.discard(hierarchy_id)
            self._wake.set()

    async def _in_slot(self, slot: int, fn: Callable, *args: object) -> Any:
        """`fn(*args)` in the slot's training process, within the job timeout; a crashed or
        overrunning process is discarded (the next use of the slot starts a fresh one)."""
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor(slot), fn, *args)
            return await asyncio.wait_for(future, timeout=self.job_timeout)
        except (BrokenProcessPool, TimeoutError):
            self._discard_pool(slot)
            raise

    async def _make_hierarchy(self, hierarchy_id: str, slot: int) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        s = self.settings
        try:
            record = await asyncio.to_thread(self.store.get_hierarchy, hierarchy_id)
            request = await asyncio.to_thread(
                request_for,
                self.store,
                record,
                s.model,
                s.n_paths,
                s.seed,
                s.fit_cache(),
                s.train_jobs,
            )
            made = await asyncio.to_thread(hierarchy_basis, request)
            if record.basis == made:
                return
            body = await self._in_slot(slot, self.hierarchy_fn, request)
            number = await asyncio.to_thread(
                self.store.add_hierarchy_version, hierarchy_id, made, body["data_through"], body
            )
        except Exception as exc:  # the latest version keeps serving
            reason = str(exc) or type(exc).__name__
            log.warning("%s: the hierarchy could not be updated: %s", hierarchy_id, reason)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.store.hierarchy_failed, hierarchy_id, reason)
            return
        if number is None:
            return
        log.info(
            "%s: hierarchy version %s, data through %s (%s refitted) in %.1fs",
            hierarchy_id,
            number,
            format_month(body["data_through"]),
            ", ".join(body["refit"]) or "no node",
            loop.time() - started,
        )

    async def _prefetch_one(self, slot: int) -> None:
        """In a slot no job is waiting for: fit one series' backtests for its next month."""
        series_id = next(iter(self._to_prefetch))
        request = self._to_prefetch.pop(series_id)
        assert self.prefetch_fn is not None
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            made = await self._in_slot(slot, self.prefetch_fn, request)
        except Exception as exc:  # only a cache left cold: the next retrain fits them itself
            log.warning("%s: prefetch for the next month failed: %s", series_id, exc)
            return
        log.info(
            "%s: the next month's backtest fits are ready (%d made ahead in %.1fs)",
            series_id,
            made,
            loop.time() - started,
        )
        if self.track_fn is not None:
            self._to_track[series_id] = (request, 0)

    async def _track_one(self, slot: int) -> None:
        """In a slot no job is waiting for: the backtest track record at every m."""
        series_id = next(iter(self._to_track))
        request, group = self._to_track.pop(series_id)
        assert self.track_fn is not None
        loop = asyncio.get_running_loop()
        started = loop.time()
        made = data_key(request.series)
        try:
            if await asyncio.to_thread(self.store.track_key, series_id) == made:
                return
            points = await self._in_slot(slot, self.track_fn, request, group)
            if points is None:  # one group fitted; the next step when a slot is free again
                if series_id not in self._to_track:  # a newer retrain starts it afresh
                    self._to_track[series_id] = (request, group + 1)
                return
            await asyncio.to_thread(self.store.put_track, series_id, made, points)
        except Exception as exc:  # the record keeps the versions' own backtest points
            log.warning("%s: the backtest track record could not be made: %s", series_id, exc)
            return
        log.info(
            "%s: the backtest track record is ready (%d points at every months-known, %.1fs)",
            series_id,
            len(points),
            loop.time() - started,
        )

    async def _heartbeat(self, job_id: int) -> None:
        while True:
            await asyncio.sleep(self.settings.job_lease_seconds / 4)
            await asyncio.to_thread(self.store.heartbeat, job_id)

    async def _request(self, series_id: str) -> TrainRequest:
        record = await asyncio.to_thread(self.store.get_series, series_id)
        stored = await asyncio.to_thread(self.store.observations, series_id)
        if not stored:
            raise RetrainFailed("the series has no observations")
        series = MonthlySeries(
            series_id, record.unit, stored[0].month, np.array([o.value for o in stored])
        )
        flashes = await asyncio.to_thread(self.store.flashes, series_id)
        return TrainRequest(
            series,
            self.settings.model,
            self.settings.n_paths,
            self.settings.seed,
            self.settings.fit_cache(),
            self.settings.train_jobs,
            self.settings.dask_scheduler,
            tuple(Flash(f.month, f.period, f.value) for f in flashes),
            record.country,
            tuple(record.targets),
        )

    async def _retrain(self, request: TrainRequest, slot: int) -> tuple[Simulation, VersionRecord]:
        """Fit, check, store and activate; the new version's paths and record."""
        series, series_id = request.series, request.series.id
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor(slot), self.train_fn, request)
            sim = await asyncio.wait_for(future, timeout=self.job_timeout)
        except BrokenProcessPool:
            self._discard_pool(slot)
            raise RetrainFailed("the training process crashed") from None
        except TimeoutError:
            self._discard_pool(slot)
            raise RetrainFailed(f"training took longer than {self.job_timeout:g}s") from None
        problem = implausibility(sim, series, self.settings.implausible_factor)
        if problem:
            raise RetrainFailed(problem)
        version = version_record(sim, stamp(utc_now()), targets=request.targets)
        blob = await asyncio.to_thread(artifacts.dump, sim)
        number = await asyncio.to_thread(self.store.add_version, version, blob, True)
        log.info(
            "%s: version %s active, data through %s",
            series_id,
            number,
            format_month(sim.data_through),
        )
        stored = dataclasses.replace(version, version=number)
        # Serve exactly what a restart would load (float32 paths), so the same ETag always
        # names the same bytes; read from the bytes just written, not from the store.
        return await asyncio.to_thread(artifacts.load, blob, stored), stored
