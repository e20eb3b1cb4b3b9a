"""The worker's loop: what each free slot does next. Jobs first (of different series: the
store hands a series' jobs out one at a time), then hierarchy versions whose series rest,
then fitting ahead, and the track record only once no job has come for a while and every
slot is free, so it never delays a month that arrives."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

from exportcast.models.simulation import Simulation
from exportcast.service.config import Settings
from exportcast.service.store import Job, Store
from exportcast.service.store.base import QuietRepeats
from exportcast.service.worker.ahead import AheadWork, PrefetchFn, TrackFn
from exportcast.service.worker.hierarchy_fits import HierarchyRequest, train_hierarchy
from exportcast.service.worker.hierarchy_versions import HierarchyVersions
from exportcast.service.worker.retrain import (
    Retrainer,
    Served,
    TrainRequest,
    backtest_track,
    prefetch,
    train,
)
from exportcast.service.worker.slots import Slots

log = logging.getLogger("exportcast.training")


class Worker:
    """One per service process."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        on_served: Served,
        train_fn: Callable[[TrainRequest], Simulation] = train,
        job_timeout: float = 900.0,
        on_finished: Callable[[str], None] | None = None,
        prefetch_fn: PrefetchFn | None = prefetch,
        track_fn: TrackFn | None = backtest_track,
        hierarchy_fn: Callable[[HierarchyRequest], dict] = train_hierarchy,
        on_storing: Callable[[str], None] | None = None,
        on_hierarchy: Callable[[str], None] | None = None,
    ):
        self.store = store
        self.settings = settings
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.slots = Slots(settings.train_slots, job_timeout)
        self.retrainer = Retrainer(
            store, settings, self.slots, self.name, on_served, train_fn, on_finished, on_storing
        )
        self.ahead = AheadWork(store, settings, self.slots, prefetch_fn, track_fn, self.nudge)
        self.hierarchies = HierarchyVersions(
            store, settings, self.slots, hierarchy_fn, on_made=on_hierarchy
        )
        self._wake = asyncio.Event()
        self._last_job = float("-inf")  # loop time a job was last claimed or finished
        self._claim_failures = QuietRepeats(log)

    def reconcile_soon(self, hierarchy_id: str) -> None:
        """A hierarchy was declared here: make its version once a slot is free."""
        self.hierarchies.soon(hierarchy_id)
        self._wake.set()

    def nudge(self) -> None:
        """A job was queued here: look now rather than at the next poll."""
        self._wake.set()

    def close(self) -> None:
        self.slots.close()

    async def _claim(self) -> Job | None:
        try:
            return await asyncio.to_thread(
                self.store.claim_job,
                self.name,
                self.settings.job_lease_seconds,
                self.settings.job_max_attempts,
                self.settings.job_retry_seconds,
            )
        except Exception as exc:
            self._claim_failures.failed("could not claim a job", exc)
            return None

    async def run_forever(self) -> None:
        free = list(range(len(self.slots)))
        running: set[asyncio.Task] = set()
        await self.hierarchies.resume()
        # Owed track records are looked for beside the loop: with many series that takes a
        # while, and no job should wait for it.
        resuming = asyncio.ensure_future(self._resume_ahead())

        def start(work: Awaitable[None], slot: int) -> None:
            task = asyncio.ensure_future(work)
            running.add(task)

            def finished(_: asyncio.Future) -> None:
                running.discard(task)
                free.append(slot)
                self._wake.set()

            task.add_done_callback(finished)

        loop = asyncio.get_running_loop()
        try:
            while True:
                self._wake.clear()  # before looking: a nudge while looking is not lost
                job = await self._claim() if free else None
                if job is not None:
                    self._last_job = loop.time()
                    slot = free.pop()
                    start(self._run_job(job, slot), slot)
                    continue
                ready = await self.hierarchies.ready() if free else None
                if ready is not None:
                    slot = free.pop()
                    start(self.hierarchies.make(ready, slot), slot)
                    continue
                if free and self.ahead.prefetch_waiting():
                    slot = free.pop()
                    start(self.ahead.prefetch_one(slot), slot)
                    continue
                idle = loop.time() - self._last_job >= self.settings.track_after_idle_seconds
                if self.ahead.track_waiting() and idle and len(free) == len(self.slots):
                    slot = free.pop()
                    start(self.ahead.track_one(slot), slot)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.poll_seconds)
        finally:
            resuming.cancel()
            for task in running:
                task.cancel()
            if running:  # let them end (their slots' processes killed) before the store closes
                await asyncio.wait(running, timeout=10)

    async def _resume_ahead(self) -> None:
        try:
            if await self.ahead.resume():
                self._wake.set()
        except Exception as exc:
            self._claim_failures.failed("could not look for owed track records", exc)

    async def _run_job(self, job: Job, slot: int) -> None:
        try:
            trained = await self.retrainer.run(job, slot)
        except Exception:  # the store failed us (or the series was deleted meanwhile)
            log.exception("job %s for %s could not be finished", job.id, job.series_id)
            trained = None
        self._last_job = asyncio.get_running_loop().time()
        if trained is not None:
            self.ahead.after_retrain(trained.request, trained.fits_missing)
        # Its hierarchies look again whatever the outcome: the data they read changed even
        # when this series' own model was refused.
        await self.hierarchies.after_series(job.series_id)
