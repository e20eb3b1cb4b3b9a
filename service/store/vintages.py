"""Observations, flashes and outside forecasts, kept with every vintage: a revision closes
the current row (`superseded_at`) and adds a new one, so any past vintage reads back with
`as_of`. And the backtest track record made from them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from exportcast.models.nowcast.flashes import Flash
from exportcast.models.references import Reference
from exportcast.models.series import Observation, format_month
from exportcast.models.validate import Problem, SeriesError, gap_problem, missing_months
from exportcast.service.store.base import (
    FlashOutcome,
    IngestOutcome,
    ReferenceOutcome,
    StoredFlash,
    StoredObservation,
    StoredReference,
    stamp,
    utc_now,
)
from exportcast.service.store.transactions import SqlBase


class VintageTables(SqlBase):
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
                self._series_exists(cur, id)
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
        at: datetime | None = None,
    ) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """Store (key, value) rows as new vintages: a key not stored is added, a changed
        value closes the current row (`superseded_at`) and adds the new one, an unchanged
        one is left; the keys new, revised and unchanged. With several `value_columns`, a
        value is a tuple of them. `at` is when they were published (a replayed release);
        now when not given."""
        now = stamp(at or utc_now())
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
        self,
        cur: Any,
        id: str,
        batch: Sequence[Observation],
        queue_retrain: bool,
        at: datetime | None = None,
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
        changes = self._add_vintages(cur, "observations", ("month",), id, rows, current, at=at)
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
        self,
        cur: Any,
        id: str,
        batch: Sequence[Flash],
        queue_retrain: bool,
        at: datetime | None = None,
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
            cur, "flashes", ("month", "period"), id, rows, current, at=at
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
