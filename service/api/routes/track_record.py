"""A year's track record: how the projection moved with each release, the actual once
complete, and the outside forecasts beside it (see `service/track_record.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from exportcast.service.api.deps import ERROR_RESPONSES, StoreDep, require_reader
from exportcast.service.schemas import Error, TrackRecordOut
from exportcast.service.track_record import track_record

router = APIRouter(prefix="/v1/series/{series_id}/track-record", tags=["track record"])


@router.get(
    "",
    response_model=TrackRecordOut,
    dependencies=[Depends(require_reader)],
    responses={404: {"model": Error}, **ERROR_RESPONSES},
)
async def read_track_record(
    series_id: str,
    store: StoreDep,
    year: Annotated[int, Query(ge=1900, le=2200, description="the calendar year")],
) -> TrackRecordOut:
    """Every point on `year`: backtest points (refitted on the data through each month only,
    before the service's first version), then each version the service made, each with
    its median, intervals and, once the year is complete, its error; and every outside
    forecast of the year with where it fell in the model's distribution at its date."""
    return await run_in_threadpool(track_record, store, series_id, year)
