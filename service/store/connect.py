"""A store from a URL. psycopg is imported only when a PostgreSQL URL is given, so a SQLite
deployment never needs it."""

from __future__ import annotations

from pathlib import Path

from exportcast.service.store.base import Store
from exportcast.service.store.postgres import PostgresStore
from exportcast.service.store.sqlite import SQLiteStore


def open_store(url: str) -> Store:
    """`sqlite:///relative/file.db`, `sqlite:////absolute/file.db`, or a PostgreSQL URL."""
    if url.startswith("sqlite:///"):
        return SQLiteStore(Path(url.removeprefix("sqlite:///")))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://...")
