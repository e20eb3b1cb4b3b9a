"""SQLite, the embedded default: one file in the data directory, WAL so readers never wait
for the writer, `BEGIN IMMEDIATE` so two writers never interleave a transaction.

The file is watched: removed, replaced by another file, made read-only or corrupt, the
store says so (StoreUnavailable, answered 503) instead of writing into a deleted inode or
making a new empty database under the service. A marker beside it (`FILE.id`, the store's
id) remembers that the file held a store, so a lost file is never silently replaced by an
empty one (nor filled again with the bundled data).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from exportcast.service.store.base import StoreUnavailable
from exportcast.service.store.migrations import SQLITE
from exportcast.service.store.sql import SqlStore

DEEP_CHECK_SECONDS = 30.0  # how often readiness runs SQLite's quick_check
# What SQLite says when the file itself is the problem.
BROKEN = (
    "malformed",
    "not a database",
    "disk i/o error",
    "readonly database",
    "no such table",
    "unable to open",
    "database or disk is full",
)


def backup(source: Path, target: Path) -> None:
    """A consistent copy of the store while it runs (SQLite's online backup), read
    through a read-only connection, so a store frozen read-only can still be copied. A
    copy that fails is removed, never left half written."""
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        writer = sqlite3.connect(str(target))
        try:
            reader.backup(writer)
        finally:
            writer.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        reader.close()


def marker_of(path: Path) -> Path:
    return path.with_name(path.name + ".id")


class SQLiteStore(SqlStore):
    dialect = SQLITE

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.memory = str(path) == ":memory:"
        self._opened: tuple[int, int] | None = None
        self._checked: tuple[float, str | None] = (-1e9, None)
        if not self.memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            marker = marker_of(self.path)
            lost = not self.path.exists() or self.path.stat().st_size == 0
            if lost and marker.exists():
                raise StoreUnavailable(
                    f"the store {self.path} is missing or empty, but {marker.name} says it held "
                    f"store {marker.read_text().strip()}: restore it from a backup (README, "
                    f"Backups), or delete {marker} to start an empty store"
                )
        super().__init__()
        if self.memory:
            return
        stat = self.path.stat()
        self._opened = (stat.st_dev, stat.st_ino)
        marker = marker_of(self.path)
        if not marker.exists():
            # A name of this process's own: processes opening the store at once (workers
            # of one server, a CLI beside it) each write the same id, and one rename wins.
            temporary = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")
            temporary.write_text(self.store_id + "\n")
            os.replace(temporary, marker)
        elif marker.read_text().strip() != self.store_id:
            self.close()
            raise StoreUnavailable(
                f"{self.path} holds store {self.store_id}, but {marker.name} says "
                f"{marker.read_text().strip()}: another store's file was put in its place; "
                f"delete {marker} to accept it"
            )

    def _connect(self) -> Any:
        conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return _Autocommit(conn)

    def _begin_write(self, cur: Any) -> None:
        cur.execute("BEGIN IMMEDIATE")

    def _guard(self, writing: bool) -> None:
        if self._opened is None:  # opening, or in memory
            return
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise StoreUnavailable(
                f"the store file {self.path} was removed while running"
            ) from None
        if (stat.st_dev, stat.st_ino) != self._opened:
            raise StoreUnavailable(f"the store file {self.path} was replaced while running")
        # Mode bits, not os.access: a service running as root may write any file, but a
        # file made read-only (or a file system mounted so) is an operator saying stop.
        if writing and (
            not stat.st_mode & 0o222 or os.statvfs(self.path.parent).f_flag & os.ST_RDONLY
        ):
            raise StoreUnavailable(f"the store file {self.path} is read-only")

    def _deep_check(self) -> str | None:
        """One quick_check at a time: it reads the whole file, and readiness probes arriving
        together while one runs take the last result instead of each starting another."""
        at, found = self._checked
        if time.monotonic() - at < DEEP_CHECK_SECONDS:
            return found
        # Made on first use; dict.setdefault is atomic, so every thread gets the same lock.
        lock = self.__dict__.setdefault("_deep_check_lock", threading.Lock())
        if not lock.acquire(blocking=False):
            return self._checked[1]
        try:
            at, found = self._checked
            now = time.monotonic()
            if now - at < DEEP_CHECK_SECONDS:  # another thread has just finished one
                return found
            with self._read() as cur:
                cur.execute("PRAGMA quick_check")
                rows = [str(r[0]) for r in cur.fetchall()]
            found = None if rows == ["ok"] else f"the store is corrupt: {'; '.join(rows[:3])}"
            self._checked = (now, found)
            return found
        finally:
            lock.release()

    def _unavailable(self, exc: Exception) -> StoreUnavailable | None:
        """Only errors that say the file is broken or gone: a bug in a statement ("no such
        column") stays an error of the code, not an outage of the store."""
        if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, sqlite3.IntegrityError):
            return None
        message = str(exc).lower()
        if not any(sign in message for sign in BROKEN):
            return None
        return StoreUnavailable(f"the store {self.path} cannot be used: {exc}")


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
