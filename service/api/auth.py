"""The bearer-token rule, in one place for the routes and the polled fast path."""

from __future__ import annotations

import hmac
from enum import Enum

from exportcast.service.config import Settings


class Verdict(Enum):
    ACCEPTED = "accepted"
    DISABLED = "no token is configured on the server"
    MISSING = "no bearer token given"
    WRONG = "the bearer token is not valid"


def check_bearer(settings: Settings, scheme: str | None, token: str | None) -> Verdict:
    """Compared in constant time; with no token configured, nothing is accepted."""
    expected = settings.api_token.get_secret_value() if settings.api_token else ""
    if not expected:
        return Verdict.DISABLED
    if not token or (scheme or "").lower() != "bearer":
        return Verdict.MISSING
    if not hmac.compare_digest(token.strip().encode(), expected.encode()):
        return Verdict.WRONG
    return Verdict.ACCEPTED


def split_authorization(header: str | None) -> tuple[str | None, str | None]:
    """`Bearer abc` -> ("Bearer", "abc")."""
    if not header:
        return None, None
    scheme, _, token = header.strip().partition(" ")
    return scheme, token.strip() or None
