from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from exportcast.models.series import format_month
from exportcast.models.validate import Problem, SeriesError
from exportcast.service.api.deps import (
    ERROR_RESPONSES,
    RunnerDep,
    StoreDep,
    require_reader,
    require_writer,
)
from exportcast.service.ingest import ingest_rows, rows_from_csv, rows_from_json
from exportcast.service.schemas import (
    Error,
    IngestAccepted,
    JobRef,
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
    as_of: datetime | None = Query(
        None, description="ISO-8601 datetime: the values as they were known then"
    ),
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


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its definitions written in place: the route reads its
    body itself (JSON or CSV), so FastAPI never adds the model to the document's components
    and a `$ref` to them would point nowhere."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": inline_schema(ObservationBatch),
                "example": {"observations": [{"month": "2026-06", "value": 91234.5}]},
            },
            "text/csv": {
                "schema": {"type": "string"},
                "example": "month,value\n2026-06,91234.5\n",
            },
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=IngestAccepted,
    dependencies=[Depends(require_writer)],
    openapi_extra=_BODY,
    responses={
        **ERROR_RESPONSES,
        422: {"model": Error, "description": "bad rows, all named; nothing stored"},
        404: {"model": Error},
        415: {"model": Error},
    },
)
async def add_observations(
    series_id: str, request: Request, store: StoreDep, runner: RunnerDep
) -> IngestAccepted:
    """New months append; a month already stored is a revision (the old value is kept as a
    vintage). The whole batch is validated first and stored in one transaction."""
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    raw = await request.body()
    if kind in ("application/json", ""):
        try:
            payload = json.loads(raw or b"null")
        except RecursionError:  # "[[[[...": deeper than the parser can go
            raise SeriesError([Problem("body is not valid JSON: nested too deeply")]) from None
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an int of 4300+ digits
            raise SeriesError([Problem(f"body is not valid JSON: {exc}")]) from None
        rows = rows_from_json(payload)
    elif kind in ("text/csv", "text/plain"):
        try:
            rows = rows_from_csv(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise SeriesError([Problem("CSV body is not UTF-8")]) from None
    else:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send application/json or text/csv"
        )
    outcome = await run_in_threadpool(ingest_rows, store, series_id, rows)
    if outcome.job_id is not None and runner is not None:
        runner.nudge()
    job = None
    if outcome.job_id is not None:
        job = JobRef(id=outcome.job_id, status_url=f"/v1/jobs/{outcome.job_id}")
    return IngestAccepted(
        accepted=outcome.accepted,
        new_months=[format_month(m) for m in outcome.new_months],
        revised_months=[format_month(m) for m in outcome.revised_months],
        unchanged_months=[format_month(m) for m in outcome.unchanged_months],
        job=job,
    )
