"""Hierarchy versions, made once none of a hierarchy's series is queued or retraining (one
version for a month that arrives for the total and ten items, not eleven), never two of one
hierarchy at once, and only when its data changed. A failure leaves the latest serving and
is recorded on the hierarchy until the next version clears it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from exportcast.models.series import format_month
from exportcast.service.config import Settings
from exportcast.service.store import Store
from exportcast.service.store.base import QuietRepeats
from exportcast.service.worker.hierarchy_fits import (
    HierarchyRequest,
    basis,
    check_hierarchy_body,
    request_for,
    train_hierarchy,
)
from exportcast.service.worker.slots import Slots

log = logging.getLogger("exportcast.training")


class HierarchyVersions:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        slots: Slots,
        make_fn: Callable[[HierarchyRequest], dict] = train_hierarchy,
        on_made: Callable[[str], None] | None = None,
    ):
        self.store = store
        self.settings = settings
        self.slots = slots
        self.make_fn = make_fn
        self.on_made = on_made  # told of each version stored here (the front door's records)
        self._waiting: set[str] = set()
        self._making: set[str] = set()  # being made here now: never two at once
        self._looked = float("-inf")  # loop time of the last look for a ready one
        self._failures = QuietRepeats(log)

    def soon(self, *hierarchy_ids: str) -> None:
        self._waiting.update(hierarchy_ids)

    async def resume(self) -> None:
        """Every hierarchy looks again on start: data a previous run did not see."""
        try:
            self.soon(*(h.id for h in await asyncio.to_thread(self.store.hierarchies)))
        except Exception as exc:
            self._failures.failed("could not list the hierarchies", exc)

    async def after_series(self, series_id: str) -> None:
        """A series' retrain ended (either way): the hierarchies over it look again."""
        try:
            hierarchies = await asyncio.to_thread(self.store.hierarchies)
        except Exception as exc:  # the next start looks again
            self._failures.failed("could not list the hierarchies", exc)
            return
        self.soon(*(h.id for h in hierarchies if series_id in h.series_ids()))

    async def ready(self) -> str | None:
        """A waiting hierarchy none of whose series is busy (looked for once a second)."""
        now = asyncio.get_running_loop().time()
        if not self._waiting or now < self._looked + 1.0:
            return None
        self._looked = now
        try:
            busy = await asyncio.to_thread(self.store.busy_series)
            records = {h.id: h for h in await asyncio.to_thread(self.store.hierarchies)}
        except Exception as exc:
            self._failures.failed("could not read the hierarchies", exc)
            return None
        self._waiting &= set(records)  # deleted meanwhile
        candidates = sorted(self._waiting - self._making)
        return next((h for h in candidates if not busy & set(records[h].series_ids())), None)

    async def make(self, hierarchy_id: str, slot: int) -> None:
        self._waiting.discard(hierarchy_id)  # data arriving meanwhile adds it again
        self._making.add(hierarchy_id)
        try:
            await self._make(hierarchy_id, slot)
        finally:
            self._making.discard(hierarchy_id)

    async def _make(self, hierarchy_id: str, slot: int) -> None:
        started = asyncio.get_running_loop().time()
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
            made_from = await asyncio.to_thread(basis, request)
            if record.basis == made_from:
                return
            body = await self.slots.run(slot, self.make_fn, request)
            check_hierarchy_body(body)
            number = await asyncio.to_thread(
                self.store.add_hierarchy_version,
                hierarchy_id,
                made_from,
                body["data_through"],
                body,
                record.spec(),
            )
        except Exception as exc:  # the latest version keeps serving
            reason = str(exc) or type(exc).__name__
            log.warning("%s: the hierarchy could not be updated: %s", hierarchy_id, reason)
            try:
                await asyncio.to_thread(self.store.hierarchy_failed, hierarchy_id, reason)
            except Exception as again:
                self._failures.failed(f"{hierarchy_id}: could not record the failure", again)
            return
        if number is None:
            return
        if self.on_made is not None:
            self.on_made(hierarchy_id)
        log.info(
            "%s: hierarchy version %s, data through %s (%s refitted) in %.1fs",
            hierarchy_id,
            number,
            format_month(body["data_through"]),
            ", ".join(body["refit"]) or "no node",
            asyncio.get_running_loop().time() - started,
        )
