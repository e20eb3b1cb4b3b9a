"""Forecast reads: served from the active version's stored paths, never by fitting."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi import Query as Param
from starlette.concurrency import run_in_threadpool

from exportcast.models import limits
from exportcast.service.api.deps import ERROR_RESPONSES, ActiveDep, StoreDep, require_reader
from exportcast.service.schemas import Error, ForecastOut, MonthlyForecastOut
from exportcast.service.serving import questions
from exportcast.service.serving.active import ActiveForecasts, ServedVersion
from exportcast.service.serving.bodies import ForecastQuery, reply
from exportcast.service.serving.questions import DEFAULT_LEVELS_TEXT
from exportcast.service.store import Store

router = APIRouter(prefix="/v1/series/{series_id}/forecast", tags=["forecasts"])


async def active_version(
    active_forecasts: ActiveForecasts, series_id: str, store: Store
) -> ServedVersion:
    active = active_forecasts.get(series_id)
    if active is None:
        # 404 when the series does not exist at all; a store call, so off the event loop.
        await run_in_threadpool(store.get_series, series_id)
        # 409, not 503: the service is up; this series' state (no model yet) is what
        # keeps the answer, and a client's question about it is not a server failure.
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"series {series_id!r} has no active model version yet; its first retrain is pending",
            headers={"Retry-After": "5"},
        )
    return active


async def _respond(
    request: Request, forecasts: ActiveForecasts, active: ServedVersion, query: ForecastQuery
) -> Response:
    body = forecasts.cached(active, query)
    if body is None:  # computed from the stored paths once, off the event loop
        body = await run_in_threadpool(forecasts.response, active, query)
    # The same question asked again (the same path and query) is answered by the front door.
    answers = getattr(request.app.state, "answers", None)
    if answers is not None:
        answers.remember(request.scope["path"], request.scope["query_string"], active.stamp, body)
    answer = reply(body, request.headers.get("if-none-match"))
    return Response(answer.content, status_code=answer.status, headers=answer.headers)


_COMMON = {
    "dependencies": [Depends(require_reader)],
    "responses": {
        304: {"description": "If-None-Match matched the current ETag; no body"},
        **ERROR_RESPONSES,
        404: {"model": Error},
        409: {"model": Error, "description": "no model version trained yet (Retry-After)"},
    },
}


@router.get("", response_model=ForecastOut, **_COMMON)
async def annual_forecast(
    series_id: str,
    request: Request,
    forecasts: ActiveDep,
    store: StoreDep,
    years: int = Param(
        limits.DEFAULT_YEARS,
        ge=1,
        le=limits.MAX_YEARS,
        description="calendar years, the current one first",
    ),
    levels: str = Param(
        DEFAULT_LEVELS_TEXT, description="interval levels in percent, comma-separated"
    ),
    targets: str | None = Param(
        None, description="amounts in the series' unit; default: the series' own targets"
    ),
    model: str | None = Param(None, description="one member of the active ensemble"),
) -> Response:
    """Year-end and multi-year totals with intervals and target probabilities."""
    active = await active_version(forecasts, series_id, store)
    try:
        query = questions.annual(active, years, levels, targets, model)
    except questions.BadQuestion as exc:
        raise HTTPException(422, str(exc)) from None
    return await _respond(request, forecasts, active, query)


@router.get("/monthly", response_model=MonthlyForecastOut, **_COMMON)
async def monthly_forecast(
    series_id: str,
    request: Request,
    forecasts: ActiveDep,
    store: StoreDep,
    horizon: int = Param(limits.DEFAULT_MONTHLY_HORIZON, ge=1, le=limits.MAX_HORIZON),
    levels: str = Param(DEFAULT_LEVELS_TEXT),
    model: str | None = Param(None),
) -> Response:
    """Monthly quantiles of the sample paths."""
    active = await active_version(forecasts, series_id, store)
    try:
        query = questions.monthly(active, horizon, levels, model)
    except questions.BadQuestion as exc:
        raise HTTPException(422, str(exc)) from None
    return await _respond(request, forecasts, active, query)
