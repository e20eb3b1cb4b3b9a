from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from exportcast.service.api.deps import ERROR_RESPONSES, StoreDep, require_reader
from exportcast.service.schemas import Error, JobOut

# Ids are stored as 64-bit integers: an unbounded one (10**30) overflowed the driver, a 500.
# 2**53 is far beyond any id and still exact in a JSON number.
JobId = Annotated[int, Path(ge=1, le=2**53, description="the job's id")]

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get(
    "/{job_id}",
    response_model=JobOut,
    dependencies=[Depends(require_reader)],
    responses={404: {"model": Error}, **ERROR_RESPONSES},
)
def read_job(job_id: JobId, store: StoreDep) -> JobOut:
    job = store.get_job(job_id)
    return JobOut(
        id=job.id,
        series=job.series_id,
        status=job.status,
        model_version=job.model_version,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )
