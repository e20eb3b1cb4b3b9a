from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from exportcast.service import metrics
from exportcast.service.api.deps import ActiveDep, StoreDep
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
    """Ready when the store answers and every series has an active model loaded here."""
    reasons = []
    try:
        versions = await run_in_threadpool(store.active_versions)
    except Exception as exc:
        return _readiness(Readiness(status="not ready", reasons=[f"store unreachable: {exc}"]))
    if not versions:
        reasons.append("no series yet")
    for series_id, version in versions.items():
        if version is None:
            reasons.append(f"series {series_id!r} has no trained model yet")
        elif active.get(series_id) is None:
            reasons.append(f"series {series_id!r}: version {version} not loaded yet")
    if reasons:
        return _readiness(Readiness(status="not ready", reasons=reasons))
    return _readiness(Readiness(status="ready", series=versions))


def _readiness(body: Readiness) -> JSONResponse:
    ready = body.status == "ready"
    code = status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=code)


@router.get("/metrics", response_class=PlainTextResponse)
def prometheus(request: Request) -> Response:
    """Prometheus text format: requests and their latency by route, retrain outcomes (summed
    over the worker processes), forecast gauges."""
    state_metrics: metrics.Metrics = request.app.state.metrics
    return Response(state_metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
