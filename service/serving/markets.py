"""Markets bodies as bytes: made once per (the total's served version, the destination rows
as stored, the question), from the version's own paths, and answered as bytes or a 304.

The compositions and the shares' model depend on the destination rows alone, so they are
made once per stamp of those rows and shared by every version and question. The share paths'
seed comes from the version and the rows, so every process makes the same bytes and ETag.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from exportcast.models.digest import digest
from exportcast.models.limits import DEFAULT_LEVELS, DEFAULT_YEARS
from exportcast.models.markets.composition import FittedComposition
from exportcast.models.markets.destinations import (
    Composition,
    DestinationRow,
    KnownMonths,
    Period,
    compositions,
)
from exportcast.models.markets.forecast import fit_markets, forecast_markets, year_in_progress
from exportcast.models.markets.targets import ShareTarget
from exportcast.models.simulation import Simulation
from exportcast.service.schemas import MarketsOut
from exportcast.service.serving.active import ActiveForecasts, ServedVersion
from exportcast.service.serving.bodies import BODY_FORMAT, Body
from exportcast.service.store import Store

CACHED_BODIES = 64
CACHED_MODELS = 8


class NoMarkets(LookupError):
    """The series has no destination rows, or none that make a composition."""


@dataclass(frozen=True)
class MarketsQuery:
    years: int = DEFAULT_YEARS
    year: int | None = None  # only this calendar year
    levels: tuple[float, ...] = DEFAULT_LEVELS
    targets: tuple[ShareTarget, ...] = ()

    def key(self) -> str:
        return json.dumps([self.years, self.year, self.levels, [str(t) for t in self.targets]])


@dataclass(frozen=True)
class Markets:
    """What the destination rows as stored give, whatever the version: made once a stamp."""

    stamp: str
    recorded_at: str
    rows: list[DestinationRow]
    compositions: list[Composition]
    fitted: FittedComposition
    _known: dict[tuple, KnownMonths | None] = field(default_factory=dict, repr=False)

    def known(self, sim: Simulation) -> KnownMonths | None:
        """The year in progress's published months by region, for the version's paths:
        read from the rows once per year and months known, not once per question."""
        first = sim.year_draws[0]
        key = (first.year, first.months_observed)
        if key not in self._known:
            self._known[key] = year_in_progress(self.rows, sim)
        return self._known[key]


def markets_etag(served: ServedVersion, stamp: str, query: MarketsQuery) -> str:
    made = digest(BODY_FORMAT, "markets", served.series_id, served.version, served.created_at)
    return f'"m{served.version}-{digest(made, stamp, query.key())[:20]}"'


class MarketBodies:
    def __init__(self, size: int = CACHED_BODIES):
        self.size = size
        self._bodies: OrderedDict[tuple, Body] = OrderedDict()
        self._markets: OrderedDict[tuple[str, str], Markets] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(served: ServedVersion, stamp: str, query: MarketsQuery) -> tuple:
        return (served.stamp, stamp, query.key())

    def cached(self, served: ServedVersion, stamp: str, query: MarketsQuery) -> Body | None:
        key = self._key(served, stamp, query)
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def markets(self, store: Store, series_id: str, stamp: str) -> Markets:
        """The compositions and the fitted shares' model for the rows as stored (blocking)."""
        with self._lock:
            made = self._markets.get((series_id, stamp))
        if made is not None:
            return made
        stored = store.destinations(series_id)
        rows = [DestinationRow(Period.parse(r.period), r.destination, r.value) for r in stored]
        found = compositions(rows)
        if sum(c.complete for c in found) < 3:
            raise NoMarkets(
                f"series {series_id!r} has no destination rows that make three complete "
                "compositions (a year with WORLD and partners making 90% of it, or twelve "
                "months after the last such year); post some to /v1/series/"
                f"{series_id}/destinations"
            )
        made = Markets(stamp, max(r.recorded_at for r in stored), rows, found, fit_markets(found))
        with self._lock:
            self._markets[(series_id, stamp)] = made
            while len(self._markets) > CACHED_MODELS:
                self._markets.popitem(last=False)
        return made

    def warm(self, store: Store, active: ActiveForecasts, series_id: str) -> bool:
        """Make the default body of the series' served version now (when it is activated),
        so the first read does not; False for a series without markets."""
        served = active.get(series_id)
        stamp = store.destinations_stamp(series_id) if served is not None else None
        if served is None or stamp is None:
            return False
        try:
            self.body(store, active, served, stamp, MarketsQuery())
        except NoMarkets:
            return False
        return True

    def body(
        self,
        store: Store,
        active: ActiveForecasts,
        served: ServedVersion,
        stamp: str,
        query: MarketsQuery,
    ) -> Body:
        """Made from the version's paths on the first ask (blocking: call it in a thread);
        ValueError for a year the version's paths do not reach."""
        body = self.cached(served, stamp, query)
        if body is not None:
            return body
        markets = self.markets(store, served.series_id, stamp)
        sim = active.simulation(served)
        first = sim.first_month // 12
        years = query.years
        if query.year is not None:
            reach = len(sim.year_draws)
            if not first <= query.year < first + reach:
                raise ValueError(
                    f"year: {query.year} is not between {first} and {first + reach - 1}, the "
                    f"years version {served.version}'s paths cover"
                )
            years = query.year - first + 1
        seed = int(digest(served.series_id, served.version, stamp)[:8], 16)
        forecast = forecast_markets(
            markets.compositions,
            sim,
            years,
            query.levels,
            query.targets,
            seed=seed,
            fitted=markets.fitted,
            known=markets.known(sim),
        ).to_dict()
        if query.year is not None:
            forecast["years"] = [y for y in forecast["years"] if y["year"] == query.year]
        out = MarketsOut.model_validate(
            {
                **forecast,
                "series": served.series_id,
                "model_version": served.version,
                "generated_at": served.created_at,
                "destinations_as_of": markets.recorded_at,
            }
        )
        body = Body(markets_etag(served, stamp, query), out.model_dump_json().encode())
        with self._lock:
            self._bodies[self._key(served, stamp, query)] = body
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)
        return body
