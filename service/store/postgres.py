"""PostgreSQL, for several service instances behind a load balancer.

The same SQL as SQLite (`service.store.sql`). Writers are serialised with a transaction-
scoped advisory lock, the counterpart of SQLite's `BEGIN IMMEDIATE`: a batch's gap check and
its inserts, or a job claim, never interleave with another writer's.
"""

from __future__ import annotations

from typing import Any

from exportcast.service.store.base import StoreUnavailable
from exportcast.service.store.migrations import POSTGRES
from exportcast.service.store.redact import redacted
from exportcast.service.store.sql import SqlStore

WRITE_LOCK = 7_345_021  # any constant shared by every instance of this service


class PostgresStore(SqlStore):
    dialect = POSTGRES
    param = "%s"

    def __init__(self, url: str):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise RuntimeError(
                "a PostgreSQL URL needs psycopg: pip install 'exportcast[postgres]'"
            ) from None
        self.url = url
        super().__init__()

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=False)

    def _begin_write(self, cur: Any) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))

    def _unavailable(self, exc: Exception) -> StoreUnavailable | None:
        """A lost or refused connection is the database being unavailable (503), not a
        fault of the request; the connection is dropped, so the next call reconnects."""
        import psycopg

        if not isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
            return None
        self._forget_connection()

        return StoreUnavailable(f"the database cannot be used: {redacted(str(exc))}")
