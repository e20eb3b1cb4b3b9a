"""Connections and transactions, shared by the store's tables. A dialect subclass
supplies connections, write locking and column types.

Every write is one transaction: a batch is stored whole or not at all. Opening a store
applies the schema migrations it lacks (`migrations`) in the first write transaction.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from exportcast.service.store.base import NotFound, StoreUnavailable, stamp, utc_now
from exportcast.service.store.migrations import SQLITE, Dialect, migrate


class SqlBase:
    """Connections (one per thread), transactions and the dialect hooks the tables share."""

    dialect: Dialect = SQLITE
    param = "?"

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        with self._write() as cur:
            self.migrated = migrate(cur, self.dialect, stamp(utc_now()))
            self.store_id = self._identity(cur)

    def _identity(self, cur: Any) -> str:
        """The store's own id, made once when it is created: a store replaced by another
        (or emptied and made again) has a different one."""
        cur.execute("SELECT value FROM store_facts WHERE name = 'store_id'")
        row = cur.fetchone()
        if row is not None:
            return str(row[0])
        made = uuid.uuid4().hex
        cur.execute("INSERT INTO store_facts (name, value) VALUES ('store_id', ?)", (made,))
        return made

    def schema_version(self) -> int:
        with self._read() as cur:
            cur.execute("SELECT MAX(number) FROM schema_migrations")
            return int(cur.fetchone()[0])

    def check(self) -> str | None:
        try:
            self._guard(writing=True)
            with self._read() as cur:
                cur.execute("SELECT value FROM store_facts WHERE name = 'store_id'")
                row = cur.fetchone()
            if row is None or str(row[0]) != self.store_id:
                return f"the store was replaced while running (its id is not {self.store_id})"
            return self._deep_check()
        except StoreUnavailable as exc:
            return str(exc)
        except Exception as exc:
            return f"store unreachable: {exc}"

    def _guard(self, writing: bool) -> None:
        """Raise StoreUnavailable when the store must not be used (a dialect's cheap checks)."""

    def _deep_check(self) -> str | None:
        """A slower integrity check for readiness; None when the store is sound."""
        return None

    def _unavailable(self, exc: Exception) -> StoreUnavailable | None:
        """The database's error as StoreUnavailable when it means the store is broken."""
        return None

    def _series_exists(self, cur: Any, id: str) -> None:
        cur.execute("SELECT 1 FROM series WHERE id = ?", (id,))
        if cur.fetchone() is None:
            raise NotFound(f"no series {id!r}")

    # -- dialect hooks ------------------------------------------------------------------
    def _connect(self) -> Any:
        raise NotImplementedError

    def _begin_write(self, cur: Any) -> None:
        raise NotImplementedError

    def _blob(self, data: bytes) -> Any:
        return data

    # -- plumbing -----------------------------------------------------------------------
    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _forget_connection(self) -> None:
        """Close and drop this thread's connection (it broke): the next call opens a new
        one, and the closed one is not kept until the store closes."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is None:
            return
        with suppress(Exception):
            conn.close()
        with self._lock, suppress(ValueError):
            self._all.remove(conn)

    def open_connections(self) -> int:
        with self._lock:
            return len(self._all)

    def _sql(self, text: str) -> str:
        return text if self.param == "?" else text.replace("?", self.param)

    @contextmanager
    def _outage_as_unavailable(self) -> Iterator[None]:
        """The database's errors that mean the store is broken or gone, raised as
        StoreUnavailable (a 503); any other error as it is."""
        try:
            yield
        except Exception as exc:
            broken = self._unavailable(exc)
            if broken is not None:
                raise broken from exc
            raise

    @contextmanager
    def _write(self) -> Iterator[Cursor]:
        self._guard(writing=True)
        conn = self._conn()
        cur = conn.cursor()
        try:
            with self._outage_as_unavailable():
                try:
                    self._begin_write(cur)
                    yield Cursor(cur, self._sql)
                    self._guard(writing=True)  # never acknowledge a commit into a removed file
                except BaseException:
                    with suppress(Exception):
                        conn.rollback()
                    raise
                conn.commit()  # a connection lost at the commit is an outage too
        finally:
            with suppress(Exception):
                cur.close()

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        self._guard(writing=False)
        conn = self._conn()
        cur = conn.cursor()
        try:
            with self._outage_as_unavailable():
                yield Cursor(cur, self._sql)
        finally:
            with suppress(Exception):
                cur.close()
            with suppress(Exception):
                conn.rollback()  # end the read snapshot; nothing was written

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                with suppress(Exception):
                    conn.close()
            self._all.clear()
        self._local = threading.local()


class Cursor:
    """A cursor that rewrites `?` placeholders for the dialect."""

    def __init__(self, cur: Any, sql: Any):
        self._cur = cur
        self._sql = sql

    def execute(self, text: str, params: Sequence[Any] = ()) -> None:
        self._cur.execute(self._sql(text), tuple(params))

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    @property
    def description(self) -> Any:
        return self._cur.description
