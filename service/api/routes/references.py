"""Outside forecasts of a series' annual totals (official outlooks): read them (as of a
date) and post them, JSON or CSV, with the observations' rules (token, every bad row named,
all or nothing, vintages kept). They queue no retrain: the model does not learn from them;
the track record sets them beside it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status
from starlette.concurrency import run_in_threadpool

from exportcast.service.api.deps import (
    ERROR_RESPONSES,
    AsOf,
    StoreDep,
    require_reader,
    require_writer,
)
from exportcast.service.api.uploads import UPLOAD_ERRORS, read_upload, upload_body
from exportcast.service.ingest import (
    ingest_reference_rows,
    reference_rows_from_csv,
    reference_rows_from_json,
)
from exportcast.service.schemas import (
    Error,
    ReferenceBatch,
    ReferenceKey,
    ReferenceList,
    ReferenceOut,
    ReferencesAccepted,
)

router = APIRouter(prefix="/v1/series/{series_id}/references", tags=["references"])


@router.get(
    "",
    response_model=ReferenceList,
    dependencies=[Depends(require_reader)],
    responses={404: {"model": Error}, **ERROR_RESPONSES},
)
def read_references(series_id: str, store: StoreDep, as_of: AsOf = None) -> ReferenceList:
    rows = store.references(series_id, as_of)
    return ReferenceList(
        series=series_id,
        as_of=as_of.isoformat() if as_of else None,
        references=[
            ReferenceOut(
                forecaster=r.reference.forecaster,
                published=r.reference.published.isoformat(),
                year=r.reference.year,
                value=r.reference.value,
                source=r.reference.source,
                recorded_at=r.recorded_at,
            )
            for r in rows
        ],
    )


_BODY = upload_body(
    ReferenceBatch,
    {
        "references": [
            {"forecaster": "KITA", "published": "2025-12-05", "year": 2026, "value": 711000.0}
        ]
    },
    "forecaster,published,year,value,source\nKITA,2025-12-05,2026,711000,press release\n",
)


def _keys(keys: list[tuple]) -> list[ReferenceKey]:
    return [ReferenceKey(forecaster=f, published=p, year=y) for f, p, y in keys]


@router.post(
    "",
    status_code=status.HTTP_200_OK,
    response_model=ReferencesAccepted,
    dependencies=[Depends(require_writer)],
    openapi_extra=_BODY,
    responses={**ERROR_RESPONSES, **UPLOAD_ERRORS},
)
async def add_references(series_id: str, request: Request, store: StoreDep) -> ReferencesAccepted:
    """A new (forecaster, published, year) is added; one already stored with another value
    or source is a revision (the old one is kept as a vintage). The whole batch is checked
    first (a publication date in the future, a year that ended before it, text with
    control characters are refused, each row named) and stored in one transaction."""
    rows = await read_upload(request, reference_rows_from_json, reference_rows_from_csv)
    outcome = await run_in_threadpool(ingest_reference_rows, store, series_id, rows)
    return ReferencesAccepted(
        accepted=outcome.accepted,
        new=_keys(outcome.new),
        revised=_keys(outcome.revised),
        unchanged=_keys(outcome.unchanged),
    )
