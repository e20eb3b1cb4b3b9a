"""Hierarchies: a total and its items, forecast together so that the items add up to the
total path by path. Reads are served from the version made when the data last changed."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from exportcast.models.hierarchy.reconcile import METHODS
from exportcast.models.hierarchy.spec import OTHER, TOTAL, classification
from exportcast.models.series import format_month
from exportcast.service.api.deps import (
    ERROR_RESPONSES,
    HierarchyBodiesDep,
    RunnerDep,
    StoreDep,
    require_reader,
    require_writer,
)
from exportcast.service.schemas import (
    SERIES_ID,
    Error,
    HierarchyForecastOut,
    HierarchyIn,
    HierarchyList,
    HierarchySummaryOut,
)
from exportcast.service.serving.bodies import reply
from exportcast.service.store import HierarchyRecord, Store
from exportcast.service.worker.hierarchy_fits import DEFAULT_METHOD, request_for

router = APIRouter(prefix="/v1/hierarchies", tags=["hierarchies"])

HierarchyId = Annotated[str, Path(pattern=SERIES_ID, description="the hierarchy's id")]


def _summary(record: HierarchyRecord) -> HierarchySummaryOut:
    return HierarchySummaryOut(
        id=record.id,
        total_series=record.total_series,
        classification=record.classification,
        items=record.items,
        targets=record.targets,
        nodes=[TOTAL, *record.items, OTHER],
        methods=list(METHODS),
        version=record.version,
        data_through=None if record.data_through is None else format_month(record.data_through),
        created_at=record.created_at,
        problem=record.problem,
    )


@router.get("", response_model=HierarchyList, dependencies=[Depends(require_reader)])
async def list_hierarchies(store: StoreDep) -> HierarchyList:
    records = await run_in_threadpool(store.hierarchies)
    return HierarchyList(hierarchies=[_summary(r) for r in records])


@router.get(
    "/{hierarchy_id}",
    response_model=HierarchyForecastOut,
    dependencies=[Depends(require_reader)],
    responses={
        304: {"description": "the body named by If-None-Match is still current"},
        404: {"model": Error},
        409: {"model": Error, "description": "no version made yet (Retry-After)"},
        **ERROR_RESPONSES,
    },
)
async def read_hierarchy(
    request: Request,
    store: StoreDep,
    bodies: HierarchyBodiesDep,
    hierarchy_id: HierarchyId,
    method: Annotated[
        str,
        Query(
            pattern="^(" + "|".join(METHODS) + ")$",
            description="top_down (default): the total's own forecast, the items scaled to it "
            "path by path; bottom_up: the items' sum; mint_shrink: MinT with a shrunk "
            "covariance; total_anchored: the total kept, the gap shared by covariance",
        ),
    ] = DEFAULT_METHOD,
) -> Response:
    """Every node's year totals, intervals and P(target), the items' shares of the total and
    the concentration by year, all read from the same coherent paths: on every path the
    items and other add up to the total, month by month."""
    record = await run_in_threadpool(store.get_hierarchy, hierarchy_id)
    if record.version is None:
        why = (
            f"its last update failed: {record.problem}"
            if record.problem
            else "it is made once its series' first models are"
        )
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"hierarchy {hierarchy_id!r} has no version yet; {why}",
            headers={"Retry-After": "5"},
        )
    body = bodies.cached(record, method)
    if body is None:  # validated and serialised once, off the event loop
        body = await run_in_threadpool(bodies.body, store, record, method)
    answer = reply(body, request.headers.get("if-none-match"))
    return Response(answer.content, status_code=answer.status, headers=answer.headers)


@router.put(
    "/{hierarchy_id}",
    response_model=HierarchySummaryOut,
    dependencies=[Depends(require_writer)],
    responses={
        400: {"model": Error, "description": "a body that cannot be read as JSON"},
        404: {"model": Error, "description": "a series it names is not stored"},
        **ERROR_RESPONSES,
    },
)
async def declare_hierarchy(
    store: StoreDep,
    runner: RunnerDep,
    hierarchy_id: HierarchyId,
    declared: HierarchyIn,
) -> HierarchySummaryOut:
    """Declare (or change) a hierarchy over series already stored; its first version is made
    off the request path, and a new one whenever one of its series gets new data."""
    if declared.total_series in declared.items.values():
        raise HTTPException(422, "the total series cannot be one of its own items")
    unknown = sorted(set(declared.targets) - {TOTAL, OTHER, *declared.items})
    if unknown:
        raise HTTPException(422, f"targets for nodes not in the hierarchy: {', '.join(unknown)}")
    record = HierarchyRecord(
        hierarchy_id,
        declared.total_series,
        declared.items,
        declared.classification,
        declared.targets,
    )

    def put() -> HierarchyRecord:
        total = store.get_series(declared.total_series)
        for node, series_id in declared.items.items():
            item = store.get_series(series_id)
            found = classification(item.name)
            if found and found != declared.classification:  # a name such as "hs4_2710:..."
                raise HTTPException(
                    422,
                    f"item {node!r} ({series_id}) is of classification {found!r}, not "
                    f"{declared.classification!r}: classifications overlap and are never added",
                )
            if item.unit != total.unit:
                raise HTTPException(
                    422,
                    f"item {node!r} ({series_id}) is in {item.unit!r}, the total in {total.unit!r}",
                )
        check_data(store, record)
        store.put_hierarchy(record)
        return store.get_hierarchy(hierarchy_id)

    stored = await run_in_threadpool(put)
    if runner is not None:
        runner.reconcile_soon(hierarchy_id)
    return _summary(stored)


def check_data(store: Store, record: HierarchyRecord) -> None:
    """Refuse (422) a declaration its stored data cannot serve (items that reach the total,
    too few shared months); one whose series have no data yet waits for them."""
    if any(store.get_series(s).n_observations == 0 for s in record.series_ids()):
        return
    request = request_for(store, record, "snaive", 100, 0, FilePath("."))
    try:
        request.nodes()
    except ValueError as exc:
        raise HTTPException(422, f"the stored data cannot make this hierarchy: {exc}") from None
