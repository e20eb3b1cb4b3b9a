"""Storage behind a small interface; SQLite is the embedded default."""

from __future__ import annotations

from pathlib import Path

from service.store.base import (
    Conflict,
    IngestOutcome,
    Job,
    NotFound,
    SeriesRecord,
    Store,
    StoredObservation,
    VersionRecord,
)

__all__ = [
    "Conflict",
    "IngestOutcome",
    "Job",
    "NotFound",
    "SeriesRecord",
    "Store",
    "StoredObservation",
    "VersionRecord",
    "open_store",
]


def open_store(url: str) -> Store:
    """`sqlite:///relative/file.db`, `sqlite:////absolute/file.db`, or a PostgreSQL URL."""
    if url.startswith("sqlite:///"):
        from service.store.sqlite import SQLiteStore

        return SQLiteStore(Path(url.removeprefix("sqlite:///")))
    if url.startswith(("postgresql://", "postgres://")):
        from service.store.postgres import PostgresStore

        return PostgresStore(url)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://...")
