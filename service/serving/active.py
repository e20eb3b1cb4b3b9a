"""The forecasts each service process serves: the served version of every series, with its
default responses serialised when it was prepared here.

Reads never fit anything. A GET with default parameters returns bytes made when the
version was prepared; other parameters are computed from the stored paths once and kept
in a small LRU. Every process polls the store for newly served versions, so all workers
switch within one poll interval; the process that trained a version installs it from
memory instead of reading it back.

Every cache is keyed by the version's stamp (series, number and creation time), as its
ETag is: a series deleted and created again numbers its versions from 1 again, and its
version 1 is not the old version 1.

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
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from exportcast.models.results import Forecast
from exportcast.models.simulation import Simulation, summarise
from exportcast.service import artifacts
from exportcast.service.serving.bodies import Body, ForecastQuery, VersionStamp, serialise
from exportcast.service.store import Conflict, NotFound, Store, StoreUnavailable, VersionRecord
from exportcast.service.store.base import QuietRepeats

log = logging.getLogger("exportcast.active")


@dataclass
class ServedVersion:
    stamp: VersionStamp
    model: str
    members: tuple[str, ...]
    targets: tuple[float, ...]
    forecast: Forecast  # the default annual forecast, also read by /metrics
    default_bodies: dict[str, Body]  # by kind ("annual", "monthly")
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
        """The body made when the version was prepared, if `query` asks for the defaults."""
        if query == self.default_query(query.kind):
            return self.default_bodies[query.kind]
        return None


def prepare(sim: Simulation, record: VersionRecord, targets: Sequence[float]) -> ServedVersion:
    """A version ready to answer, its default bodies serialised."""
    stamp = VersionStamp(record.series_id, record.version, record.created_at, record.has_moves)
    annual = ForecastQuery("annual", targets=tuple(targets))
    forecast = summarise(sim, annual.years, annual.levels, annual.targets)
    bodies = {
        "annual": serialise(sim, stamp, annual),
        "monthly": serialise(sim, stamp, ForecastQuery("monthly")),
    }
    return ServedVersion(
        stamp, sim.model, tuple(sim.members), tuple(targets), forecast, bodies, sim.data_through
    )


class ActiveForecasts:
    def __init__(self, store: Store, cache_size: int = 256, loaded: int = 16):
        self.store = store
        self.cache_size = cache_size
        self._served: dict[str, ServedVersion] = {}
        self._paths: OrderedDict[VersionStamp, Simulation] = OrderedDict()
        self._paths_lock = threading.Lock()
        # Bodies for other parameters, one LRU for every series, so the memory they take is
        # bounded however many series there are.
        self._responses: OrderedDict[tuple[VersionStamp, str], Body] = OrderedDict()
        self._responses_lock = threading.Lock()
        self.loaded = max(1, loaded)
        # The poll, a finished job and a serve call may sync at once; one at a time, so an
        # older read of the store can never overwrite a newer version.
        self._sync_lock = threading.Lock()
        # Versions that failed to load, by stamp: logged once, tried again only when the
        # store serves another version of the series.
        self._unloadable: dict[str, tuple[int, str]] = {}
        # Series whose new version this process is storing and will install from memory:
        # the poll leaves them alone meanwhile (until a deadline), rather than reading the
        # paths just written back from the store and preparing them a second time.
        self._expected: dict[str, float] = {}

    # -- reading ------------------------------------------------------------------------
    def get(self, series_id: str) -> ServedVersion | None:
        return self._served.get(series_id)

    def all(self) -> list[ServedVersion]:
        return list(self._served.values())

    def simulation(self, served: ServedVersion) -> Simulation:
        """The version's paths: kept if recently used, else read back from the store."""
        with self._paths_lock:
            sim = self._paths.get(served.stamp)
            if sim is not None:
                self._paths.move_to_end(served.stamp)
                return sim
        try:
            record = self.store.version(served.series_id, served.version)
            if record.created_at != served.created_at:
                raise NotFound(served.series_id)
            return self._read(record)
        except NotFound:  # the series was made again since: its number names another
            raise Conflict(
                f"version {served.version} of {served.series_id!r} was replaced meanwhile; "
                "ask again"
            ) from None

    def kept_simulation(self, served: ServedVersion) -> Simulation | None:
        """The version's paths if they are kept here (never a store read: the front door
        asks this on the event loop)."""
        with self._paths_lock:
            return self._paths.get(served.stamp)

    def _read(self, record: VersionRecord) -> Simulation:
        """A stored version's paths (that very version's), kept among the recently used."""
        data = self.store.artifact(record.series_id, record.version, record.created_at)
        sim = artifacts.from_bytes(data, record)
        self._keep(
            VersionStamp(record.series_id, record.version, record.created_at, record.has_moves), sim
        )
        return sim

    def _keep(self, stamp: VersionStamp, sim: Simulation) -> None:
        with self._paths_lock:
            self._paths[stamp] = sim
            self._paths.move_to_end(stamp)
            while len(self._paths) > self.loaded:
                self._paths.popitem(last=False)

    def cached(self, served: ServedVersion, query: ForecastQuery) -> Body | None:
        """The body if it is already made (a default, or an LRU hit): no work to do, so the
        caller need not leave the event loop for it."""
        body = served.default(query)
        if body is not None:
            return body
        key = (served.stamp, query.key())
        with self._responses_lock:
            body = self._responses.get(key)
            if body is not None:
                self._responses.move_to_end(key)
            return body

    def response(
        self, served: ServedVersion, query: ForecastQuery, sim: Simulation | None = None
    ) -> Body:
        body = self.cached(served, query)
        if body is not None:
            return body
        body = serialise(sim or self.simulation(served), served.stamp, query)
        with self._responses_lock:
            self._responses[(served.stamp, query.key())] = body
            while len(self._responses) > self.cache_size:
                self._responses.popitem(last=False)
        return body

    # -- keeping up with the store ------------------------------------------------------
    def expect(self, series_id: str, seconds: float = 10.0) -> None:
        """This process is about to store a version of the series and install it."""
        self._expected[series_id] = time.monotonic() + seconds

    def install(self, sim: Simulation, record: VersionRecord, targets: Sequence[float]) -> None:
        """Serve a version this process has just trained and stored, without reading back
        its paths or its series. Checked against the store under the sync lock (reading
        only this series' served version), so a version served meanwhile (a rollback, a
        newer job elsewhere) is never overwritten."""
        served = prepare(sim, record, targets)
        served.previous_median = self._previous_median(served)
        with self._sync_lock:
            self._expected.pop(record.series_id, None)
            if self.store.served_stamp(record.series_id) == (record.version, record.created_at):
                self._served[record.series_id] = served
                self._keep(served.stamp, sim)

    def sync(self) -> list[str]:
        """Load versions served since the last call (by any process); return their series."""
        with self._sync_lock:
            return self._sync()

    def _sync(self) -> list[str]:
        changed = []
        stamps = self.store.served_stamps()
        for gone in set(self._served) - set(stamps):  # deleted series
            del self._served[gone]
            changed.append(gone)
        for series_id, stamp in stamps.items():
            current = self._served.get(series_id)
            if stamp is None:
                if current is not None:  # deleted and created again, nothing served yet
                    del self._served[series_id]
                    changed.append(series_id)
                continue
            if current is not None and (current.version, current.created_at) == stamp:
                continue
            if self._unloadable.get(series_id) == stamp:
                continue
            if self._expected.get(series_id, 0.0) > time.monotonic():
                continue  # being installed from memory here
            try:
                self._served[series_id] = self.load(series_id, stamp[0])
            except StoreUnavailable:  # passing: the whole sync is tried at the next poll
                raise
            except Exception:
                self._unloadable[series_id] = stamp
                log.exception(
                    "could not load %s version %s; it is tried again when another is served",
                    series_id,
                    stamp[0],
                )
                continue
            self._unloadable.pop(series_id, None)
            changed.append(series_id)
        return changed

    def load(self, series_id: str, version: int) -> ServedVersion:
        record = self.store.version(series_id, version)
        sim = self._read(record)
        targets = self.store.get_series(series_id).targets
        served = prepare(sim, record, targets)
        served.previous_median = self._previous_median(served)
        return served

    def _previous_median(self, served: ServedVersion) -> float | None:
        """What the version before said of this version's first year."""
        if not served.forecast.years or served.version <= 1:
            return None
        year = served.forecast.years[0].year
        point = self.store.projection(served.series_id, served.version - 1, year)
        return None if point is None else point["median"]

    async def follow(self, interval: float) -> None:
        failures = QuietRepeats(log)
        while True:
            try:
                await asyncio.to_thread(self.sync)
            except Exception as exc:
                failures.failed("could not sync served versions", exc)
            await asyncio.sleep(interval)
