"""Work for later, done in slots no job needs: the next month's backtest fits (so that
month's retrain is quick), then the backtest track record at every months-known, one
months-known group a step (so no step delays a month that arrives meanwhile).

What is owed survives a restart: on start, every served series whose stored track record
was not made from its current data is queued again, so a service stopped before the work
was done finishes it on its next start rather than at the next month's data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from exportcast.service.config import Settings
from exportcast.service.store import Store
from exportcast.service.worker.retrain import TrainRequest, request_for, track_basis
from exportcast.service.worker.slots import Slots

log = logging.getLogger("exportcast.training")

PrefetchFn = Callable[[TrainRequest], "tuple[int, int]"]  # fits made: now's, next month's
TrackFn = Callable[[TrainRequest, int], "list[dict] | None"]


class AheadWork:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        slots: Slots,
        prefetch_fn: PrefetchFn | None,
        track_fn: TrackFn | None,
        on_queued: Callable[[], None] | None = None,
    ):
        self.store = store
        self.settings = settings
        self.slots = slots
        self.prefetch_fn = prefetch_fn if settings.prefetch else None
        self.track_fn = track_fn if settings.prefetch else None
        self._to_prefetch: dict[str, TrainRequest] = {}  # by series
        self._to_track: dict[str, tuple[TrainRequest, int]] = {}  # with the next group
        self.on_queued = on_queued  # a refining retrain was queued: look for it now
        self._did_without: dict[str, int] = {}  # fits each series' served version lacked

    def after_retrain(self, request: TrainRequest, fits_missing: int = 0) -> None:
        """A series was retrained: make the fits its version did without (`fits_missing`),
        and those of its next month, then its track record (a newer retrain replaces
        whatever was owed for the older data)."""
        self._to_track.pop(request.series.id, None)
        if self.prefetch_fn is not None:
            self._to_prefetch[request.series.id] = request
            self._did_without[request.series.id] = fits_missing

    async def resume(self) -> int:
        """Queue the track records owed by a previous run; how many."""
        if self.track_fn is None or self.settings.model != "auto":
            return 0
        served = await asyncio.to_thread(self.store.active_versions)
        owed = 0
        for series_id, version in served.items():
            if version is None or series_id in self._to_track:
                continue
            try:
                request = await request_for(self.store, self.settings, series_id)
                made = await asyncio.to_thread(self.store.track_key, series_id)
            except Exception as exc:  # deleted meanwhile, or no data: nothing owed
                log.debug("%s: no track record to resume: %s", series_id, exc)
                continue
            # A retrain may have queued newer work for it while this looked: that stays.
            if made != track_basis(request.series) and series_id not in self._to_track:
                self._to_track[series_id] = (request, 0)
                owed += 1
        if owed:
            log.info("%d backtest track record(s) owed by an earlier run: resumed", owed)
        return owed

    def prefetch_waiting(self) -> bool:
        return bool(self._to_prefetch)

    def track_waiting(self) -> bool:
        return bool(self._to_track)

    async def prefetch_one(self, slot: int) -> None:
        """Fit one series' backtests: those its served version did without, then those of
        its next month. When fewer are missing now than the version lacked (made here, or
        by another's work meanwhile), a retrain is queued to refine it; fits that cannot be
        made stay missing, so each refinement lacks fewer and this ends."""
        series_id = next(iter(self._to_prefetch))
        request = self._to_prefetch.pop(series_id)
        did_without = self._did_without.pop(series_id, 0)
        assert self.prefetch_fn is not None
        started = asyncio.get_running_loop().time()
        try:
            missing, made_next = await self.slots.run(slot, self.prefetch_fn, request)
        except Exception as exc:  # only a cache left cold: the next retrain fits them itself
            log.warning("%s: prefetch for the next month failed: %s", series_id, exc)
            return
        log.info(
            "%s: backtest fits ready: %d the served version did without (%d cannot be "
            "made), %d for the next month, in %.1fs",
            series_id,
            did_without,
            missing,
            made_next,
            asyncio.get_running_loop().time() - started,
        )
        if missing < did_without and not request.fit_missing:
            try:
                job = await asyncio.to_thread(self.store.queue_job, series_id)
            except Exception as exc:  # deleted meanwhile: nothing to refine
                log.info("%s: no refined version queued: %s", series_id, exc)
            else:
                log.info("%s: job %s queued to refine its version", series_id, job.id)
                if self.on_queued is not None:
                    self.on_queued()
        if self.track_fn is not None and series_id not in self._to_track:
            self._to_track[series_id] = (request, 0)

    async def track_one(self, slot: int) -> None:
        """One step of one series' track record at every months-known."""
        series_id = next(iter(self._to_track))
        request, group = self._to_track.pop(series_id)
        assert self.track_fn is not None
        started = asyncio.get_running_loop().time()
        basis = track_basis(request.series)
        try:
            if await asyncio.to_thread(self.store.track_key, series_id) == basis:
                return
            points = await self.slots.run(slot, self.track_fn, request, group)
            if points is None:  # one group fitted; the next step when a slot is free again
                if series_id not in self._to_track:  # a newer retrain starts it afresh
                    self._to_track[series_id] = (request, group + 1)
                return
            await asyncio.to_thread(self.store.put_track, series_id, basis, points)
        except Exception as exc:  # the record keeps the versions' own backtest points
            log.warning("%s: the backtest track record could not be made: %s", series_id, exc)
            return
        log.info(
            "%s: the backtest track record is ready (%d points at every months-known, %.1fs)",
            series_id,
            len(points),
            asyncio.get_running_loop().time() - started,
        )
