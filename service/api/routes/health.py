"""Liveness, readiness and the Prometheus counters.

The probes stay open under EXPORTCAST_READ_REQUIRES_TOKEN, since a load balancer sends no
token; without one, /readyz then says only ready or not (its status code and `status`),
never which series it serves or why it is not ready.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from exportcast.service import metrics
from exportcast.service.api.auth import Verdict
from exportcast.service.api.deps import (
    ERROR_RESPONSES,
    ActiveDep,
    SettingsDep,
    StoreDep,
    reader_verdict,
    require_reader,
)
from exportcast.service.schemas import Health, Readiness
from exportcast.service.serving.active import ActiveForecasts
from exportcast.service.store import Store
from exportcast.service.store.redact import redacted

log = logging.getLogger("exportcast")
router = APIRouter(tags=["health"])
# What a store problem is called in /readyz: a fixed word, never the database's own text
# (paths, hosts, SQL), which goes to the log instead.
STORE_UNAVAILABLE = "store unavailable"
_KINDS = {
    "was removed": "removed",
    "was replaced": "replaced",
    "is read-only": "read-only",
    "is corrupt": "corrupt",
}


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is alive and answering."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "not ready, with the reasons"}},
)
async def readyz(
    request: Request, store: StoreDep, active: ActiveDep, settings: SettingsDep
) -> Response:
    """Ready when the store answers and is sound (not removed, replaced, read-only or
    corrupt), every active version is loaded here, and there is
    something to serve. A series still waiting for its first model is listed under
    `pending` but keeps the instance in service; only a store where no series has a model
    yet (a first start) is not ready. With EXPORTCAST_READ_REQUIRES_TOKEN set, a request
    without the token gets the status alone."""
    body = await _readiness_of(store, active)
    if settings.read_requires_token and reader_verdict(settings, request) is not Verdict.ACCEPTED:
        body = Readiness(status=body.status)
    return _readiness(body)


async def _readiness_of(store: Store, active: ActiveForecasts) -> Readiness:
    problem = await run_in_threadpool(store.check)
    if problem is not None:
        return Readiness(status="not ready", reasons=[_store_problem(problem)])
    try:
        versions = await run_in_threadpool(store.active_versions)
    except Exception as exc:
        return Readiness(
            status="not ready", reasons=[_store_problem(f"{type(exc).__name__}: {exc}")]
        )
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
        return Readiness(status="not ready", reasons=reasons, pending=pending or None)
    return Readiness(status="ready", series=served, pending=pending or None)


def _store_problem(detail: str) -> str:
    """The generic reason for a store problem, with its kind when it is one of the known
    ones; the detail is logged (its password redacted)."""
    log.warning("not ready: %s", redacted(detail))
    kind = next((word for phrase, word in _KINDS.items() if phrase in detail), None)
    return f"{STORE_UNAVAILABLE} ({kind})" if kind else STORE_UNAVAILABLE


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
