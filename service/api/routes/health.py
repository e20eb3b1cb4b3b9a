from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from exportcast.service import metrics
from exportcast.service.api.deps import ERROR_RESPONSES, ActiveDep, StoreDep, require_reader
from exportcast.service.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is alive and answering."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "not ready, with the reasons"}},
)
async def readyz(store: StoreDep, active: ActiveDep) -> Response:
    """Ready when the store answers and is sound (not removed, replaced, read-only or
    corrupt), every active version is loaded here, and there is
    something to serve. A series still waiting for its first model is listed under
    `pending` but keeps the instance in service; only a store where no series has a model
    yet (a first start) is not ready."""
    problem = await run_in_threadpool(store.check)
    if problem is not None:
        return _readiness(Readiness(status="not ready", reasons=[problem]))
    try:
        versions = await run_in_threadpool(store.active_versions)
    except Exception as exc:
        return _readiness(Readiness(status="not ready", reasons=[f"store unreachable: {exc}"]))
    reasons = []
    pending = sorted(series_id for series_id, version in versions.items() if version is None)
    if not versions:
        reasons.append("no series yet")
    elif len(pending) == len(versions):
        reasons.append(f"no series has a trained model yet: {', '.join(repr(s) for s in pending)}")
    for series_id, version in versions.items():
        if version is not None and active.get(series_id) is None:
            reasons.append(f"series {series_id!r}: version {version} not loaded yet")
    served = {k: v for k, v in versions.items() if v is not None}
    if reasons:
        return _readiness(Readiness(status="not ready", reasons=reasons, pending=pending or None))
    return _readiness(Readiness(status="ready", series=served, pending=pending or None))


def _readiness(body: Readiness) -> JSONResponse:
    ready = body.status == "ready"
    code = status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=code)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    dependencies=[Depends(require_reader)],
    responses=ERROR_RESPONSES,
)
def prometheus(request: Request) -> Response:
    """Prometheus text format: requests and their latency by route, retrain outcomes (summed
    over the worker processes), forecast gauges."""
    state_metrics: metrics.Metrics = request.app.state.metrics
    return Response(state_metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
