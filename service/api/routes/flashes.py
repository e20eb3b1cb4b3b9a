"""Partial-month figures (the customs 10- and 20-day flashes): read them (as of a date) and
post them, JSON or CSV. A flash for the month after the last published one sharpens that
month, and so the year, in the next version; earlier ones teach the ratio of full months
to flashes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status
from starlette.concurrency import run_in_threadpool

from exportcast.models.series import format_month
from exportcast.service.api.deps import (
    ERROR_RESPONSES,
    AsOf,
    RunnerDep,
    StoreDep,
    require_reader,
    require_writer,
)
from exportcast.service.api.uploads import UPLOAD_ERRORS, queued_job, read_upload, upload_body
from exportcast.service.ingest import flash_rows_from_csv, flash_rows_from_json, ingest_flash_rows
from exportcast.service.schemas import (
    Error,
    FlashBatch,
    FlashesAccepted,
    FlashKey,
    FlashList,
    FlashOut,
)
from exportcast.service.store import StoredFlash

router = APIRouter(prefix="/v1/series/{series_id}/flashes", tags=["flashes"])


def flash_out(f: StoredFlash) -> FlashOut:
    return FlashOut(
        month=format_month(f.month), period=f.period, value=f.value, recorded_at=f.recorded_at
    )


@router.get(
    "",
    response_model=FlashList,
    dependencies=[Depends(require_reader)],
    responses={404: {"model": Error}, **ERROR_RESPONSES},
)
def read_flashes(
    series_id: str,
    store: StoreDep,
    as_of: AsOf = None,
) -> FlashList:
    rows = store.flashes(series_id, as_of)
    return FlashList(
        series=series_id,
        as_of=as_of.isoformat() if as_of else None,
        flashes=[flash_out(f) for f in rows],
    )


_BODY = upload_body(
    FlashBatch,
    {"flashes": [{"month": "2026-06", "period": "d1_20", "value": 62000.0}]},
    "month,period,value\n2026-06,d1_20,62000.0\n",
)


def _keys(keys: list[tuple[int, str]]) -> list[FlashKey]:
    return [FlashKey(month=format_month(m), period=p) for m, p in keys]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=FlashesAccepted,
    dependencies=[Depends(require_writer)],
    openapi_extra=_BODY,
    responses={**ERROR_RESPONSES, **UPLOAD_ERRORS},
)
async def add_flashes(
    series_id: str, request: Request, store: StoreDep, runner: RunnerDep
) -> FlashesAccepted:
    """A new (month, period) is added; one already stored is a revision (the old value is
    kept as a vintage). Flashes may be for any published month (history the ratio learns
    from) or for the month after the last published; the whole batch is validated first
    and stored in one transaction, and a change queues a retrain as a month does."""
    rows = await read_upload(request, flash_rows_from_json, flash_rows_from_csv)
    outcome = await run_in_threadpool(ingest_flash_rows, store, series_id, rows)
    job = queued_job(outcome.job_id, runner)
    return FlashesAccepted(
        accepted=outcome.accepted,
        new=_keys(outcome.new),
        revised=_keys(outcome.revised),
        unchanged=_keys(outcome.unchanged),
        job=job,
    )
