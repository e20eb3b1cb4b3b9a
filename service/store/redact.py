"""Database URLs and messages quoting them, with their passwords hidden, for errors and logs."""

from __future__ import annotations

import re

# `scheme://user:PASSWORD@` in a URL, up to the last @ of the word (a password may hold @).
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/:@]*:)\S*@")
# `password=...` as a URL parameter or a libpq keyword, quoted or not.
_KEYWORD_PASSWORD = re.compile(r"(?i)\b(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&#']+)")


def redacted(text: str) -> str:
    """`text` (a database URL, or a message quoting one) with any password shown as ***,
    for errors and logs: `postgresql://app:***@db/x`."""
    text = _URL_PASSWORD.sub(r"\1***@", text)
    return _KEYWORD_PASSWORD.sub(r"\1***", text)
