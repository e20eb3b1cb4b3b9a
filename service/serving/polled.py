"""The reads answered before FastAPI: forecast and hierarchy bytes made for the served (or
latest) version.

Dashboards poll the default forecast all day and clients ask their own questions, and the
answer to each is bytes made from the version. Measured on a 2-core machine, FastAPI's
middleware, routing and dependency resolution cost several times the work of sending those
bytes, so the app's outermost call (`FrontDoor`, before Starlette's middleware stack)
answers them itself: the defaults made at activation; any forecast question it reads
without doubt (`questions.from_query`), made from the version's kept paths by joining parts
made once per level and target, and then remembered by path and raw query; and a
hierarchy's latest version, by method, from the bytes `HierarchyBodies` made when it saw
the version. All with the routes' ETag and 304 rules and read-token rule. Anything it is
not sure of (a question spelled unusually, a version whose paths must be read back from the
store, an unknown series, a token it cannot accept, a hierarchy after a write in this
process) falls through to the routes, which give the full answer or error. Its requests
are counted in the metrics like any other.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from typing import Any

from exportcast.service.api.auth import Verdict, check_reader, session_cookie
from exportcast.service.config import Settings
from exportcast.service.serving import questions
from exportcast.service.serving.active import ActiveForecasts, ServedVersion
from exportcast.service.serving.bodies import Body, VersionStamp, not_modified

_PATH = re.compile(r"^/v1/series/(?P<series>[^/]+)/forecast(?P<monthly>/monthly)?/?$")
_HIERARCHY = re.compile(r"^/v1/hierarchies/(?P<hierarchy>[^/]+)$")
ANNUAL_ROUTE = "/v1/series/{series_id}/forecast"
MONTHLY_ROUTE = "/v1/series/{series_id}/forecast/monthly"
HIERARCHY_ROUTE = "/v1/hierarchies/{hierarchy_id}"
_METHOD = b"method="


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
        # path -> (template, series or hierarchy, monthly)
        self._routes: dict[str, tuple[str, str, bool] | None] = {}

    def _route(self, path: str) -> tuple[str, str, bool] | None:
        """The route template and the series (or hierarchy) a path asks for (None for any
        other path), matched once per path."""
        found = self._routes.get(path, False)
        if found is False:
            found = None
            if match := _PATH.match(path):
                monthly = bool(match["monthly"])
                template = MONTHLY_ROUTE if monthly else ANNUAL_ROUTE
                found = (template, match["series"], monthly)
            elif match := _HIERARCHY.match(path):
                found = (HIERARCHY_ROUTE, match["hierarchy"], False)
            if len(self._routes) > 10_000:  # paths are the clients' to choose: bounded
                self._routes.clear()
            self._routes[path] = found
        return found

    async def answer(self, scope: dict, send: Any) -> bool:
        """True when the request was answered here (counted in the metrics too)."""
        if scope["method"] not in ("GET", "HEAD"):
            hierarchies = getattr(self.state, "hierarchy_bodies", None)
            if hierarchies is not None:  # it may change what a hierarchy read answers
                hierarchies.forget()
            return False
        route = self._route(scope["path"])
        if route is None:
            return False
        started = time.perf_counter()
        if route[0] == HIERARCHY_ROUTE:
            body = self._hierarchy_body(route[1], scope)
        else:
            body = self._body((route[1], route[2]), scope)
        if body is None:
            return False
        status = await _send(scope, body, send)
        self.state.metrics.tally.add(
            scope["method"], route[0], status, time.perf_counter() - started
        )
        return True

    def _hierarchy_body(self, hierarchy_id: str, scope: dict) -> Body | None:
        bodies = getattr(self.state, "hierarchy_bodies", None)
        record = None if bodies is None else bodies.latest(hierarchy_id)
        if record is None:
            return None
        query = scope.get("query_string") or b""
        if not query:
            method = bodies.default_method
        elif query.startswith(_METHOD) and b"&" not in query:
            method = query[len(_METHOD) :].decode("latin-1")
        else:
            return None
        body = bodies.cached(record, method)
        if body is None or not self._may_read(scope):
            return None
        return body

    def _may_read(self, scope: dict) -> bool:
        settings = self.state.settings
        return not settings.read_requires_token or authorised(scope, settings)

    def _body(self, route: tuple[str, bool], scope: dict) -> Body | None:
        active_forecasts: ActiveForecasts | None = getattr(self.state, "active", None)
        if active_forecasts is None:
            return None
        series_id, monthly = route
        active = active_forecasts.get(series_id)
        if active is None or not self._may_read(scope):  # nothing made for a refused read
            return None
        query = scope.get("query_string") or b""
        if not query:
            return active.default_bodies.get("monthly" if monthly else "annual")
        body = self.answers.find(scope["path"], query, active)
        if body is None:
            body = self._answer(active_forecasts, active, query, monthly)
            if body is not None:
                self.answers.remember(scope["path"], query, active.stamp, body)
        return body

    @staticmethod
    def _answer(
        forecasts: ActiveForecasts, active: ServedVersion, query: bytes, monthly: bool
    ) -> Body | None:
        """A question not answered before, made here from the version's kept paths: parts
        made once per level and target, joined (`bodies.serialise`, well under a millisecond
        once its levels and targets are made). None when the question is not read without
        doubt, or the paths are not kept (a store read is the route's, off the loop), or it
        needs a member's paths sorted first (tens of milliseconds, also the route's)."""
        question = questions.from_query(query, "monthly" if monthly else "annual", active)
        if question is None:
            return None
        sim = forecasts.kept_simulation(active)
        if sim is None or (question.model is not None and not sim.has_made(question.model)):
            # Only what is made already: reading paths back, or sorting a member's, is the
            # route's, off the event loop.
            return forecasts.cached(active, question)
        try:  # a body made already is found first
            return forecasts.response(active, question, sim)
        except ValueError:  # more years than the paths cover: the route says so
            return None


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
