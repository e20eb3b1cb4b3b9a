"""The reads dashboards poll, answered before FastAPI's routing.

A default-parameter forecast GET is the hottest request by far and its answer is bytes
made at activation. Measured on a 2-core machine, FastAPI's routing and dependency
resolution cost about 3x the work of sending those bytes, so this outermost layer answers
such requests itself: same bytes, same ETag and 304 rules, same read-token rule. Anything
it is not sure of (parameters, unknown series, a token it cannot accept) falls through to
the routes, which give the full answer or error.
"""

from __future__ import annotations

import re
from typing import Any

from exportcast.service.api.auth import Verdict, check_reader, session_cookie
from exportcast.service.config import Settings
from exportcast.service.serving.active import ActiveForecasts
from exportcast.service.serving.bodies import Body, reply

_PATH = re.compile(r"^/v1/series/(?P<series>[^/]+)/forecast(?P<monthly>/monthly)?/?$")
ANNUAL_ROUTE = "/v1/series/{series_id}/forecast"
MONTHLY_ROUTE = "/v1/series/{series_id}/forecast/monthly"


class DefaultForecastReads:
    def __init__(self, app: Any, state: Any):
        self.app = app
        self.state = state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and not scope.get("query_string")
        ):
            match = _PATH.match(scope["path"])
            if match is not None:
                body = self._body(match, scope)
                if body is not None:
                    scope["exportcast.route"] = MONTHLY_ROUTE if match["monthly"] else ANNUAL_ROUTE
                    await self._send(scope, body, send)
                    return
        await self.app(scope, receive, send)

    def _body(self, match: re.Match, scope: dict) -> Body | None:
        active_forecasts: ActiveForecasts | None = getattr(self.state, "active", None)
        if active_forecasts is None:
            return None
        active = active_forecasts.get(match["series"])
        if active is None:
            return None
        settings = self.state.settings
        if settings.read_requires_token and not self._authorised(scope, settings):
            return None
        return active.default_bodies.get("monthly" if match["monthly"] else "annual")

    @staticmethod
    def _authorised(scope: dict, settings: Settings) -> bool:
        """The routes' read rule: the bearer header or the dashboard's session cookie."""
        headers = dict(scope["headers"])
        header = headers.get(b"authorization", b"").decode("latin-1")
        cookie = session_cookie(headers.get(b"cookie", b"").decode("latin-1"))
        return check_reader(settings, header, cookie) is Verdict.ACCEPTED

    @staticmethod
    async def _send(scope: dict, body: Body, send: Any) -> None:
        condition = dict(scope["headers"]).get(b"if-none-match")
        answer = reply(body, condition.decode("latin-1") if condition else None)
        headers = [(k.encode(), v.encode()) for k, v in answer.headers.items()]
        if answer.status == 200:
            headers.append((b"content-length", str(len(answer.content)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        content = b"" if scope["method"] == "HEAD" else answer.content
        await send({"type": "http.response.body", "body": content})
