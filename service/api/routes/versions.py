from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from exportcast.models.series import format_month
from exportcast.service.api.deps import (
    ERROR_RESPONSES,
    ActiveDep,
    StoreDep,
    require_reader,
    require_writer,
)
from exportcast.service.schemas import Error, VersionList, VersionOut

# Versions are stored as 64-bit integers: an unbounded one (10**30) overflowed the driver, a
# 500. 2**53 is far beyond any version and still exact in a JSON number.
VersionNumber = Annotated[int, Path(ge=1, le=2**53, description="the model version")]

router = APIRouter(prefix="/v1/series/{series_id}/models", tags=["model versions"])

# What a version keeps for the track record, served there (`/track-record`), not here.
TRACK_KEYS = ("projections", "track")


def _list(series_id: str, store) -> VersionList:
    active = store.get_series(series_id).active_version
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
                status="active" if v.version == active else "standby",
                active=v.version == active,
                info={k: x for k, x in v.info.items() if k not in TRACK_KEYS},
            )
            for v in store.versions(series_id)
        ],
    )


@router.get(
    "",
    response_model=VersionList,
    dependencies=[Depends(require_reader)],
    responses={404: {"model": Error}, **ERROR_RESPONSES},
)
def list_versions(series_id: str, store: StoreDep) -> VersionList:
    return _list(series_id, store)


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
    store.activate(series_id, version)
    forecasts.sync()
    return _list(series_id, store)
