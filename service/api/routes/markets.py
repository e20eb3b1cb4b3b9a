"""Markets: where a series' exports go. Destination rows are read and posted with the
observations' rules (token, every bad row named, all or nothing, vintages kept); the markets
are read from the served version's paths times the shares' paths, bytes made once per
version, rows and question."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi import Query as Param
from starlette.concurrency import run_in_threadpool

from exportcast.models import limits
from exportcast.models.markets.targets import parse_targets
from exportcast.service.api.deps import (
    ERROR_RESPONSES,
    ActiveDep,
    AsOf,
    MarketBodiesDep,
    StoreDep,
    require_reader,
    require_writer,
)
from exportcast.service.api.routes.forecasts import active_version
from exportcast.service.api.uploads import UPLOAD_ERRORS, read_upload, upload_body
from exportcast.service.ingest import (
    destination_rows_from_csv,
    destination_rows_from_json,
    ingest_destination_rows,
)
from exportcast.service.schemas import (
    DestinationBatch,
    DestinationKey,
    DestinationList,
    DestinationOut,
    DestinationsAccepted,
    Error,
    MarketsOut,
)
from exportcast.service.serving.bodies import reply
from exportcast.service.serving.markets import MarketsQuery, NoMarkets
from exportcast.service.serving.questions import DEFAULT_LEVELS_TEXT, levels_of

router = APIRouter(prefix="/v1/series/{series_id}", tags=["markets"])


@router.get(
    "/destinations",
    response_model=DestinationList,
    dependencies=[Depends(require_reader)],
    responses={404: {"model": Error}, **ERROR_RESPONSES},
)
def read_destinations(series_id: str, store: StoreDep, as_of: AsOf = None) -> DestinationList:
    rows = store.destinations(series_id, as_of)
    return DestinationList(
        series=series_id,
        as_of=as_of.isoformat() if as_of else None,
        destinations=[
            DestinationOut(
                period=r.period, destination=r.destination, value=r.value, recorded_at=r.recorded_at
            )
            for r in rows
        ],
    )


_BODY = upload_body(
    DestinationBatch,
    {"destinations": [{"period": "2026-07", "destination": "CHN", "value": 21681.2}]},
    "period,destination,value\n2026-07,WORLD,97000\n2026-07,CHN,21681.2\n",
)


def _keys(keys: list[tuple]) -> list[DestinationKey]:
    return [DestinationKey(period=p, destination=d) for p, d in keys]


@router.post(
    "/destinations",
    status_code=status.HTTP_200_OK,
    response_model=DestinationsAccepted,
    dependencies=[Depends(require_writer)],
    openapi_extra=_BODY,
    responses={**ERROR_RESPONSES, **UPLOAD_ERRORS},
)
async def add_destinations(
    series_id: str, request: Request, store: StoreDep
) -> DestinationsAccepted:
    """Exports by destination, per year (`YYYY`) or month (`YYYY-MM`): a partner's ISO 3166
    alpha-3 code, `WORLD`, or a `REGION_` aggregate (kept, never added to partners). A new
    (period, destination) is added; one stored with another value is a revision (the old
    kept as a vintage). The whole batch is checked first, every bad row named, and stored
    in one transaction. No retrain: the next markets read uses them."""
    rows = await read_upload(request, destination_rows_from_json, destination_rows_from_csv)
    outcome = await run_in_threadpool(ingest_destination_rows, store, series_id, rows)
    return DestinationsAccepted(
        accepted=outcome.accepted,
        new=_keys(outcome.new),
        revised=_keys(outcome.revised),
        unchanged=_keys(outcome.unchanged),
    )


@router.get(
    "/markets",
    response_model=MarketsOut,
    dependencies=[Depends(require_reader)],
    responses={
        304: {"description": "If-None-Match matched the current ETag; no body"},
        404: {"model": Error, "description": "no such series, or no destination rows for it"},
        409: {"model": Error, "description": "no model version trained yet (Retry-After)"},
        **ERROR_RESPONSES,
    },
)
async def read_markets(
    series_id: str,
    request: Request,
    store: StoreDep,
    forecasts: ActiveDep,
    bodies: MarketBodiesDep,
    years: int = Param(
        limits.DEFAULT_YEARS, ge=1, le=limits.MAX_YEARS, description="calendar years, this first"
    ),
    year: int | None = Param(None, ge=1900, le=2200, description="only this calendar year"),
    levels: str = Param(DEFAULT_LEVELS_TEXT, description="interval levels in percent"),
    targets: str | None = Param(
        None,
        max_length=1000,
        description="shares to give P() for, comma-separated: a region (or regions joined by "
        "'+'), '<' or '>', a share between 0 and 1; e.g. china<0.18,asean+eu>0.3333",
    ),
) -> Response:
    """Each region's share of the total and its exports by year, with intervals; the
    concentration of markets (Herfindahl index over the named regions, the top region's and
    the top three's shares), published and projected; P(a share crosses a threshold). Every
    figure comes from the same paths: each region's exports are its share path times the
    total's path, so on every path the regions add up to the total."""
    served = await active_version(forecasts, series_id, store)
    try:
        query = MarketsQuery(
            years, year, levels_of(levels), parse_targets([targets] if targets else [])
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    stamp = await run_in_threadpool(store.destinations_stamp, series_id)
    if stamp is None:
        raise HTTPException(
            404,
            f"series {series_id!r} has no destination rows; post some to "
            f"/v1/series/{series_id}/destinations",
        )
    body = bodies.cached(served, stamp, query)
    if body is None:
        try:
            body = await run_in_threadpool(bodies.body, store, forecasts, served, stamp, query)
        except NoMarkets as exc:
            raise HTTPException(404, str(exc)) from None
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
    answer = reply(body, request.headers.get("if-none-match"))
    return Response(answer.content, status_code=answer.status, headers=answer.headers)
