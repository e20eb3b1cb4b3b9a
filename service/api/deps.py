"""Dependencies injected into the routes: the store, the active forecasts, auth.

All are `async def`: none blocks, and FastAPI would run a plain `def` dependency in its
thread pool, a hop per dependency per request (measured: reads 3x slower).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator

from exportcast.service.api.auth import (
    SESSION_COOKIE,
    Verdict,
    check_bearer,
    check_reader,
    refusal,
)
from exportcast.service.config import Settings
from exportcast.service.schemas import Error
from exportcast.service.serving.active import ActiveForecasts
from exportcast.service.serving.hierarchy_bodies import HierarchyBodies
from exportcast.service.serving.markets import MarketBodies
from exportcast.service.store import Store
from exportcast.service.worker.loop import Worker

bearer = HTTPBearer(auto_error=False, description="EXPORTCAST_API_TOKEN")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_active(request: Request) -> ActiveForecasts:
    return request.app.state.active


async def get_hierarchy_bodies(request: Request) -> HierarchyBodies:
    return request.app.state.hierarchy_bodies


async def get_market_bodies(request: Request) -> MarketBodies:
    return request.app.state.market_bodies


async def get_runner(request: Request) -> Worker | None:
    return getattr(request.app.state, "runner", None)


def _check_token(settings: Settings, scheme: str | None, token: str | None) -> None:
    _enforce(check_bearer(settings, scheme, token))


def _enforce(verdict: Verdict) -> None:
    refused = refusal(verdict)
    if refused is not None:
        status_code, message, headers = refused
        raise HTTPException(status_code, message, headers=headers or None)


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def require_writer(settings: SettingsDep, credentials: Credentials) -> None:
    # The body guard (body_limit.py) has already refused a write without the token; this
    # declares the scheme in the OpenAPI document and holds for an app without the guard.
    if credentials is None:
        _check_token(settings, None, None)
    else:
        _check_token(settings, credentials.scheme, credentials.credentials)


def reader_verdict(settings: Settings, request: Request) -> Verdict:
    """A read's verdict: the bearer header or the dashboard's session cookie (/login)."""
    return check_reader(
        settings, request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE)
    )


async def require_reader(settings: SettingsDep, request: Request) -> None:
    """Reads are open unless EXPORTCAST_READ_REQUIRES_TOKEN is set; then they take the
    bearer header or a session cookie. The header is read here rather than through the
    `bearer` security scheme, so the OpenAPI document does not declare a token on reads
    that are open by default."""
    if settings.read_requires_token:
        _enforce(reader_verdict(settings, request))


async def require_page_reader(settings: SettingsDep, request: Request) -> None:
    """`require_reader` for HTML pages: a browser refused is sent to /login (and back here
    after), where it can sign in; API clients still get the 401/403 JSON."""
    if not settings.read_requires_token:
        return
    verdict = reader_verdict(settings, request)
    if verdict in (Verdict.MISSING, Verdict.WRONG) and "text/html" in request.headers.get(
        "accept", ""
    ):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(
            303, "sign in first", headers={"Location": f"/login?next={quote(target, safe='/')}"}
        )
    _enforce(verdict)


StoreDep = Annotated[Store, Depends(get_store)]
ActiveDep = Annotated[ActiveForecasts, Depends(get_active)]
HierarchyBodiesDep = Annotated[HierarchyBodies, Depends(get_hierarchy_bodies)]
MarketBodiesDep = Annotated[MarketBodies, Depends(get_market_bodies)]
RunnerDep = Annotated[Worker | None, Depends(get_runner)]


# What any route behind the token rule may answer besides its own cases, for the OpenAPI
# document: the token rule's refusals and a request whose parameters fail their checks.
ERROR_RESPONSES: dict[int | str, dict] = {
    401: {"model": Error, "description": "no bearer token"},
    403: {"model": Error, "description": "wrong token, or writes disabled on the server"},
    422: {"model": Error, "description": "a parameter or the body failed its checks"},
    503: {"model": Error, "description": "the store cannot be used (removed, replaced, ...)"},
}


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_only(value: object) -> object:
    """ISO-8601 text only: pydantic alone would also read "10000000.0" as a Unix time."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be an ISO-8601 date or datetime, such as 2026-06-15T09:00:00Z")
    return value


AsOf = Annotated[
    datetime | None,
    BeforeValidator(_iso_only),
    Query(description="ISO-8601 datetime: as it was known then"),
]
