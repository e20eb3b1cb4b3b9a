"""The bearer-token rule and the dashboard's session cookie, in one place for the routes,
the body guard and the polled fast path."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from enum import Enum, auto
from functools import lru_cache
from urllib.parse import urlsplit

from starlette.requests import cookie_parser

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


# -- reads: the bearer header, or a browser's session cookie (/login) ---------------------

SESSION_COOKIE = "exportcast_session"
# Posts that take no bearer token: signing in sends the token in the form body instead.
# The body guard (body_limit.py) must let them through (still size-limited).
TOKENLESS_POSTS = frozenset({"/login", "/logout"})
_SESSION_CONTEXT = b"exportcast session cookie v1"
_VERSION = "v1"
KEY_ROUNDS = 300_000  # about 0.1 s once per token here; as long for every offline guess


def _session_key(settings: Settings) -> bytes | None:
    """Derived from the token, so a new token signs every session out; None without one."""
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    return _stretched(token) if token else None


@lru_cache(maxsize=4)
def _stretched(token: str) -> bytes:
    """A slow derivation, made once per token: a leaked cookie (read access) must not let a
    weak token be guessed offline at a hash's speed, which would turn it into write access."""
    return hashlib.pbkdf2_hmac("sha256", token.encode(), _SESSION_CONTEXT, KEY_ROUNDS)


def _signature(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_session(settings: Settings, now: float | None = None) -> str | None:
    """`v1.<expiry>.<nonce>.<signature>`: never the token itself, and worthless once it
    expires or the token changes. None when no token is configured (no one can sign in)."""
    key = _session_key(settings)
    if key is None:
        return None
    expires = int((time.time() if now is None else now) + settings.session_hours * 3600)
    payload = f"{_VERSION}.{expires}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_signature(key, payload)}"


def check_session(settings: Settings, value: str | None, now: float | None = None) -> bool:
    """A cookie this server signed with the current token, not yet expired. An expiry
    further off than `session_hours` allows (the setting was lowered) is refused too."""
    key = _session_key(settings)
    if key is None or not value or len(value) > 200:
        return False
    payload, _, signature = value.rpartition(".")
    version, _, rest = payload.partition(".")
    expires_text = rest.partition(".")[0]
    if version != _VERSION or not expires_text.isdigit():
        return False
    if not hmac.compare_digest(signature.encode(), _signature(key, payload).encode()):
        return False
    now = time.time() if now is None else now
    return now < int(expires_text) <= now + settings.session_hours * 3600 + 60


def session_cookie(header: str | None) -> str | None:
    """The session value from a raw Cookie header, parsed as Starlette parses it."""
    if not header:
        return None
    return cookie_parser(header).get(SESSION_COOKIE)


def check_reader(settings: Settings, authorization: str | None, cookie: str | None) -> Verdict:
    """A read's verdict: a good bearer header or a good session cookie. Only for reads: a
    cookie is sent by the browser on its own, so it must never authorise a write (CSRF)."""
    verdict = check_bearer(settings, *split_authorization(authorization))
    if verdict is Verdict.ACCEPTED or verdict is Verdict.DISABLED:
        return verdict
    return Verdict.ACCEPTED if check_session(settings, cookie) else verdict


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server only (no open redirect), never
    /login itself; anything else goes to the front page."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return "/"
    if target.startswith("//") or "\\" in target or any(ord(c) < 0x21 for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path in ("/login", "/logout"):
        return "/"
    return target
