"""The forecasts each service process serves: the active version of every series, with
its default responses serialised at activation.

Reads never fit anything. A GET with default parameters returns bytes made when the
version became active; other parameters are computed from the stored paths once and kept
in a small LRU. Every process polls the store for activations, so all workers switch to a
new version within one poll interval; the process that trained a version installs it from
memory instead of reading it back.

Memory grows with the number of series only through what is kept for every series (the
default bodies and forecast; 246 kB per series of the server's RSS with 1,001 M3 series,
`benchmarks/service_scale.py`): a version's paths (2,000 x 360 months, 2.9 MB) are kept for
the `loaded` most recently used versions and read back from the store when an evicted one is
asked for other parameters, and bodies for other parameters share one LRU.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from exportcast.models.results import Forecast
from exportcast.models.simulation import Simulation, summarise
from exportcast.service import artifacts
from exportcast.service.serving.bodies import Body, ForecastQuery, VersionStamp, serialise
from exportcast.service.store import NotFound, Store, VersionRecord
from exportcast.service.store.base import QuietRepeats

log = logging.getLogger("exportcast.active")


@dataclass
class Active:
    stamp: VersionStamp
    model: str
    members: tuple[str, ...]
    targets: tuple[float, ...]
    forecast: Forecast  # the default annual forecast, also read by /metrics
    polled: dict[str, Body]  # the default bodies by kind ("annual", "monthly")
    data_through: int = 0  # month index of the version's last published month
    # The previous version's median of the current year (for /metrics), if it had one.
    previous_median: float | None = None

    @property
    def series_id(self) -> str:
        return self.stamp.series_id

    @property
    def version(self) -> int:
        return self.stamp.version

    @property
    def created_at(self) -> str:
        return self.stamp.created_at

    def default_query(self, kind: str) -> ForecastQuery:
        return ForecastQuery(kind, targets=self.targets if kind == "annual" else ())

    def default(self, query: ForecastQuery) -> Body | None:
        """The body made at activation, if `query` asks for the defaults."""
        if query == self.default_query(query.kind):
            return self.polled[query.kind]
        return None


def activate(
    sim: Simulation,
    record: VersionRecord,
    targets: Sequence[float],
    previous: VersionRecord | None = None,
) -> Active:
    """An active version with its default bodies serialised, ready to answer; `previous`
    is the version before it, whose projection of the same year /metrics compares."""
    stamp = VersionStamp(record.series_id, record.version, record.created_at)
    annual = ForecastQuery("annual", targets=tuple(targets))
    forecast = summarise(sim, annual.years, annual.levels, annual.targets)
    polled = {
        "annual": serialise(sim, stamp, annual, forecast),
        "monthly": serialise(sim, stamp, ForecastQuery("monthly")),
    }
    year = forecast.years[0].year if forecast.years else None
    before = next(
        (p["median"] for p in (previous.info if previous else {}).get("projections", [])
         if p["year"] == year),
        None,
    )  # fmt: skip
    return Active(
        stamp, sim.model, tuple(sim.members), tuple(targets), forecast, polled, sim.data_through,
        before,
    )  # fmt: skip


class ActiveForecasts:
    def __init__(self, store: Store, cache_size: int = 256, loaded: int = 16):
        self.store = store
        self.cache_size = cache_size
        self._active: dict[str, Active] = {}
        self._paths: OrderedDict[tuple[str, int], Simulation] = OrderedDict()
        self._paths_lock = threading.Lock()
        # Bodies for other parameters, one LRU for every series, so the memory they take is
        # bounded however many series there are.
        self._responses: OrderedDict[tuple[str, int, str], Body] = OrderedDict()
        self._responses_lock = threading.Lock()
        self.loaded = max(1, loaded)
        # The poll, a finished job and an activate call may sync at once; one at a time, so
        # an older read of the store can never overwrite a newer version.
        self._sync_lock = threading.Lock()

    # -- reading ------------------------------------------------------------------------
    def get(self, series_id: str) -> Active | None:
        return self._active.get(series_id)

    def all(self) -> list[Active]:
        return list(self._active.values())

    def simulation(self, active: Active) -> Simulation:
        """The version's paths: kept if recently used, else read back from the store."""
        key = (active.series_id, active.version)
        with self._paths_lock:
            sim = self._paths.get(key)
            if sim is not None:
                self._paths.move_to_end(key)
                return sim
        return self._read(active.series_id, active.version)[0]

    def _read(self, series_id: str, version: int) -> tuple[Simulation, VersionRecord]:
        """A stored version's paths and record; the paths kept among the recently used."""
        record = self.store.version(series_id, version)
        sim = artifacts.load(self.store.artifact(series_id, version), record)
        self._keep((series_id, version), sim)
        return sim, record

    def _keep(self, key: tuple[str, int], sim: Simulation) -> None:
        with self._paths_lock:
            self._paths[key] = sim
            self._paths.move_to_end(key)
            while len(self._paths) > self.loaded:
                self._paths.popitem(last=False)

    def cached(self, active: Active, query: ForecastQuery) -> Body | None:
        """The body if it is already made (a default, or an LRU hit): no work to do, so the
        caller need not leave the event loop for it."""
        body = active.default(query)
        if body is not None:
            return body
        key = (active.series_id, active.version, query.key())
        with self._responses_lock:
            body = self._responses.get(key)
            if body is not None:
                self._responses.move_to_end(key)
            return body

    def response(self, active: Active, query: ForecastQuery) -> Body:
        body = self.cached(active, query)
        if body is not None:
            return body
        body = serialise(self.simulation(active), active.stamp, query)
        with self._responses_lock:
            self._responses[(active.series_id, active.version, query.key())] = body
            while len(self._responses) > self.cache_size:
                self._responses.popitem(last=False)
        return body

    # -- keeping up with the store ------------------------------------------------------
    def install(self, sim: Simulation, record: VersionRecord) -> None:
        """Serve a version this process has just trained and stored, without reading back
        its paths. Checked against the store under the sync lock, so a version activated
        meanwhile (a rollback, a newer job elsewhere) is never overwritten."""
        series = self.store.get_series(record.series_id)
        active = activate(sim, record, series.targets, self._previous(record))
        with self._sync_lock:
            if self.store.active_versions().get(record.series_id) == record.version:
                self._active[record.series_id] = active
                self._keep((record.series_id, record.version), sim)

    def sync(self) -> list[str]:
        """Load versions activated since the last call (by any process); return their series."""
        with self._sync_lock:
            return self._sync()

    def _sync(self) -> list[str]:
        changed = []
        versions = self.store.active_versions()
        for gone in set(self._active) - set(versions):  # deleted series
            del self._active[gone]
            changed.append(gone)
        for series_id, version in versions.items():
            current = self._active.get(series_id)
            if version is None:
                continue
            if current is not None and current.version == version:
                continue
            try:
                self._active[series_id] = self.load(series_id, version)
            except Exception:
                log.exception("could not load %s version %s", series_id, version)
                continue
            changed.append(series_id)
        return changed

    def load(self, series_id: str, version: int) -> Active:
        sim, record = self._read(series_id, version)
        targets = self.store.get_series(series_id).targets
        return activate(sim, record, targets, self._previous(record))

    def _previous(self, record: VersionRecord) -> VersionRecord | None:
        try:
            return self.store.version(record.series_id, record.version - 1)
        except NotFound:
            return None

    async def follow(self, interval: float) -> None:
        failures = QuietRepeats(log)
        while True:
            try:
                await asyncio.to_thread(self.sync)
            except Exception as exc:
                failures.failed("could not sync active versions", exc)
            await asyncio.sleep(interval)
