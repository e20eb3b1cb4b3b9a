from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from exportcast.models.series import format_month
from exportcast.service.api.deps import (
    ERROR_RESPONSES,
    ActiveDep,
    StoreDep,
    require_reader,
    require_writer,
)
from exportcast.service.schemas import Error, MovesOut, VersionList, VersionOut
from exportcast.service.serving.bodies import moves_path
from exportcast.service.store import NotFound, Store

# Versions are stored as 64-bit integers: an unbounded one (10**30) overflowed the driver, a
# 500. 2**53 is far beyond any version and still exact in a JSON number.
VersionNumber = Annotated[int, Path(ge=1, le=2**53, description="the model version")]

router = APIRouter(prefix="/v1/series/{series_id}/models", tags=["model versions"])
PAGE = 50


def _list(
    series_id: str, store: Store, limit: int = PAGE, before: int | None = None
) -> VersionList:
    """A page of version records, newest first: each read from its own columns, so a page
    costs the same with ten versions stored or ten thousand."""
    served = store.get_series(series_id).active_version
    records = store.versions(series_id, limit=limit + 1, before=before)
    page, more = records[:limit], len(records) > limit
    return VersionList(
        series=series_id,
        versions=[
            VersionOut(
                version=v.version,
                created_at=v.created_at,
                data_through=format_month(v.data_through),
                model=v.model,
                members=list(v.members),
                description=v.description,
                fit_seconds=v.fit_seconds,
                status="active" if v.version == served else "standby",
                active=v.version == served,
                learned=v.learned,
                n_paths=v.n_paths,
                moves=moves_path(series_id, v.version) if v.has_moves else None,
            )
            for v in page
        ],
        next_before=page[-1].version if more else None,
    )


@router.get(
    "",
    response_model=VersionList,
    dependencies=[Depends(require_reader)],
    responses={404: {"model": Error}, **ERROR_RESPONSES},
)
def list_versions(
    series_id: str,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=500, description="versions in one page")] = PAGE,
    before: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**53,
            description="only versions numbered below this (the last page's `next_before`)",
        ),
    ] = None,
) -> VersionList:
    """The series' model versions, newest first, a page at a time."""
    return _list(series_id, store, limit, before)


@router.post(
    "/{version}/activate",
    response_model=VersionList,
    dependencies=[Depends(require_writer)],
    responses={404: {"model": Error}, **ERROR_RESPONSES},
)
def activate(
    series_id: str, version: VersionNumber, store: StoreDep, forecasts: ActiveDep
) -> VersionList:
    """Switch the served version (rollback or forward); every worker follows within a poll."""
    store.serve_version(series_id, version)
    forecasts.sync()
    return _list(series_id, store)


@router.get(
    "/{version}/moves",
    response_model=MovesOut,
    dependencies=[Depends(require_reader)],
    responses={404: {"model": Error}, **ERROR_RESPONSES},
)
def moves(series_id: str, version: VersionNumber, store: StoreDep) -> MovesOut:
    """Why the version moved from the one served before it: each projected year's median
    and P(target), and the named steps that add up to the change (computed when the
    version was made)."""
    body = store.moves(series_id, version)
    if body is None:
        raise NotFound(
            f"version {version} of {series_id!r} has no moves: it is the series' first, "
            "or was made before moves were explained"
        )
    return MovesOut.model_validate({"series": series_id, "version": version, **body})
