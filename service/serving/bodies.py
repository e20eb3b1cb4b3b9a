"""Forecast bodies as bytes, made from the response schemas, with their validators and
the one rule for answering them (200 or 304), wherever a body is answered from.

A body is serialised once per (version, question) and answered from then on as bytes. Its
strong ETag names the version, the version's creation and the question, so the same
question to the same version always has the same bytes and tag, and a client's tag from a
store rebuilt from scratch (versions numbered from 1 again) never matches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

from pydantic_core import to_json

from exportcast.models.digest import digest
from exportcast.models.limits import DEFAULT_LEVELS, DEFAULT_MONTHLY_HORIZON, DEFAULT_YEARS
from exportcast.models.simulation import Simulation, monthly_forecast, months_of, summarise
from exportcast.models.year_parts import year_parts
from exportcast.service.schemas import ExpectedErrorOut, ForecastOut, MonthlyForecastOut
from exportcast.service.serving.month_text import filled, month_text

CACHE_CONTROL = "no-cache"  # keep a copy, but revalidate: the ETag makes that a cheap 304
# Part of every ETag: bump when the body's shape changes for the same version and question,
# so a tag a client kept from before never matches a body of another shape. 2: the learned
# fields are always present, serialised from the schemas.
BODY_FORMAT = 3


@dataclass(frozen=True)
class ForecastQuery:
    """A forecast question, normalised so equal questions share one cache entry and ETag."""

    kind: str  # "annual" or "monthly"
    model: str | None = None  # one member of the version's ensemble, None for the whole
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

    @cached_property
    def asgi_headers(self) -> dict[int, list[tuple[bytes, bytes]]]:
        """The raw headers of a 200 and of a 304, made once: what the front door sends."""
        validators = [(k.encode(), v.encode()) for k, v in validator_headers(self).items()]
        full = [(b"content-type", b"application/json"), *validators]
        full.append((b"content-length", str(len(self.content)).encode()))
        return {200: full, 304: validators}


@dataclass(frozen=True)
class VersionStamp:
    """Which model version a body comes from."""

    series_id: str
    version: int
    created_at: str
    moves: bool = False  # why it moved from the version before is stored (the body links it)


def moves_path(series_id: str, version: int) -> str:
    return f"/v1/series/{series_id}/models/{version}/moves"


def etag_for(stamp: VersionStamp, query: ForecastQuery) -> str:
    made = digest(BODY_FORMAT, stamp.series_id, stamp.version, stamp.created_at, query.key())
    return f'"v{stamp.version}-{made[:20]}"'


def serialise(sim: Simulation, stamp: VersionStamp, query: ForecastQuery) -> Body:
    """The JSON body for a question: its outline validated into the response schema and
    dumped from it, its years, targets and months assembled from parts made once per
    version, level and target (`year_parts`, `month_text`), to the same bytes.

    `generated_at` is when the version was made, not when the body was: the same question
    to the same version gives the same bytes, so the ETag stays a strong validator even
    after a cache eviction.
    """
    if query.model is not None:
        sim = sim.only(query.model)
    levels = to_json([float(level) for level in query.levels])
    months = month_text(sim)
    if query.kind == "annual":
        parts = year_parts(sim)
        years = parts.years(query.years, query.levels, query.targets)
        for year, error in zip(years, _errors(sim), strict=False):
            year["expected_error"] = error
        arrays = {
            "levels": levels,
            "years": to_json(years),
            "targets": to_json(parts.outlooks(query.years, query.targets)),
            "monthly": months.array(months_of(sim.year_draws[: query.years]), query.levels),
        }
    else:
        arrays = {"levels": levels, "monthly": months.array(query.horizon, query.levels)}
    return Body(etag_for(stamp, query), filled(_outline(sim, stamp, query.kind), arrays))


def _outline(sim: Simulation, stamp: VersionStamp, kind: str) -> bytes:
    """The body of a kind with empty levels, years, targets and months: what does not
    depend on the question, validated and dumped by its schema once per version."""

    def make() -> bytes:
        served = {"model_version": stamp.version, "generated_at": stamp.created_at}
        if kind == "annual":
            outline = summarise(sim, 0, (), months=False)
            moves = moves_path(stamp.series_id, stamp.version) if stamp.moves else None
            body = ForecastOut.model_validate({**outline.to_dict(), **served, "moves": moves})
        else:
            monthly = monthly_forecast(sim, 0, ())
            body = MonthlyForecastOut.model_validate({**monthly.to_dict(), **served})
        return body.model_dump_json().encode()

    return sim.kept(("outline", stamp, kind), make)


def _errors(sim: Simulation) -> list[dict | None]:
    """Each year's expected error as its schema writes it (defaults filled in, in order)."""

    def make() -> list[dict | None]:
        return [
            None if error is None else ExpectedErrorOut.model_validate(error).model_dump()
            for error in year_parts(sim).errors
        ]

    return sim.kept("year_errors", make)


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison, as If-None-Match asks."""
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


def not_modified(if_none_match: str | None, body: Body) -> bool:
    return bool(if_none_match) and etag_matches(if_none_match or "", body.etag)


def validator_headers(body: Body) -> dict[str, str]:
    return {"etag": body.etag, "cache-control": CACHE_CONTROL}


@dataclass(frozen=True)
class Reply:
    """What to send for a body: 200 with it, or 304 with its validators alone."""

    status: int
    headers: dict[str, str]
    content: bytes


def reply(body: Body, if_none_match: str | None) -> Reply:
    """The one 304/ETag rule, for the polled fast path and every route that answers a body
    (a forecast, a hierarchy): the same headers and status wherever it is answered."""
    headers = validator_headers(body)
    if not_modified(if_none_match, body):
        return Reply(304, headers, b"")
    return Reply(200, {"content-type": "application/json", **headers}, body.content)
