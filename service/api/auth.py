"""The bearer-token rule, in one place for the routes and the polled fast path."""

from __future__ import annotations

import hmac
from enum import Enum, auto

from exportcast.service.config import Settings


class Verdict(Enum):
    ACCEPTED = auto()
    DISABLED = auto()  # no token configured on the server: writes refused, never open
    MISSING = auto()
    WRONG = auto()


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


def refusal(verdict: Verdict) -> tuple[int, str, dict[str, str]] | None:
    """Status, message and headers for a verdict that refuses the request; None if it
    passes. One wording for the routes' dependencies and the body guard."""
    if verdict is Verdict.DISABLED:
        return 403, "writes are disabled: no EXPORTCAST_API_TOKEN is configured on the server", {}
    if verdict is Verdict.MISSING:
        return (
            401,
            "missing bearer token (Authorization: Bearer <token>)",
            {"WWW-Authenticate": "Bearer"},
        )
    if verdict is Verdict.WRONG:
        return 403, "the bearer token is not valid", {}
    return None
