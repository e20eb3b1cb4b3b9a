"""A retrain job: the series as stored now, fitted in a slot's process, checked, stored and
served, all under the job's lease. A run whose lease lapses (its heartbeats failed, the job
was queued again) is stopped, and the store refuses whatever it would still write."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from exportcast.models.core import explain_move, simulate
from exportcast.models.digest import digest
from exportcast.models.distributed.cluster import cluster_executor
from exportcast.models.evaluation.auto import Learning, fill_now, full_track, prefetch_next
from exportcast.models.limits import MAX_HORIZON, MAX_YEARS
from exportcast.models.moves import Made
from exportcast.models.nowcast.flashes import Flash
from exportcast.models.registry import AUTO_MEMBERS, get_model
from exportcast.models.series import MonthlySeries, format_month
from exportcast.models.simulation import Simulation, implausibility, snapshot
from exportcast.service import artifacts
from exportcast.service.config import Settings
from exportcast.service.series_data import series_from_store
from exportcast.service.store import (
    Job,
    Lease,
    LeaseLost,
    Store,
    StoreUnavailable,
    VersionPoints,
    VersionRecord,
)
from exportcast.service.store.base import QuietRepeats, SeriesRecord, moment, stamp, utc_now
from exportcast.service.worker.slots import Slots

log = logging.getLogger("exportcast.training")


@dataclass(frozen=True)
class Previous:
    """The version served when a retrain started, and what it was made from: what the new
    version's moves are explained against."""

    version: int
    made: Made
    sim: Simulation


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
    # False: learn from the backtest fits already cached and make none, so the version is
    # served at once; the idle slots make the rest and a refined version follows.
    fit_missing: bool = True
    previous: Previous | None = None  # to explain the move from (None: not explained)

    def learning(self) -> Learning:
        executor = cluster_executor(self.dask_scheduler) if self.dask_scheduler else None
        return Learning(
            cache_dir=self.cache_dir / self.series.id,
            jobs=self.jobs,
            executor=executor,
            fit_missing=self.fit_missing,
        )


# -- run in a slot's process ------------------------------------------------------------
def train(request: TrainRequest) -> Simulation:
    """Fit (auto learns from cached backtests) and draw paths long enough for any question
    the API accepts."""
    sim = simulate(
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
    return with_moves(sim, request)


def with_moves(sim: Simulation, request: TrainRequest) -> Simulation:
    """The simulation with why it moved from the previous version in `learned["moves"]`
    (stored beside the version, not in it). A move that cannot be explained is logged and
    left out: it never costs the version."""
    previous = request.previous
    if previous is None or previous.sim.model != sim.model:
        return sim
    try:
        learned = {k: v for k, v in sim.learned.items() if k != "track"}
        moves = explain_move(
            previous.made,
            Made(request.series, learned, request.flashes),
            previous.sim,
            artifacts.as_stored(sim),
            request.n_paths,
            request.seed,
            request.country,
            targets=request.targets,
        )
    except Exception as exc:
        log.warning("%s: why it moved was not explained: %s", sim.series_id, exc)
        return sim
    body = {"from_version": previous.version, **moves.to_dict()}
    return replace(sim, learned={**sim.learned, "moves": body})


def prefetch(request: TrainRequest) -> tuple[int, int]:
    """While idle: the backtest fits the version just served did without (it learned from
    those at hand), then those the next month's retrain will learn from, into the cache;
    how many of the first are still missing (they cannot be made), and how many of the
    second were made."""
    if request.model != "auto":
        return 0, 0
    how = request.learning()
    missing = fill_now(request.series, AUTO_MEMBERS, get_model, how)
    return missing, prefetch_next(request.series, AUTO_MEMBERS, get_model, how)


def backtest_track(request: TrainRequest, group: int) -> list[dict] | None:
    """While idle, one months-known group a step: `auto`'s backtest projections at every
    months-known for the series' track record (None until the last step; the fits are
    shared with later retrains)."""
    if request.model != "auto":
        return []
    return full_track(request.series, AUTO_MEMBERS, get_model, request.learning(), group)


# -- in the service process ---------------------------------------------------------------
def version_of(
    sim: Simulation, created_at: str, version: int = 0, targets: Sequence[float] = ()
) -> tuple[VersionRecord, VersionPoints]:
    """What the store keeps about a version besides its paths (numbered when stored), and
    what it said of each year with the backtest points it learned from (the track record)."""
    learned = {k: v for k, v in sim.learned.items() if k not in ("track", "moves")}
    record = VersionRecord(
        series_id=sim.series_id,
        version=version,
        created_at=created_at,
        data_through=sim.data_through,
        model=sim.model,
        members=sim.members,
        description=sim.description,
        fit_seconds=round(sim.fit_seconds, 3),
        learned=learned,
        n_paths=sim.n_paths,
        horizon=sim.horizon,
        has_moves=sim.learned.get("moves") is not None,
    )
    points = VersionPoints(
        projections=snapshot(sim, targets=targets),
        backtest=list(sim.learned.get("track", [])),
        moves=sim.learned.get("moves"),
    )
    return record, points


def track_basis(series: MonthlySeries) -> str:
    """A digest of the complete years a backtest track record is made from."""
    complete = (series.end + 1) // 12 * 12 - series.start
    return digest(series.start, series.values[:complete])


async def request_for(
    store: Store, settings: Settings, series_id: str, explain: bool = False
) -> TrainRequest:
    """What a retrain of the series fits now: its data, flashes and settings; with
    `explain`, the version served now too (the new version's moves are told against it)."""
    record = await asyncio.to_thread(store.get_series, series_id)
    series = await asyncio.to_thread(series_from_store, store, series_id, record)
    flashes = await asyncio.to_thread(store.flashes, series_id)
    return TrainRequest(
        series,
        settings.model,
        settings.n_paths,
        settings.seed,
        settings.fit_cache(),
        settings.train_jobs,
        settings.dask_scheduler,
        tuple(Flash(f.month, f.period, f.value) for f in flashes),
        record.country,
        tuple(record.targets),
        fit_missing=not (settings.quick_versions and settings.prefetch),
        previous=await asyncio.to_thread(previous_of, store, record)
        if explain and settings.explain_moves
        else None,
    )


def previous_of(store: Store, record: SeriesRecord) -> Previous | None:
    """The version the series serves now, with the data and flashes it was made from (its
    months are in its paths' file; its flashes are those stored by when it was made)."""
    if record.active_version is None:
        return None
    version = store.version(record.id, record.active_version)
    try:
        sim = artifacts.from_bytes(store.artifact(record.id, version.version), version)
    except StoreUnavailable:
        raise
    except Exception as exc:  # unreadable: the new version is served, unexplained
        log.warning(
            "%s: version %s cannot be read to explain the next: %s", record.id, version.version, exc
        )
        return None
    if sim.published is None:  # stored before versions kept their months
        return None
    published = np.asarray(sim.published, dtype=float)
    series = MonthlySeries(
        record.id, record.unit, sim.data_through - len(published) + 1, published, record.name
    )
    flashes = store.flashes(record.id, as_of=moment(version.created_at))
    made = Made(series, version.learned, tuple(Flash(f.month, f.period, f.value) for f in flashes))
    return Previous(version.version, made, sim)


class RetrainFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Trained:
    """A retrain stored and served: what it trained on, and how many backtest fits its
    version did without (learned from those at hand: a refined version can follow)."""

    request: TrainRequest
    fits_missing: int = 0


# Told of a version just stored and served, with the series' targets it was trained with.
Served = Callable[[Simulation, VersionRecord, tuple[float, ...]], Awaitable[None]]


class Retrainer:
    """Runs one claimed job at a time per slot; see the module's docstring."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        slots: Slots,
        worker: str,
        on_served: Served,
        train_fn: Callable[[TrainRequest], Simulation] = train,
        on_finished: Callable[[str], None] | None = None,
        on_storing: Callable[[str], None] | None = None,
    ):
        self.store = store
        self.settings = settings
        self.slots = slots
        self.worker = worker
        self.on_served = on_served
        self.train_fn = train_fn
        self.on_finished = on_finished  # called with "succeeded" or "failed", for /metrics
        self.on_storing = on_storing  # called with the series just before its version is stored

    async def run(self, job: Job, slot: int) -> Trained | None:
        """The job to its end; what it trained when it succeeded."""
        lease = Lease(job.id, self.worker, job.attempts)
        log.info("job %s: retraining %s (attempt %s)", job.id, job.series_id, job.attempts)
        work = asyncio.ensure_future(self._train_and_store(job, slot, lease))
        keeper = asyncio.ensure_future(self._keep_lease(lease, work))
        try:
            request, sim, record = await work
        except asyncio.CancelledError:
            if not keeper.done():  # cancelled from outside (shutdown), not by a lost lease
                raise
            log.warning("job %s for %s: stopped, its lease was lost", job.id, job.series_id)
            return None
        except LeaseLost as exc:
            log.warning("job %s for %s: nothing stored: %s", job.id, job.series_id, exc)
            return None
        except StoreUnavailable as exc:  # passing: not the job's fault, so not failed
            log.warning(
                "job %s for %s: the store is unavailable (%s); it runs again once its lease lapses",
                job.id,
                job.series_id,
                exc,
            )
            return None
        except Exception as exc:
            reason = str(exc) or exc.__class__.__name__
            log.warning("job %s for %s failed: %s", job.id, job.series_id, reason)
            self._count("failed")
            await self._finish(lease, "failed", None, reason)
            return None
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        # Serve the new version here before the job reads as succeeded, so a client that saw
        # "succeeded" and asks this process again gets the new forecast.
        try:
            await self.on_served(sim, record, request.targets)
        except Exception:
            log.exception(
                "version %s of %s is served but not loaded here", record.version, job.series_id
            )
        self._count("succeeded")
        await self._finish(lease, "succeeded", record.version, None)
        return Trained(request, int(record.learned.get("fits_missing") or 0))

    def _count(self, outcome: str) -> None:
        if self.on_finished is not None:
            self.on_finished(outcome)

    async def _finish(
        self, lease: Lease, status: str, version: int | None, error: str | None
    ) -> None:
        try:
            await asyncio.to_thread(
                self.store.finish_job, lease.job_id, status, version, error, lease
            )
        except LeaseLost as exc:
            log.warning("job %s: not marked %s: %s", lease.job_id, status, exc)

    async def _keep_lease(self, lease: Lease, work: asyncio.Future) -> None:
        """Heartbeats every quarter lease. A failed heartbeat is logged and tried again (the
        lease lasts four of them); a refused one means the job is another's now: the run is
        stopped."""
        failures = QuietRepeats(log)
        while True:
            await asyncio.sleep(self.settings.job_lease_seconds / 4)
            try:
                held = await asyncio.to_thread(self.store.heartbeat, lease)
            except Exception as exc:
                failures.failed(f"job {lease.job_id}: heartbeat failed", exc)
                continue
            if not held:
                work.cancel()
                return

    async def _train_and_store(
        self, job: Job, slot: int, lease: Lease
    ) -> tuple[TrainRequest, Simulation, VersionRecord]:
        request = await request_for(self.store, self.settings, job.series_id, explain=True)
        try:
            sim = await self.slots.run(slot, self.train_fn, request)
        except Exception as exc:
            raise RetrainFailed(str(exc) or type(exc).__name__) from exc
        sim, record, points, blob = await asyncio.to_thread(
            self._checked, sim, request, stamp(utc_now())
        )
        if self.on_storing is not None:
            self.on_storing(job.series_id)
        number = await asyncio.to_thread(self.store.add_version, record, blob, points, True, lease)
        log.info(
            "%s: version %s active, data through %s",
            job.series_id,
            number,
            format_month(sim.data_through),
        )
        return request, sim, replace(record, version=number)

    def _checked(
        self, sim: Simulation, request: TrainRequest, created_at: str
    ) -> tuple[Simulation, VersionRecord, VersionPoints, bytes]:
        """Off the event loop: the check, the record, the points and the bytes. The version
        is served as a restart would load it (float32 paths), so the same ETag always names
        the same bytes; rounded in memory, not read back. Its projections are read from the
        same rounded paths, whose year totals serving then reuses."""
        problem = implausibility(sim, request.series, self.settings.implausible_factor)
        if problem:
            raise RetrainFailed(problem)
        stored = artifacts.as_stored(sim)
        record, points = version_of(stored, created_at, targets=request.targets)
        # Its backtest points live in `points`, not again in the paths' bytes.
        return stored, record, points, artifacts.to_bytes(replace(stored, learned=record.learned))
