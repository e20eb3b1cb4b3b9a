"""SQLite, the embedded default: one file in the data directory, WAL so readers never wait
for the writer, `BEGIN IMMEDIATE` so two writers never interleave a transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from exportcast.service.store.sql import SqlStore, schema

SCHEMA = schema(real="REAL", blob="BLOB", identity="INTEGER PRIMARY KEY AUTOINCREMENT")


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
