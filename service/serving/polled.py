"""The reads answered before FastAPI: forecast bytes already made for the served version.

Dashboards poll the default forecast all day and clients repeat their questions, and the
answer to each is bytes made once per version. Measured on a 2-core machine, FastAPI's
middleware, routing and dependency resolution cost several times the work of sending those
bytes, so the app's outermost call (`FrontDoor`, before Starlette's middleware stack)
answers them itself: the defaults made at activation, and any question a route has answered
for the same version (by path and raw query: the route's answer, remembered), with the same
ETag and 304 rules and the same read-token rule. Anything it is not sure of (a question not
answered yet, an unknown series, a token it cannot accept) falls through to the routes,
which give the full answer or error. Its requests are counted in the metrics like any other.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from typing import Any

from exportcast.service.api.auth import Verdict, check_reader, session_cookie
from exportcast.service.config import Settings
from exportcast.service.serving.active import ActiveForecasts, ServedVersion
from exportcast.service.serving.bodies import Body, VersionStamp, not_modified

_PATH = re.compile(r"^/v1/series/(?P<series>[^/]+)/forecast(?P<monthly>/monthly)?/?$")
ANNUAL_ROUTE = "/v1/series/{series_id}/forecast"
MONTHLY_ROUTE = "/v1/series/{series_id}/forecast/monthly"


class Answers:
    """Bodies the routes made, by (path, raw query), each kept with the version it is of:
    a hit is only served while that version is. Bounded, least recently used out."""

    def __init__(self, size: int = 1024):
        self.size = size
        self._bodies: OrderedDict[tuple[str, bytes], tuple[VersionStamp, Body]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, path: str, query: bytes, stamp: VersionStamp, body: Body) -> None:
        with self._lock:
            self._bodies[(path, query)] = (stamp, body)
            self._bodies.move_to_end((path, query))
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)

    def find(self, path: str, query: bytes, served: ServedVersion) -> Body | None:
        found = self._bodies.get((path, query))
        if found is None or found[0] != served.stamp:
            return None
        return found[1]


def authorised(scope: dict, settings: Settings) -> bool:
    """The routes' read rule: the bearer header or the dashboard's session cookie."""
    headers = dict(scope["headers"])
    header = headers.get(b"authorization", b"").decode("latin-1")
    cookie = session_cookie(headers.get(b"cookie", b"").decode("latin-1"))
    return check_reader(settings, header, cookie) is Verdict.ACCEPTED


class FrontDoor:
    """Answers the forecast reads it holds bytes for; see the module's docstring."""

    def __init__(self, state: Any, answers: Answers):
        self.state = state
        self.answers = answers
        self._routes: dict[str, tuple[str, bool] | None] = {}  # path -> (series, monthly)

    def _route(self, path: str) -> tuple[str, bool] | None:
        """The series and kind a forecast path asks for (None for any other path),
        matched once per path."""
        found = self._routes.get(path, False)
        if found is False:
            match = _PATH.match(path)
            found = None if match is None else (match["series"], bool(match["monthly"]))
            if len(self._routes) > 10_000:  # paths are the clients' to choose: bounded
                self._routes.clear()
            self._routes[path] = found
        return found

    async def answer(self, scope: dict, send: Any) -> bool:
        """True when the request was answered here (counted in the metrics too)."""
        if scope["method"] not in ("GET", "HEAD"):
            return False
        route = self._route(scope["path"])
        if route is None:
            return False
        started = time.perf_counter()
        body = self._body(route, scope)
        if body is None:
            return False
        status = await _send(scope, body, send)
        template = MONTHLY_ROUTE if route[1] else ANNUAL_ROUTE
        self.state.metrics.tally.add(
            scope["method"], template, status, time.perf_counter() - started
        )
        return True

    def _body(self, route: tuple[str, bool], scope: dict) -> Body | None:
        active_forecasts: ActiveForecasts | None = getattr(self.state, "active", None)
        if active_forecasts is None:
            return None
        series_id, monthly = route
        active = active_forecasts.get(series_id)
        if active is None:
            return None
        query = scope.get("query_string") or b""
        if query:
            body = self.answers.find(scope["path"], query, active)
        else:
            body = active.default_bodies.get("monthly" if monthly else "annual")
        if body is None:
            return None
        settings = self.state.settings
        if settings.read_requires_token and not authorised(scope, settings):
            return None
        return body


async def _send(scope: dict, body: Body, send: Any) -> int:
    """The body, or a 304 when the client's tag matches (`not_modified`, the routes' rule),
    with headers made once per body."""
    status = 200
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            if not_modified(value.decode("latin-1"), body):
                status = 304
            break
    headers = body.asgi_headers[status]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    content = b"" if status == 304 or scope["method"] == "HEAD" else body.content
    await send({"type": "http.response.body", "body": content})
    return status
