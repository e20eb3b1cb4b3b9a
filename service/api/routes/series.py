from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from exportcast.models.series import format_month
from exportcast.service.api.deps import (
    ERROR_RESPONSES,
    ActiveDep,
    SettingsDep,
    StoreDep,
    require_reader,
    require_writer,
)
from exportcast.service.schemas import SERIES_ID, Error, SeriesCreate, SeriesList, SeriesOut
from exportcast.service.store import SeriesRecord

router = APIRouter(prefix="/v1/series", tags=["series"])


def series_out(record: SeriesRecord) -> SeriesOut:
    return SeriesOut(
        id=record.id,
        name=record.name,
        unit=record.unit,
        targets=list(record.targets),
        country=record.country,
        first_month=format_month(record.first_month) if record.first_month is not None else None,
        last_month=format_month(record.last_month) if record.last_month is not None else None,
        n_observations=record.n_observations,
        active_model_version=record.active_version,
    )


@router.get(
    "", response_model=SeriesList, dependencies=[Depends(require_reader)], responses=ERROR_RESPONSES
)
def list_series(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="series per page")] = 100,
    after: Annotated[
        str | None, Query(pattern=SERIES_ID, description="the last id of the previous page")
    ] = None,
) -> SeriesList:
    """Series in id order, a page at a time: follow `next` until it is null."""
    records = store.list_series(limit + 1, after)
    more = len(records) > limit
    page = records[:limit]
    following = f"/v1/series?limit={limit}&after={page[-1].id}" if more else None
    return SeriesList(series=[series_out(r) for r in page], next=following)


@router.post(
    "",
    response_model=SeriesOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_writer)],
    responses={
        409: {"model": Error},
        400: {"model": Error, "description": "a body that cannot be read as JSON"},
        413: {"model": Error, "description": "a body over EXPORTCAST_MAX_BODY_BYTES"},
        **ERROR_RESPONSES,
    },
)
def create_series(body: SeriesCreate, store: StoreDep, settings: SettingsDep) -> SeriesOut:
    """409 when the id is taken or the store holds EXPORTCAST_MAX_SERIES series already."""
    limit = settings.max_series
    record = store.create_series(body.id, body.name, body.unit, body.targets, body.country, limit)
    return series_out(record)


@router.get(
    "/{series_id}",
    response_model=SeriesOut,
    dependencies=[Depends(require_reader)],
    responses={404: {"model": Error}, **ERROR_RESPONSES},
)
def get_series(series_id: str, store: StoreDep) -> SeriesOut:
    return series_out(store.get_series(series_id))


@router.delete(
    "/{series_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(require_writer)],
    responses={404: {"model": Error}, **ERROR_RESPONSES},
)
def delete_series(series_id: str, store: StoreDep, forecasts: ActiveDep) -> Response:
    """The series with every vintage, job and model version, in one transaction. This
    process stops serving it at once, every other worker within a poll."""
    store.delete_series(series_id)
    forecasts.sync()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
