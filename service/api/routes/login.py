"""Signing a browser in for reads under EXPORTCAST_READ_REQUIRES_TOKEN.

A browser cannot send `Authorization: Bearer`, so the dashboard's pages and their polls
read with a session cookie instead: POST /login takes the token from a form body (never a
URL, so never a log line) and sets an HttpOnly, SameSite=Strict cookie signed with a key
derived from the token (auth.py). The cookie authorises reads only; writes keep requiring
the bearer header, so a page on another site can never make a signed-in browser write.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from exportcast.service.api.auth import (
    SESSION_COOKIE,
    Verdict,
    check_bearer,
    new_session,
    safe_next,
)
from exportcast.service.api.body_limit import TOKENLESS_BODY_BYTES
from exportcast.service.api.deps import SettingsDep
from exportcast.service.dashboard.login import login_html

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
FORM = "application/x-www-form-urlencoded"


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    next_path: Annotated[str | None, Query(alias="next")] = None,
) -> HTMLResponse:
    return HTMLResponse(login_html(safe_next(next_path)), headers=NO_STORE)


@router.post("/login")
async def login(request: Request, settings: SettingsDep) -> Response:
    """The token from the form; a good one sets the session cookie and goes to `next`."""
    if not request.headers.get("content-type", "").startswith(FORM):
        return _form_again("/", "send the form (application/x-www-form-urlencoded)", 415)
    body = await request.body()
    if len(body) > TOKENLESS_BODY_BYTES:  # the body guard's cap, for an app without it
        return _form_again("/", "the form is too large", 413)
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=8)
    target = safe_next(fields.get("next", [""])[0])
    token = fields.get("token", [""])[0]
    verdict = check_bearer(settings, "Bearer", token)
    if verdict is Verdict.DISABLED:
        return _form_again(target, "no API token is configured on the server", 403)
    session = new_session(settings)
    if verdict is not Verdict.ACCEPTED or session is None:
        return _form_again(target, "that token is not valid", 401)
    answer = RedirectResponse(target, status_code=303, headers=NO_STORE)
    answer.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(settings.session_hours * 3600),
        path="/",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return answer


@router.post("/logout")
async def logout(settings: SettingsDep) -> Response:
    """Drops the cookie from this browser. Sessions are not stored on the server: to end
    every session at once, change the token."""
    answer = RedirectResponse("/login", status_code=303, headers=NO_STORE)
    answer.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return answer


def _form_again(target: str, error: str, status: int) -> HTMLResponse:
    return HTMLResponse(login_html(target, error), status_code=status, headers=NO_STORE)
