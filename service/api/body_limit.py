"""Writes: the token checked and the body's size limited before any of the body is read.

Every write route needs the token, so a request without it is refused here, before its
body is read into memory: 800 unauthenticated 2 MB uploads at once took the server to
almost 1 GB when the check came after the read.
"""

from __future__ import annotations

import json
from typing import Any

from exportcast.service.api.auth import (
    TOKENLESS_POSTS,
    check_bearer,
    refusal,
    split_authorization,
)
from exportcast.service.config import Settings

Scope = dict[str, Any]


WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
TOKENLESS_BODY_BYTES = 8192  # the sign-in form's largest body (routes/login.py checks it too)


class BodySizeLimit:
    """Refuse a write without a valid token (401/403) before reading its body, and bodies
    over `max_bytes` with 413, whether or not Content-Length is sent."""

    def __init__(self, app: Any, max_bytes: int, settings: Settings):
        self.app = app
        self.max_bytes = max_bytes
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        if scope["path"] in TOKENLESS_POSTS and scope["method"] == "POST":
            # /login takes the token in its body: a sign-in form, never more than a few
            # hundred bytes, so an unauthenticated body is held to that.
            limit = TOKENLESS_BODY_BYTES
        else:
            header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            refused = refusal(check_bearer(self.settings, *split_authorization(header)))
            if refused is not None:
                await self._send(send, *refused)
                return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._send(send, 413, f"request body larger than {limit} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._send(send, 413, f"request body larger than {limit} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _send(
        send: Any, status: int, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps({"detail": detail}).encode()
        extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
