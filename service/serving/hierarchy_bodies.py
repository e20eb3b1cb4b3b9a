"""Hierarchy bodies as bytes, served the way forecasts are: made from the response schema
once per (version, method) per process, then answered as bytes or a 304 (`bodies.reply`).

A dashboard polling a hierarchy costs a lookup, not a validation and a dump of every
node's years. The ETag names what the version was made from (`basis`), so a hierarchy
deleted and declared again never matches a tag kept from the old one.

Each process follows the hierarchies' latest versions (`follow`, as forecasts follow the
served versions) and makes the default body of a new one when it sees it, so the front door
(`serving.polled`) answers a hierarchy read from bytes without reading the store. Any write
in this process (a declaration, a new version, a deleted series) sets the records aside
until the next look at the store, so a read here never answers for a hierarchy older than
what this process wrote.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict

from exportcast.models.digest import digest
from exportcast.service.schemas import HierarchyForecastOut
from exportcast.service.serving.bodies import BODY_FORMAT, Body
from exportcast.service.store import HierarchyRecord, Store
from exportcast.service.store.base import QuietRepeats

CACHED_BODIES = 32  # bodies (version x method) kept per process
log = logging.getLogger("exportcast")


def hierarchy_etag(record: HierarchyRecord, method: str) -> str:
    made = digest(BODY_FORMAT, record.id, record.version, record.basis, method)
    return f'"h{record.version}-{made[:20]}"'


def hierarchy_out(stored: dict, method: str, version: int, created_at: str) -> HierarchyForecastOut:
    """One method's answer from a stored version's body, checked against the schema
    (pydantic's ValidationError, a ValueError, says what does not fit)."""
    return HierarchyForecastOut.model_validate(
        {
            **stored["methods"][method],
            "methods": list(stored["methods"]),
            "series": stored["series"],
            "refit": stored["refit"],
            "version": version,
            "generated_at": created_at,
        }
    )


class HierarchyBodies:
    """The bodies of the hierarchy versions read lately, in one small LRU per process."""

    def __init__(self, size: int = CACHED_BODIES, default_method: str = "top_down"):
        self.size = size
        self.default_method = default_method
        self._bodies: OrderedDict[tuple, Body] = OrderedDict()
        self._lock = threading.Lock()
        self._latest: dict[str, HierarchyRecord] = {}
        self._current = False  # False: a write here since the records were read
        self._generation = 0  # counts the writes, so a look begun before one cannot clear it

    # -- following the latest versions ----------------------------------------------------
    def latest(self, hierarchy_id: str) -> HierarchyRecord | None:
        """The hierarchy's latest version as last read, None when unknown or set aside."""
        return self._latest.get(hierarchy_id) if self._current else None

    def forget(self) -> None:
        """A write in this process: reads go to the routes until the next look."""
        with self._lock:
            self._generation += 1
            self._current = False

    def sync(self, store: Store) -> None:
        """Read the latest version of every hierarchy and make the default body of those
        new since the last look (blocking: call it in a thread)."""
        with self._lock:
            generation = self._generation
        records = {r.id: r for r in store.hierarchies() if r.version is not None}
        for id, record in records.items():
            before = self._latest.get(id)
            if before is None or self._key(before, "") != self._key(record, ""):
                try:
                    self.body(store, record, self.default_method)
                except Exception:  # its route makes it, or says why it cannot
                    continue
        with self._lock:
            if generation == self._generation:
                self._latest = records
                self._current = True

    async def follow(self, store: Store, interval: float) -> None:
        failures = QuietRepeats(log)
        while True:
            try:
                await asyncio.to_thread(self.sync, store)
            except Exception as exc:
                failures.failed("could not read the hierarchies", exc)
            await asyncio.sleep(interval)

    @staticmethod
    def _key(record: HierarchyRecord, method: str) -> tuple:
        return (record.id, record.version, record.basis, method)

    def cached(self, record: HierarchyRecord, method: str) -> Body | None:
        """The body if already made: no store read, so no need to leave the event loop."""
        key = self._key(record, method)
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def body(self, store: Store, record: HierarchyRecord, method: str) -> Body:
        """Made from the stored version on the first read (blocking: call it in a thread)."""
        body = self.cached(record, method)
        if body is not None:
            return body
        assert record.version is not None
        created_at, stored = store.hierarchy_body(record.id, record.version)
        out = hierarchy_out(stored, method, record.version, created_at)
        body = Body(hierarchy_etag(record, method), out.model_dump_json().encode())
        with self._lock:
            self._bodies[self._key(record, method)] = body
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)
        return body
