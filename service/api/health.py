from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from service import metrics
from service.deps import ActiveDep, RunnerDep, StoreDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive and answering."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready, with the reasons"}})
async def readyz(store: StoreDep, active: ActiveDep) -> Response:
    """Ready when the store answers and every series has an active model loaded here."""
    reasons = []
    try:
        versions = await run_in_threadpool(store.active_versions)
    except Exception as exc:
        return JSONResponse(
            {"status": "not ready", "reasons": [f"store unreachable: {exc}"]},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if not versions:
        reasons.append("no series yet")
    for series_id, version in versions.items():
        if version is None:
            reasons.append(f"series {series_id!r} has no trained model yet")
        elif active.get(series_id) is None:
            reasons.append(f"series {series_id!r}: version {version} not loaded yet")
    if reasons:
        return JSONResponse(
            {"status": "not ready", "reasons": reasons},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return JSONResponse({"status": "ready", "series": versions})


@router.get("/metrics", response_class=PlainTextResponse)
def prometheus(request: Request, active: ActiveDep, runner: RunnerDep) -> PlainTextResponse:
    """Prometheus text format: request counts, retrain outcomes, forecast gauges."""
    jobs = runner.completed if runner is not None else {}
    text = metrics.render(request.app.state.request_counts, active, jobs)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
