"""The reads dashboards poll, answered before FastAPI's routing.

A default-parameter forecast GET is the hottest request by far and its answer is bytes
made at activation. Measured on a 2-core machine, FastAPI's routing and dependency
resolution cost about 3x the work of sending those bytes, so this outermost layer answers
such requests itself: same bytes, same ETag and 304 rules, same read-token rule. Anything
it is not sure of (parameters, unknown series, a token it cannot accept) falls through to
the routes, which give the full answer or error.
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from service.active import ActiveForecasts, Body, etag_matches
from service.api.forecasts import CACHE_CONTROL

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
        return active.polled.get("monthly" if match["monthly"] else "annual")

    @staticmethod
    def _authorised(scope: dict, settings: Any) -> bool:
        token = settings.api_token.get_secret_value() if settings.api_token else ""
        header = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, given = header.partition(b" ")
        return (
            bool(token)
            and scheme.lower() == b"bearer"
            and hmac.compare_digest(given.strip(), token.encode())
        )

    @staticmethod
    async def _send(scope: dict, body: Body, send: Any) -> None:
        tag = body.etag.encode()
        condition = dict(scope["headers"]).get(b"if-none-match")
        if condition is not None and etag_matches(condition.decode("latin-1"), body.etag):
            headers = [(b"etag", tag), (b"cache-control", CACHE_CONTROL.encode())]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body.content)).encode()),
            (b"etag", tag),
            (b"cache-control", CACHE_CONTROL.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        content = b"" if scope["method"] == "HEAD" else body.content
        await send({"type": "http.response.body", "body": content})
