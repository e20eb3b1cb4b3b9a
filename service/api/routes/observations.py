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
from exportcast.service.ingest import ingest_rows, rows_from_csv, rows_from_json
from exportcast.service.schemas import (
    Error,
    IngestAccepted,
    ObservationBatch,
    ObservationList,
    ObservationOut,
)

router = APIRouter(prefix="/v1/series/{series_id}/observations", tags=["observations"])


@router.get(
    "",
    response_model=ObservationList,
    dependencies=[Depends(require_reader)],
    responses={404: {"model": Error}, **ERROR_RESPONSES},
)
def read_observations(
    series_id: str,
    store: StoreDep,
    as_of: AsOf = None,
) -> ObservationList:
    rows = store.observations(series_id, as_of)
    return ObservationList(
        series=series_id,
        as_of=as_of.isoformat() if as_of else None,
        observations=[
            ObservationOut(month=format_month(o.month), value=o.value, recorded_at=o.recorded_at)
            for o in rows
        ],
    )


_BODY = upload_body(
    ObservationBatch,
    {"observations": [{"month": "2026-06", "value": 91234.5}]},
    "month,value\n2026-06,91234.5\n",
)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=IngestAccepted,
    dependencies=[Depends(require_writer)],
    openapi_extra=_BODY,
    responses={**ERROR_RESPONSES, **UPLOAD_ERRORS},
)
async def add_observations(
    series_id: str, request: Request, store: StoreDep, runner: RunnerDep
) -> IngestAccepted:
    """New months append; a month already stored is a revision (the old value is kept as a
    vintage). The whole batch is validated first and stored in one transaction."""
    rows = await read_upload(request, rows_from_json, rows_from_csv)
    outcome = await run_in_threadpool(ingest_rows, store, series_id, rows)
    job = queued_job(outcome.job_id, runner)
    return IngestAccepted(
        accepted=outcome.accepted,
        new_months=[format_month(m) for m in outcome.new_months],
        revised_months=[format_month(m) for m in outcome.revised_months],
        unchanged_months=[format_month(m) for m in outcome.unchanged_months],
        job=job,
    )
