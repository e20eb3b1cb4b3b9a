"""The forecasts each service process serves: the active version of every series, loaded
once, with its default responses serialised at activation.

Reads never fit anything. A GET with default parameters returns bytes made when the
version became active; other parameters are computed from the stored paths once and kept
in a small LRU. Every process polls the store for activations, so all workers switch to a
new version within one poll interval.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from models.core import DEFAULT_LEVELS, DEFAULT_YEARS, Simulation, monthly_quantiles, summarise
from models.results import Forecast
from models.series import format_month
from service import artifacts
from service.store import Store

log = logging.getLogger("exportcast.active")

DEFAULT_MONTHLY_HORIZON = 24


@dataclass(frozen=True)
class Query:
    """A forecast question, normalised so equal questions share one cache entry and ETag."""

    kind: str  # "annual" or "monthly"
    model: str | None = None
    years: int = DEFAULT_YEARS
    levels: tuple[float, ...] = DEFAULT_LEVELS
    targets: tuple[float, ...] = ()
    horizon: int = DEFAULT_MONTHLY_HORIZON

    def key(self) -> str:
        return json.dumps(
            [self.kind, self.model, self.years, self.levels, self.targets, self.horizon]
        )


@dataclass(frozen=True)
class Body:
    etag: str
    content: bytes


@dataclass
class Active:
    series_id: str
    version: int
    sim: Simulation
    created_at: str
    targets: tuple[float, ...]
    summary: Forecast | None = None  # the default annual forecast, also read by /metrics
    responses: OrderedDict[str, Body] = field(default_factory=OrderedDict)
    defaults: dict[str, Body] = field(default_factory=dict)  # by query key
    polled: dict[str, Body] = field(default_factory=dict)  # "annual"/"monthly": no-query URLs
    lock: threading.Lock = field(default_factory=threading.Lock)

    def default_queries(self) -> list[Query]:
        return [Query("annual", targets=self.targets), Query("monthly")]

    def default_forecast(self) -> Forecast:
        assert self.summary is not None
        return self.summary


class ActiveForecasts:
    def __init__(self, store: Store, cache_size: int = 256):
        self.store = store
        self.cache_size = cache_size
        self._active: dict[str, Active] = {}
        # The poll, a finished job and an activate call may sync at once; one at a time, so
        # an older read of the store can never overwrite a newer version.
        self._sync_lock = threading.Lock()

    # -- reading ------------------------------------------------------------------------
    def get(self, series_id: str) -> Active | None:
        return self._active.get(series_id)

    def all(self) -> list[Active]:
        return list(self._active.values())

    def response(self, active: Active, query: Query) -> Body:
        key = query.key()
        body = active.defaults.get(key)
        if body is not None:
            return body
        with active.lock:
            body = active.responses.get(key)
            if body is not None:
                active.responses.move_to_end(key)
                return body
        body = render(active, query)
        with active.lock:
            active.responses[key] = body
            while len(active.responses) > self.cache_size:
                active.responses.popitem(last=False)
        return body

    # -- keeping up with the store ------------------------------------------------------
    def sync(self) -> list[str]:
        """Load versions activated since the last call (by any process); return their series."""
        with self._sync_lock:
            return self._sync()

    def _sync(self) -> list[str]:
        changed = []
        for series_id, version in self.store.active_versions().items():
            current = self._active.get(series_id)
            if version is None:
                continue
            if current is not None and current.version == version:
                continue
            try:
                targets = self.store.get_series(series_id).targets
                self._active[series_id] = self.load(series_id, version, targets)
            except Exception:
                log.exception("could not load %s version %s", series_id, version)
                continue
            changed.append(series_id)
        return changed

    def load(self, series_id: str, version: int, targets: Sequence[float]) -> Active:
        sim = artifacts.load(self.store.artifact(series_id, version))
        meta = next(v for v in self.store.versions(series_id) if v.version == version)
        active = Active(series_id, version, sim, meta.created_at, tuple(targets))
        annual, monthly = active.default_queries()
        active.summary = summarise(sim, annual.years, annual.levels, annual.targets)
        for query, summary in ((annual, active.summary), (monthly, None)):
            body = render(active, query, summary)
            active.defaults[query.key()] = body
            active.polled[query.kind] = body
        return active

    async def follow(self, interval: float) -> None:
        while True:
            try:
                await asyncio.to_thread(self.sync)
            except Exception:
                log.exception("could not sync active versions")
            await asyncio.sleep(interval)


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison, as If-None-Match asks."""
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


def etag_for(active: Active, query: Query) -> str:
    # The version's creation time too: a store rebuilt from scratch numbers its versions
    # from 1 again, and a client's old ETag must not match a different forecast.
    ident = f"{active.series_id}\n{active.version}\n{active.created_at}\n{query.key()}"
    digest = hashlib.sha256(ident.encode())
    return f'"v{active.version}-{digest.hexdigest()[:20]}"'


def render(active: Active, query: Query, forecast: Forecast | None = None) -> Body:
    """The JSON body for a question, from the version's stored paths."""
    sim = active.sim if query.model is None else active.sim.only(query.model)
    payload: dict[str, Any]
    if query.kind == "annual":
        if forecast is None:
            forecast = summarise(sim, query.years, query.levels, query.targets)
        payload = forecast.to_dict()
    else:
        months = monthly_quantiles(sim, query.horizon, query.levels)
        payload = {
            "series": sim.series_id,
            "unit": sim.unit,
            "model": sim.model,
            "members": list(sim.members),
            "data_through": format_month(sim.data_through),
            "levels": list(query.levels),
            "n_paths": sim.n_paths,
            "monthly": [m.to_dict() for m in months],
        }
    payload["model_version"] = active.version
    # When the version was made: the same question to the same version gives the same
    # bytes, so the ETag stays a strong validator even after a cache eviction.
    payload["generated_at"] = active.created_at
    content = json.dumps(payload, separators=(",", ":")).encode()
    return Body(etag_for(active, query), content)
