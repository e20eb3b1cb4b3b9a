"""A store from a URL. psycopg is imported only when a PostgreSQL URL is given, so a SQLite
deployment never needs it."""

from __future__ import annotations

from pathlib import Path

from exportcast.service.store.base import Store
from exportcast.service.store.postgres import PostgresStore
from exportcast.service.store.redact import redacted
from exportcast.service.store.sqlite import SQLiteStore


def open_store(url: str) -> Store:
    """`sqlite:///relative/file.db`, `sqlite:////absolute/file.db`, or a PostgreSQL URL."""
    if url.startswith("sqlite:///"):
        return SQLiteStore(Path(url.removeprefix("sqlite:///")))
    if url.startswith(("postgresql://", "postgres://")):
        try:
            return PostgresStore(url)
        except Exception as exc:
            # psycopg quotes a URL it cannot parse, password and all; the traceback of
            # a failed start must not carry it.
            message = str(exc)
            if redacted(message) == message:
                raise
            raise ValueError(f"cannot open the database: {redacted(message).strip()}") from None
    raise ValueError(
        f"unsupported database URL {redacted(url)!r}: use sqlite:///FILE or postgresql://..."
    )
