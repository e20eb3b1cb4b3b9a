"""Forecast reads: served from the active version's stored paths, never by fitting."""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi import Query as Param
from starlette.concurrency import run_in_threadpool

from service.active import DEFAULT_MONTHLY_HORIZON, Active, Query, etag_matches
from service.deps import ActiveDep, StoreDep, require_reader
from service.schemas import Detail, ForecastOut, MonthlyForecastOut
from service.training import MAX_HORIZON, MAX_YEARS

router = APIRouter(prefix="/v1/series/{series_id}/forecast", tags=["forecasts"])

MAX_LEVELS = 6
MAX_TARGETS = 10
CACHE_CONTROL = "no-cache"  # keep a copy, but revalidate: the ETag makes that a cheap 304


def _numbers(name: str, text: str, most: int) -> list[float]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) > most:
        raise HTTPException(422, f"{name}: at most {most} values")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise HTTPException(
            422, f"{name}: {text!r} is not a comma-separated list of numbers"
        ) from None
    if any(not math.isfinite(v) for v in values):
        raise HTTPException(422, f"{name}: values must be finite")
    return values


def parse_levels(text: str) -> tuple[float, ...]:
    levels = _numbers("levels", text, MAX_LEVELS)
    if not levels:
        raise HTTPException(422, "levels: give at least one level")
    if any(not 1 <= v <= 99.9 for v in levels):
        raise HTTPException(422, "levels: each level must be between 1 and 99.9 (percent)")
    return tuple(sorted(set(levels)))


def parse_targets(text: str | None, default: tuple[float, ...]) -> tuple[float, ...]:
    if text is None:
        return default
    targets = _numbers("targets", text, MAX_TARGETS)
    if any(v <= 0 for v in targets):
        raise HTTPException(422, "targets: each target must be > 0")
    return tuple(sorted(set(targets)))


def _active(active_forecasts, series_id: str, store) -> Active:
    active = active_forecasts.get(series_id)
    if active is None:
        store.get_series(series_id)  # 404 when the series does not exist at all
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"series {series_id!r} has no active model version yet; its first retrain is pending",
            headers={"Retry-After": "5"},
        )
    return active


def _model(active: Active, model: str | None) -> str | None:
    if model is None or model == active.sim.model:
        return None
    if model not in active.sim.members:
        choices = ", ".join([active.sim.model, *active.sim.members])
        raise HTTPException(422, f"model: {model!r} is not in version {active.version} ({choices})")
    return model


async def _respond(request: Request, forecasts, active: Active, query: Query) -> Response:
    key = query.key()
    body = active.defaults.get(key)
    if body is None:
        body = await run_in_threadpool(forecasts.response, active, query)
    headers = {"ETag": body.etag, "Cache-Control": CACHE_CONTROL}
    condition = request.headers.get("if-none-match")
    if condition and etag_matches(condition, body.etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body.content, media_type="application/json", headers=headers)


_COMMON = {
    "dependencies": [Depends(require_reader)],
    "responses": {
        304: {"description": "If-None-Match matched the current ETag; no body"},
        404: {"model": Detail},
        422: {"model": Detail},
        503: {"model": Detail, "description": "no model version trained yet"},
    },
}


@router.get("", response_model=ForecastOut, **_COMMON)
async def annual_forecast(
    series_id: str,
    request: Request,
    forecasts: ActiveDep,
    store: StoreDep,
    years: int = Param(5, ge=1, le=MAX_YEARS, description="calendar years, the current one first"),
    levels: str = Param("80,95", description="interval levels in percent, comma-separated"),
    targets: str | None = Param(
        None, description="amounts in the series' unit; default: the series' own targets"
    ),
    model: str | None = Param(None, description="one member of the active ensemble"),
) -> Response:
    """Year-end and multi-year totals with intervals and target probabilities."""
    active = _active(forecasts, series_id, store)
    query = Query(
        "annual",
        model=_model(active, model),
        years=years,
        levels=parse_levels(levels),
        targets=parse_targets(targets, active.targets),
    )
    return await _respond(request, forecasts, active, query)


@router.get("/monthly", response_model=MonthlyForecastOut, **_COMMON)
async def monthly_forecast(
    series_id: str,
    request: Request,
    forecasts: ActiveDep,
    store: StoreDep,
    horizon: int = Param(DEFAULT_MONTHLY_HORIZON, ge=1, le=MAX_HORIZON),
    levels: str = Param("80,95"),
    model: str | None = Param(None),
) -> Response:
    """Monthly quantiles of the sample paths."""
    active = _active(forecasts, series_id, store)
    query = Query(
        "monthly", model=_model(active, model), levels=parse_levels(levels), horizon=horizon
    )
    return await _respond(request, forecasts, active, query)
