"""Hierarchy bodies as bytes, served the way forecasts are: made from the response schema
once per (version, method) per process, then answered as bytes or a 304 (`bodies.reply`).

A dashboard polling a hierarchy costs a lookup, not a validation and a dump of every
node's years. The ETag names what the version was made from (`basis`), so a hierarchy
deleted and declared again never matches a tag kept from the old one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from exportcast.models.digest import digest
from exportcast.service.schemas import HierarchyForecastOut
from exportcast.service.serving.bodies import BODY_FORMAT, Body
from exportcast.service.store import HierarchyRecord, Store

CACHED_BODIES = 32  # bodies (version x method) kept per process


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

    def __init__(self, size: int = CACHED_BODIES):
        self.size = size
        self._bodies: OrderedDict[tuple, Body] = OrderedDict()
        self._lock = threading.Lock()

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
