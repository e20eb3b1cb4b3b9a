"""SQLite, the embedded default: one file in the data directory, WAL so readers never wait
for the writer, `BEGIN IMMEDIATE` so two writers never interleave a transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from service.store.sql import SqlStore

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS series (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        unit TEXT NOT NULL,
        targets TEXT NOT NULL DEFAULT '[]',
        active_version INTEGER,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS observations (
        series_id TEXT NOT NULL REFERENCES series(id),
        month INTEGER NOT NULL,
        value REAL NOT NULL,
        recorded_at TEXT NOT NULL,
        superseded_at TEXT
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS observations_current
        ON observations (series_id, month) WHERE superseded_at IS NULL""",
    """CREATE INDEX IF NOT EXISTS observations_vintages ON observations (series_id, month)""",
    """CREATE TABLE IF NOT EXISTS jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        series_id TEXT NOT NULL REFERENCES series(id),
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        model_version INTEGER,
        error TEXT,
        heartbeat_at TEXT,
        worker TEXT
    )""",
    """CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, series_id)""",
    """CREATE TABLE IF NOT EXISTS model_versions (
        series_id TEXT NOT NULL REFERENCES series(id),
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        data_through INTEGER NOT NULL,
        model TEXT NOT NULL,
        members TEXT NOT NULL,
        description TEXT NOT NULL,
        fit_seconds REAL NOT NULL,
        info TEXT NOT NULL,
        artifact BLOB NOT NULL,
        PRIMARY KEY (series_id, version)
    )""",
)


class SQLiteStore(SqlStore):
    schema = SCHEMA

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__()

    def _connect(self) -> Any:
        conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return _Autocommit(conn)

    def _begin_write(self, cur: Any) -> None:
        cur.execute("BEGIN IMMEDIATE")


class _Autocommit:
    """sqlite3 in autocommit mode with explicit BEGIN; commit/rollback only when in one."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def cursor(self) -> sqlite3.Cursor:
        return self._conn.cursor()

    def commit(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        self._conn.close()
