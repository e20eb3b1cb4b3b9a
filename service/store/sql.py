"""The store in portable SQL. A dialect subclass supplies connections, write locking and DDL.

Every write is one transaction: a batch is stored whole or not at all.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from exportcast.models.nowcast.flashes import Flash
from exportcast.models.references import Reference
from exportcast.models.series import Observation, format_month
from exportcast.models.validate import Problem, SeriesError, gap_problem, missing_months
from exportcast.service.store.base import (
    Conflict,
    FlashOutcome,
    HierarchyRecord,
    IngestOutcome,
    Job,
    NotFound,
    ReferenceOutcome,
    SeriesRecord,
    StoredFlash,
    StoredObservation,
    StoredReference,
    StoreUnavailable,
    VersionRecord,
    stamp,
    utc_now,
)

# The tables, with the few types that differ between dialects left as {placeholders}.
SCHEMA_TEMPLATE = (
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
        value {real} NOT NULL,
        recorded_at TEXT NOT NULL,
        superseded_at TEXT
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS observations_current
        ON observations (series_id, month) WHERE superseded_at IS NULL""",
    """CREATE INDEX IF NOT EXISTS observations_vintages ON observations (series_id, month)""",
    # Partial-month figures, kept with their vintages as observations are.
    """CREATE TABLE IF NOT EXISTS flashes (
        series_id TEXT NOT NULL REFERENCES series(id),
        month INTEGER NOT NULL,
        period TEXT NOT NULL,
        value {real} NOT NULL,
        recorded_at TEXT NOT NULL,
        superseded_at TEXT
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS flashes_current
        ON flashes (series_id, month, period) WHERE superseded_at IS NULL""",
    # Outside forecasts of annual totals (official outlooks), kept with their vintages.
    """CREATE TABLE IF NOT EXISTS outside_forecasts (
        series_id TEXT NOT NULL REFERENCES series(id),
        forecaster TEXT NOT NULL,
        published TEXT NOT NULL,
        year INTEGER NOT NULL,
        value {real} NOT NULL,
        source TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        superseded_at TEXT
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS outside_forecasts_current
        ON outside_forecasts (series_id, forecaster, published, year)
        WHERE superseded_at IS NULL""",
    # The backtest track record at every months-known, one row per series, with the digest
    # of the data it was made from.
    """CREATE TABLE IF NOT EXISTS backtest_tracks (
        series_id TEXT PRIMARY KEY REFERENCES series(id),
        data_key TEXT NOT NULL,
        points TEXT NOT NULL,
        made_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS jobs (
        id {identity},
        series_id TEXT NOT NULL REFERENCES series(id),
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        model_version INTEGER,
        error TEXT,
        heartbeat_at TEXT,
        worker TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before TEXT
    )""",
    """CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, series_id)""",
    # Facts about the store itself, such as whether it ever held a series.
    """CREATE TABLE IF NOT EXISTS store_facts (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS model_versions (
        series_id TEXT NOT NULL REFERENCES series(id),
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        data_through INTEGER NOT NULL,
        model TEXT NOT NULL,
        members TEXT NOT NULL,
        description TEXT NOT NULL,
        fit_seconds {real} NOT NULL,
        info TEXT NOT NULL,
        artifact {blob} NOT NULL,
        PRIMARY KEY (series_id, version)
    )""",
    # A total and its items, declared (`spec`: the nodes' series, targets).
    """CREATE TABLE IF NOT EXISTS hierarchies (
        id TEXT PRIMARY KEY,
        spec TEXT NOT NULL,
        created_at TEXT NOT NULL,
        problem TEXT
    )""",
    # What a hierarchy's nodes said, coherent, as computed from the data `basis` digests.
    """CREATE TABLE IF NOT EXISTS hierarchy_versions (
        hierarchy_id TEXT NOT NULL REFERENCES hierarchies(id),
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        data_through INTEGER NOT NULL,
        basis TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (hierarchy_id, version)
    )""",
)


def schema(real: str, blob: str, identity: str) -> tuple[str, ...]:
    return tuple(t.format(real=real, blob=blob, identity=identity) for t in SCHEMA_TEMPLATE)


# Columns added after a table was first created: (table, column, definition). A store
# made by an earlier release gets them on open; `CREATE TABLE IF NOT EXISTS` would not.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("jobs", "attempts", "attempts INTEGER NOT NULL DEFAULT 0"),
    ("jobs", "not_before", "not_before TEXT"),
    ("series", "country", "country TEXT"),
)


_JOB_COLUMNS = (
    "id, series_id, status, created_at, started_at, finished_at, model_version, error, attempts"
)
_VERSION_COLUMNS = (
    "series_id, version, created_at, data_through, model, members, description, fit_seconds, info"
)


class SqlStore:
    """Shared logic; subclasses define `_connect`, `_begin_write`, `schema` and `param`."""

    schema: Sequence[str] = ()
    param = "?"

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        with self._write() as cur:
            for statement in self.schema:
                cur.execute(statement)
            for table, column, definition in ADDED_COLUMNS:
                cur.execute(f"SELECT * FROM {table} WHERE 1 = 0")
                if column not in {d[0] for d in cur.description}:
                    cur.execute(f"ALTER TABLE {table} ADD COLUMN {definition}")
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

    def _sql(self, text: str) -> str:
        return text if self.param == "?" else text.replace("?", self.param)

    @contextmanager
    def _write(self) -> Iterator[Any]:
        self._guard(writing=True)
        conn = self._conn()
        cur = conn.cursor()
        try:
            self._begin_write(cur)
            yield _Cursor(cur, self._sql)
            self._guard(writing=True)  # never acknowledge a commit into a removed file
        except BaseException as exc:
            with suppress(Exception):
                conn.rollback()
            broken = self._unavailable(exc) if isinstance(exc, Exception) else None
            if broken is not None:
                raise broken from exc
            raise
        else:
            conn.commit()
        finally:
            cur.close()

    @contextmanager
    def _read(self) -> Iterator[Any]:
        self._guard(writing=False)
        conn = self._conn()
        cur = conn.cursor()
        try:
            yield _Cursor(cur, self._sql)
        except Exception as exc:
            broken = self._unavailable(exc)
            if broken is not None:
                raise broken from exc
            raise
        finally:
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

    # -- series -------------------------------------------------------------------------
    def create_series(
        self,
        id: str,
        name: str,
        unit: str,
        targets: Sequence[float] = (),
        country: str | None = None,
        max_series: int | None = None,
    ) -> SeriesRecord:
        with self._write() as cur:
            if max_series is not None:
                cur.execute("SELECT COUNT(*) FROM series")
                if cur.fetchone()[0] >= max_series:
                    raise Conflict(
                        f"the store holds {max_series} series, the most allowed "
                        "(EXPORTCAST_MAX_SERIES); delete one first"
                    )
            self._insert_series(cur, id, name, unit, targets, country)
        return self.get_series(id)

    def _insert_series(
        self,
        cur: Any,
        id: str,
        name: str,
        unit: str,
        targets: Sequence[float],
        country: str | None = None,
    ) -> None:
        cur.execute("SELECT 1 FROM series WHERE id = ?", (id,))
        if cur.fetchone():
            raise Conflict(f"series {id!r} exists already")
        cur.execute(
            "INSERT INTO series (id, name, unit, targets, created_at, country) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (id, name, unit, json.dumps([float(t) for t in targets]), stamp(utc_now()), country),
        )
        self._mark_held(cur)

    def _mark_held(self, cur: Any) -> bool:
        """Note that the store has held a series; whether it had before."""
        cur.execute("SELECT 1 FROM store_facts WHERE name = 'has_held_series'")
        if cur.fetchone() is not None:
            return True
        cur.execute(
            "INSERT INTO store_facts (name, value) VALUES ('has_held_series', ?)",
            (stamp(utc_now()),),
        )
        return False

    _SERIES_QUERY = """
        SELECT s.id, s.name, s.unit, s.targets, s.active_version,
               MIN(o.month), MAX(o.month), COUNT(o.month), s.country
        FROM series s
        LEFT JOIN observations o ON o.series_id = s.id AND o.superseded_at IS NULL
        {where}
        GROUP BY s.id, s.name, s.unit, s.targets, s.active_version, s.country
        ORDER BY s.id
    """

    @staticmethod
    def _series_record(row: Sequence[Any]) -> SeriesRecord:
        return SeriesRecord(
            id=row[0],
            name=row[1],
            unit=row[2],
            targets=tuple(json.loads(row[3])),
            active_version=row[4],
            first_month=row[5],
            last_month=row[6],
            n_observations=row[7],
            country=row[8],
        )

    def list_series(self, limit: int | None = None, after: str | None = None) -> list[SeriesRecord]:
        query = self._SERIES_QUERY.format(where="WHERE s.id > ?" if after is not None else "")
        params: list[Any] = [after] if after is not None else []
        if limit is not None:
            query += " LIMIT ?"
            params.append(limit)
        with self._read() as cur:
            cur.execute(query, tuple(params))
            return [self._series_record(r) for r in cur.fetchall()]

    def get_series(self, id: str) -> SeriesRecord:
        with self._read() as cur:
            cur.execute(self._SERIES_QUERY.format(where="WHERE s.id = ?"), (id,))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"no series {id!r}")
        return self._series_record(row)

    # -- observations -------------------------------------------------------------------
    def _vintage(
        self, table: str, columns: str, order: str, id: str, as_of: datetime | None
    ) -> list[tuple]:
        """A series' rows of a table kept with vintages: the current ones, or those known
        at `as_of` (recorded by then, not yet superseded then); NotFound for no series."""
        if as_of is None:
            where, params = "superseded_at IS NULL", (id,)
        else:
            moment = stamp(as_of)
            where = "recorded_at <= ? AND (superseded_at IS NULL OR superseded_at > ?)"
            params = (id, moment, moment)
        with self._read() as cur:
            cur.execute(
                f"SELECT {columns} FROM {table} WHERE series_id = ? AND {where} ORDER BY {order}",
                params,
            )
            rows = cur.fetchall()
        if not rows:
            self.get_series(id)  # NotFound for a series that does not exist
        return rows

    @staticmethod
    def _add_vintages(
        cur: Any,
        table: str,
        key_columns: tuple[str, ...],
        id: str,
        rows: Sequence[tuple[tuple, Any]],
        current: dict[tuple, Any],
        value_columns: tuple[str, ...] = ("value",),
    ) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """Store (key, value) rows as new vintages: a key not stored is added, a changed
        value closes the current row (`superseded_at`) and adds the new one, an unchanged
        one is left; the keys new, revised and unchanged. With several `value_columns`, a
        value is a tuple of them."""
        now = stamp(utc_now())
        match = " AND ".join(f"{c} = ?" for c in key_columns)
        names = ", ".join([*key_columns, *value_columns])
        marks = ", ".join("?" for _ in [*key_columns, *value_columns])
        new, revised, unchanged = [], [], []
        for key, value in rows:
            if current.get(key) == value:
                unchanged.append(key)
                continue
            if key in current:
                cur.execute(
                    f"UPDATE {table} SET superseded_at = ? "
                    f"WHERE series_id = ? AND {match} AND superseded_at IS NULL",
                    (now, id, *key),
                )
                revised.append(key)
            else:
                new.append(key)
            values = value if len(value_columns) > 1 else (value,)
            cur.execute(
                f"INSERT INTO {table} (series_id, {names}, recorded_at) VALUES (?, {marks}, ?)",
                (id, *key, *values, now),
            )
        return new, revised, unchanged

    def _series_exists(self, cur: Any, id: str) -> None:
        cur.execute("SELECT 1 FROM series WHERE id = ?", (id,))
        if cur.fetchone() is None:
            raise NotFound(f"no series {id!r}")

    def observations(self, id: str, as_of: datetime | None = None) -> list[StoredObservation]:
        rows = self._vintage("observations", "month, value, recorded_at", "month", id, as_of)
        return [StoredObservation(m, v, r) for m, v, r in rows]

    def ingest(
        self, id: str, batch: Sequence[Observation], queue_retrain: bool = True
    ) -> IngestOutcome:
        with self._write() as cur:
            self._series_exists(cur, id)
            return self._ingest(cur, id, batch, queue_retrain)

    def _ingest(
        self, cur: Any, id: str, batch: Sequence[Observation], queue_retrain: bool
    ) -> IngestOutcome:
        cur.execute(
            "SELECT month, value FROM observations WHERE series_id = ? AND superseded_at IS NULL",
            (id,),
        )
        current = {(m,): v for m, v in cur.fetchall()}
        gaps = missing_months([*(m for (m,) in current), *(o.month for o in batch)])
        if gaps:
            raise SeriesError([gap_problem(gaps)])
        rows = [((o.month,), o.value) for o in batch]
        changes = self._add_vintages(cur, "observations", ("month",), id, rows, current)
        new, revised, unchanged = ([key[0] for key in keys] for keys in changes)
        job_id = None
        if queue_retrain and (new or revised):
            job_id = self._queue(cur, id).id
        return IngestOutcome(len(batch), new, revised, unchanged, job_id)

    # -- flashes ------------------------------------------------------------------------
    def flashes(self, id: str, as_of: datetime | None = None) -> list[StoredFlash]:
        columns = "month, period, value, recorded_at"
        rows = self._vintage("flashes", columns, "month, period", id, as_of)
        return [StoredFlash(m, p, v, r) for m, p, v, r in rows]

    def ingest_flashes(
        self, id: str, batch: Sequence[Flash], queue_retrain: bool = True
    ) -> FlashOutcome:
        with self._write() as cur:
            self._series_exists(cur, id)
            return self._ingest_flashes(cur, id, batch, queue_retrain)

    def _ingest_flashes(
        self, cur: Any, id: str, batch: Sequence[Flash], queue_retrain: bool
    ) -> FlashOutcome:
        cur.execute(
            "SELECT MAX(month) FROM observations WHERE series_id = ? AND superseded_at IS NULL",
            (id,),
        )
        last = cur.fetchone()[0]
        cur.execute(
            "SELECT month, period, value FROM flashes "
            "WHERE series_id = ? AND superseded_at IS NULL",
            (id,),
        )
        current = {(m, p): v for m, p, v in cur.fetchall()}
        problems = []
        if last is None:
            problems.append(Problem("the series has no observations yet; flashes follow them"))
        else:
            for f in batch:
                if f.month > last + 1:
                    problems.append(
                        Problem(
                            f"flash for {format_month(f.month)} is past "
                            f"{format_month(last + 1)}, the month after the last published "
                            f"({format_month(last)})"
                        )
                    )
        after = {**current, **{(f.month, f.period): f.value for f in batch}}
        for f in batch:
            early, late = after.get((f.month, "d1_10")), after.get((f.month, "d1_20"))
            if early is not None and late is not None and late < early:
                problems.append(
                    Problem(
                        f"flash {format_month(f.month)}: d1_20 ({late:g}) would be below "
                        f"d1_10 ({early:g}); flashes are cumulative from the 1st"
                    )
                )
                break
        if problems:
            raise SeriesError(problems)
        rows = [((f.month, f.period), f.value) for f in batch]
        new, revised, unchanged = self._add_vintages(
            cur, "flashes", ("month", "period"), id, rows, current
        )
        job_id = None
        if queue_retrain and (new or revised):
            job_id = self._queue(cur, id).id
        return FlashOutcome(len(batch), new, revised, unchanged, job_id)

    # -- outside forecasts ---------------------------------------------------------------
    def references(self, id: str, as_of: datetime | None = None) -> list[StoredReference]:
        columns = "forecaster, published, year, value, source, recorded_at"
        rows = self._vintage("outside_forecasts", columns, "published, forecaster, year", id, as_of)
        return [
            StoredReference(Reference(date.fromisoformat(p), f, y, v, s), r)
            for f, p, y, v, s, r in rows
        ]

    def ingest_references(self, id: str, batch: Sequence[Reference]) -> ReferenceOutcome:
        with self._write() as cur:
            self._series_exists(cur, id)
            return self._ingest_references(cur, id, batch)

    def _ingest_references(self, cur: Any, id: str, batch: Sequence[Reference]) -> ReferenceOutcome:
        cur.execute(
            "SELECT forecaster, published, year, value, source FROM outside_forecasts "
            "WHERE series_id = ? AND superseded_at IS NULL",
            (id,),
        )
        current = {(f, p, y): (v, s) for f, p, y, v, s in cur.fetchall()}
        rows = [
            ((r.forecaster, r.published.isoformat(), r.year), (r.value, r.source)) for r in batch
        ]
        new, revised, unchanged = self._add_vintages(
            cur,
            "outside_forecasts",
            ("forecaster", "published", "year"),
            id,
            rows,
            current,
            ("value", "source"),
        )
        return ReferenceOutcome(len(batch), new, revised, unchanged)

    # -- backtest track record ------------------------------------------------------------
    def put_track(self, id: str, data_key: str, points: Sequence[dict]) -> None:
        with self._write() as cur:
            self._series_exists(cur, id)
            cur.execute("DELETE FROM backtest_tracks WHERE series_id = ?", (id,))
            cur.execute(
                "INSERT INTO backtest_tracks (series_id, data_key, points, made_at) "
                "VALUES (?, ?, ?, ?)",
                (id, data_key, json.dumps(list(points)), stamp(utc_now())),
            )

    def _track_row(self, id: str) -> tuple | None:
        with self._read() as cur:
            cur.execute("SELECT data_key, points FROM backtest_tracks WHERE series_id = ?", (id,))
            return cur.fetchone()

    def track(self, id: str) -> list[dict]:
        row = self._track_row(id)
        return [] if row is None else json.loads(row[1])

    def track_key(self, id: str) -> str | None:
        row = self._track_row(id)
        return None if row is None else row[0]

    # -- hierarchies ----------------------------------------------------------------------
    def put_hierarchy(self, record: HierarchyRecord) -> None:
        with self._write() as cur:
            self._put_hierarchy(cur, record)

    def _put_hierarchy(self, cur: Any, record: HierarchyRecord) -> None:
        for series_id in record.series_ids():
            self._series_exists(cur, series_id)
        spec = json.dumps(record.spec())
        cur.execute("SELECT spec FROM hierarchies WHERE id = ?", (record.id,))
        row = cur.fetchone()
        if row is None:
            cur.execute(
                "INSERT INTO hierarchies (id, spec, created_at) VALUES (?, ?, ?)",
                (record.id, spec, stamp(utc_now())),
            )
        elif row[0] != spec:
            # Its versions describe other nodes: none is served until the new one is made.
            cur.execute("DELETE FROM hierarchy_versions WHERE hierarchy_id = ?", (record.id,))
            cur.execute("UPDATE hierarchies SET spec = ? WHERE id = ?", (spec, record.id))

    def _hierarchy(self, row: Sequence[Any]) -> HierarchyRecord:
        id, spec, created_at, problem, version, data_through, basis = row
        record = HierarchyRecord.from_spec(
            id, json.loads(spec), created_at, version, data_through, basis
        )
        return replace(record, problem=problem)

    _HIERARCHY_QUERY = (
        "SELECT h.id, h.spec, h.created_at, h.problem, v.version, v.data_through, v.basis "
        "FROM hierarchies h LEFT JOIN hierarchy_versions v ON v.hierarchy_id = h.id "
        "AND v.version = (SELECT MAX(version) FROM hierarchy_versions w "
        "WHERE w.hierarchy_id = h.id)"
    )

    def hierarchies(self) -> list[HierarchyRecord]:
        with self._read() as cur:
            cur.execute(self._HIERARCHY_QUERY + " ORDER BY h.id")
            return [self._hierarchy(r) for r in cur.fetchall()]

    def get_hierarchy(self, id: str) -> HierarchyRecord:
        with self._read() as cur:
            cur.execute(self._HIERARCHY_QUERY + " WHERE h.id = ?", (id,))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"hierarchy {id!r} not found")
        return self._hierarchy(row)

    def add_hierarchy_version(
        self, id: str, basis: str, data_through: int, body: dict
    ) -> int | None:
        with self._write() as cur:
            cur.execute(
                "SELECT version, basis, data_through FROM hierarchy_versions "
                "WHERE hierarchy_id = ? ORDER BY version DESC LIMIT 1",
                (id,),
            )
            row = cur.fetchone()
            # The same data again, or older data (a slower worker finishing late): not stored.
            if row is not None and (row[1] == basis or data_through < int(row[2])):
                return None
            cur.execute("SELECT 1 FROM hierarchies WHERE id = ?", (id,))
            if cur.fetchone() is None:
                raise NotFound(f"hierarchy {id!r} not found")
            number = 1 if row is None else int(row[0]) + 1
            cur.execute("UPDATE hierarchies SET problem = NULL WHERE id = ?", (id,))
            cur.execute(
                "INSERT INTO hierarchy_versions "
                "(hierarchy_id, version, created_at, data_through, basis, body) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (id, number, stamp(utc_now()), data_through, basis, json.dumps(body)),
            )
            return number

    def hierarchy_failed(self, id: str, problem: str) -> None:
        with self._write() as cur:
            cur.execute("UPDATE hierarchies SET problem = ? WHERE id = ?", (problem[:2000], id))

    def hierarchy_body(self, id: str, version: int) -> tuple[str, dict]:
        with self._read() as cur:
            cur.execute(
                "SELECT created_at, body FROM hierarchy_versions "
                "WHERE hierarchy_id = ? AND version = ?",
                (id, version),
            )
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"hierarchy {id!r} has no version {version}")
        return row[0], json.loads(row[1])

    def busy_series(self) -> set[str]:
        with self._read() as cur:
            cur.execute("SELECT DISTINCT series_id FROM jobs WHERE status IN ('queued', 'running')")
            return {r[0] for r in cur.fetchall()}

    def _drop_hierarchies_of(self, cur: Any, series_id: str) -> None:
        cur.execute("SELECT id, spec FROM hierarchies")
        for id, spec in cur.fetchall():
            if series_id in HierarchyRecord.from_spec(id, json.loads(spec), "").series_ids():
                cur.execute("DELETE FROM hierarchy_versions WHERE hierarchy_id = ?", (id,))
                cur.execute("DELETE FROM hierarchies WHERE id = ?", (id,))

    def delete_series(self, id: str) -> None:
        with self._write() as cur:
            self._series_exists(cur, id)
            self._drop_hierarchies_of(cur, id)
            tables = ("observations", "flashes", "outside_forecasts", "backtest_tracks", "jobs")
            for table in (*tables, "model_versions"):
                cur.execute(f"DELETE FROM {table} WHERE series_id = ?", (id,))
            cur.execute("DELETE FROM series WHERE id = ?", (id,))

    def bootstrap(
        self,
        id: str,
        name: str,
        unit: str,
        targets: Sequence[float],
        batch: Sequence[Observation],
        country: str | None = None,
        flashes: Sequence[Flash] = (),
        references: Sequence[Reference] = (),
        members: Sequence[tuple[str, str, Sequence[Observation]]] = (),
        hierarchies: Sequence[HierarchyRecord] = (),
    ) -> bool:
        # Only a store that never held a series: one whose series were all deleted stays
        # empty across restarts.
        with self._write() as cur:
            cur.execute("SELECT COUNT(*) FROM series")
            holds = cur.fetchone()[0] > 0
            held = self._mark_held(cur)  # marks a store of an earlier release that holds some
            if holds or held:
                return False
            self._insert_series(cur, id, name, unit, targets, country)
            self._ingest(cur, id, batch, queue_retrain=True)
            if flashes:
                self._ingest_flashes(cur, id, flashes, queue_retrain=True)
            if references:
                self._ingest_references(cur, id, references)
            for member_id, member_name, member_batch in members:
                self._insert_series(cur, member_id, member_name, unit, (), country)
                self._ingest(cur, member_id, member_batch, queue_retrain=True)
            for hierarchy in hierarchies:
                self._put_hierarchy(cur, hierarchy)
            return True

    # -- jobs ---------------------------------------------------------------------------
    @staticmethod
    def _job(row: Sequence[Any]) -> Job:
        return Job(*row)

    def _queue(self, cur: Any, series_id: str) -> Job:
        # A queued job reads the data when it starts, so it covers every batch before it.
        cur.execute(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE series_id = ? AND status = 'queued'",
            (series_id,),
        )
        row = cur.fetchone()
        if row:
            return self._job(row)
        cur.execute(
            "INSERT INTO jobs (series_id, status, created_at) VALUES (?, 'queued', ?)",
            (series_id, stamp(utc_now())),
        )
        cur.execute(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE series_id = ? AND status = 'queued'",
            (series_id,),
        )
        return self._job(cur.fetchone())

    def claim_job(
        self,
        worker: str,
        lease_seconds: float,
        max_attempts: int = 3,
        backoff_seconds: float = 5.0,
    ) -> Job | None:
        # Every worker asks several times a second; a read answers the usual "nothing to
        # do" without taking the write lock.
        with self._read() as cur:
            cur.execute("SELECT 1 FROM jobs WHERE status IN ('queued', 'running') LIMIT 1")
            if cur.fetchone() is None:
                return None
        now = utc_now()
        with self._write() as cur:
            self._recover_abandoned(cur, now, lease_seconds, max_attempts, backoff_seconds)
            cur.execute(
                "SELECT id FROM jobs WHERE status = 'queued' "
                "AND (not_before IS NULL OR not_before <= ?) AND series_id NOT IN "
                "(SELECT series_id FROM jobs WHERE status = 'running') ORDER BY id LIMIT 1",
                (stamp(now),),
            )
            row = cur.fetchone()
            if row is None:
                return None
            cur.execute(
                "UPDATE jobs SET status = 'running', started_at = ?, heartbeat_at = ?, "
                "worker = ?, attempts = attempts + 1 WHERE id = ?",
                (stamp(now), stamp(now), worker, row[0]),
            )
            cur.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (row[0],))
            return self._job(cur.fetchone())

    def _recover_abandoned(
        self,
        cur: Any,
        now: datetime,
        lease_seconds: float,
        max_attempts: int,
        backoff_seconds: float,
    ) -> None:
        """Running jobs whose worker stopped heartbeating: queued again, or failed once
        they have been started `max_attempts` times. A series that already has a queued
        job (a later batch) keeps that one, which reads all the data when it starts."""
        cur.execute(
            "SELECT id, series_id, attempts FROM jobs WHERE status = 'running' "
            "AND heartbeat_at < ? ORDER BY id",
            (stamp(now - timedelta(seconds=lease_seconds)),),
        )
        for job_id, series_id, attempts in cur.fetchall():
            cur.execute(
                "SELECT id FROM jobs WHERE series_id = ? AND status = 'queued'", (series_id,)
            )
            queued = cur.fetchone()
            if attempts >= max_attempts or queued is not None:
                reason = (
                    f"the worker running it stopped responding; its data is in job {queued[0]}"
                    if queued is not None
                    else f"the worker running it stopped responding {attempts} times"
                )
                cur.execute(
                    "UPDATE jobs SET status = 'failed', finished_at = ?, error = ? WHERE id = ?",
                    (stamp(now), reason, job_id),
                )
                continue
            delay = backoff_seconds * 2 ** max(attempts - 1, 0)
            cur.execute(
                "UPDATE jobs SET status = 'queued', not_before = ?, worker = NULL, error = ? "
                "WHERE id = ?",
                (
                    stamp(now + timedelta(seconds=delay)),
                    f"the worker running it stopped responding; run again (attempt "
                    f"{attempts + 1} of {max_attempts})",
                    job_id,
                ),
            )

    def heartbeat(self, job_id: int) -> None:
        with self._write() as cur:
            cur.execute(
                "UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND status = 'running'",
                (stamp(utc_now()), job_id),
            )

    def finish_job(
        self, job_id: int, status: str, version: int | None = None, error: str | None = None
    ) -> Job:
        with self._write() as cur:
            cur.execute(
                "UPDATE jobs SET status = ?, finished_at = ?, model_version = ?, error = ? "
                "WHERE id = ?",
                (status, stamp(utc_now()), version, error, job_id),
            )
        return self.get_job(job_id)

    def get_job(self, job_id: int) -> Job:
        with self._read() as cur:
            cur.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"no job {job_id}")
        return self._job(row)

    # -- model versions -----------------------------------------------------------------
    def add_version(self, record: VersionRecord, artifact: bytes, activate: bool) -> int:
        with self._write() as cur:
            cur.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE series_id = ?",
                (record.series_id,),
            )
            version = int(cur.fetchone()[0])
            cur.execute(
                f"INSERT INTO model_versions ({_VERSION_COLUMNS}, artifact) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.series_id,
                    version,
                    record.created_at,
                    record.data_through,
                    record.model,
                    json.dumps(list(record.members)),
                    record.description,
                    record.fit_seconds,
                    json.dumps(record.info),
                    self._blob(artifact),
                ),
            )
            if activate:
                cur.execute(
                    "UPDATE series SET active_version = ? WHERE id = ?",
                    (version, record.series_id),
                )
            return version

    def activate(self, series_id: str, version: int) -> None:
        with self._write() as cur:
            cur.execute(
                "SELECT 1 FROM model_versions WHERE series_id = ? AND version = ?",
                (series_id, version),
            )
            if cur.fetchone() is None:
                raise NotFound(f"series {series_id!r} has no model version {version}")
            cur.execute("UPDATE series SET active_version = ? WHERE id = ?", (version, series_id))

    @staticmethod
    def _version_record(r: Sequence[Any]) -> VersionRecord:
        return VersionRecord(
            series_id=r[0],
            version=r[1],
            created_at=r[2],
            data_through=r[3],
            model=r[4],
            members=tuple(json.loads(r[5])),
            description=r[6],
            fit_seconds=r[7],
            info=json.loads(r[8]),
        )

    def versions(self, series_id: str) -> list[VersionRecord]:
        with self._read() as cur:
            cur.execute(
                f"SELECT {_VERSION_COLUMNS} FROM model_versions WHERE series_id = ? "
                "ORDER BY version",
                (series_id,),
            )
            records = [self._version_record(r) for r in cur.fetchall()]
        if not records:
            self.get_series(series_id)  # NotFound for a series that does not exist
        return records

    def version(self, series_id: str, version: int) -> VersionRecord:
        with self._read() as cur:
            cur.execute(
                f"SELECT {_VERSION_COLUMNS} FROM model_versions "
                "WHERE series_id = ? AND version = ?",
                (series_id, version),
            )
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"series {series_id!r} has no model version {version}")
        return self._version_record(row)

    def artifact(self, series_id: str, version: int) -> bytes:
        with self._read() as cur:
            cur.execute(
                "SELECT artifact FROM model_versions WHERE series_id = ? AND version = ?",
                (series_id, version),
            )
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"series {series_id!r} has no model version {version}")
        return bytes(row[0])

    def active_versions(self) -> dict[str, int | None]:
        with self._read() as cur:
            cur.execute("SELECT id, active_version FROM series ORDER BY id")
            return dict(cur.fetchall())


class _Cursor:
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
    def description(self) -> Any:
        return self._cur.description
