"""Model versions: the record, the paths' bytes, and each version's points on every year."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from exportcast.service.store.base import (
    Lease,
    NotFound,
    VersionPoints,
    VersionRecord,
    YearPoint,
)
from exportcast.service.store.jobs import JobTables
from exportcast.service.store.migrations import insert_point

_VERSION_COLUMNS = (
    "series_id, version, created_at, data_through, model, members, description, fit_seconds, "
    "learned, n_paths, horizon, moves IS NOT NULL"
)


_INSERTED = _VERSION_COLUMNS.removesuffix(", moves IS NOT NULL")


class VersionTables(JobTables):
    """A version is written under its job's lease, so these tables build on the jobs'."""

    def add_version(
        self,
        record: VersionRecord,
        artifact: bytes,
        points: VersionPoints,
        serve: bool,
        lease: Lease | None = None,
    ) -> int:
        with self._write() as cur:
            if lease is not None:
                self._holds(cur, lease)  # a run that lost its job stores nothing
            cur.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE series_id = ?",
                (record.series_id,),
            )
            version = int(cur.fetchone()[0])
            cur.execute(
                f"INSERT INTO model_versions ({_INSERTED}, info, artifact, moves) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?)",
                (
                    record.series_id,
                    version,
                    record.created_at,
                    record.data_through,
                    record.model,
                    json.dumps(list(record.members)),
                    record.description,
                    record.fit_seconds,
                    json.dumps(record.learned),
                    record.n_paths,
                    record.horizon,
                    self._blob(artifact),
                    None if points.moves is None else json.dumps(points.moves),
                ),
            )
            for point in points.projections:
                insert_point(cur, record.series_id, version, "live", "", point)
            for point in points.backtest:
                insert_point(
                    cur, record.series_id, version, "backtest", point["data_through"], point
                )
            if serve:
                cur.execute(
                    "UPDATE series SET active_version = ? WHERE id = ?",
                    (version, record.series_id),
                )
            return version

    def serve_version(self, series_id: str, version: int) -> None:
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
            learned=json.loads(r[8]),
            n_paths=r[9],
            horizon=r[10],
            has_moves=bool(r[11]),
        )

    def versions(
        self, series_id: str, limit: int | None = None, before: int | None = None
    ) -> list[VersionRecord]:
        query = f"SELECT {_VERSION_COLUMNS} FROM model_versions WHERE series_id = ?"
        params: list[Any] = [series_id]
        if before is not None:
            query += " AND version < ?"
            params.append(before)
        query += " ORDER BY version DESC"
        if limit is not None:
            query += " LIMIT ?"
            params.append(limit)
        with self._read() as cur:
            cur.execute(query, params)
            records = [self._version_record(r) for r in cur.fetchall()]
            if not records:
                self._series_exists(cur, series_id)
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

    def artifact(self, series_id: str, version: int, created_at: str | None = None) -> bytes:
        query = "SELECT artifact FROM model_versions WHERE series_id = ? AND version = ?"
        params: list[Any] = [series_id, version]
        if created_at is not None:  # that version, not another numbered the same since
            query += " AND created_at = ?"
            params.append(created_at)
        with self._read() as cur:
            cur.execute(query, params)
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"series {series_id!r} has no model version {version}")
        return bytes(row[0])

    def year_points(self, series_id: str, year: int) -> list[YearPoint]:
        with self._read() as cur:
            cur.execute(
                "SELECT p.version, v.created_at, v.data_through, p.source, p.body "
                "FROM version_points p JOIN model_versions v "
                "ON v.series_id = p.series_id AND v.version = p.version "
                "WHERE p.series_id = ? AND p.year = ? ORDER BY p.version, p.source, p.data_through",
                (series_id, year),
            )
            return [YearPoint(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in cur.fetchall()]

    def moves(self, series_id: str, version: int) -> dict | None:
        with self._read() as cur:
            cur.execute(
                "SELECT moves FROM model_versions WHERE series_id = ? AND version = ?",
                (series_id, version),
            )
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"series {series_id!r} has no model version {version}")
        return None if row[0] is None else json.loads(row[0])

    def projection(self, series_id: str, version: int, year: int) -> dict | None:
        with self._read() as cur:
            cur.execute(
                "SELECT body FROM version_points WHERE series_id = ? AND version = ? "
                "AND year = ? AND source = 'live'",
                (series_id, version, year),
            )
            row = cur.fetchone()
        return None if row is None else json.loads(row[0])

    def active_versions(self) -> dict[str, int | None]:
        with self._read() as cur:
            cur.execute("SELECT id, active_version FROM series ORDER BY id")
            return dict(cur.fetchall())

    def served_stamps(self) -> dict[str, tuple[int, str] | None]:
        with self._read() as cur:
            cur.execute(
                "SELECT s.id, s.active_version, v.created_at FROM series s "
                "LEFT JOIN model_versions v ON v.series_id = s.id AND v.version = s.active_version "
                "ORDER BY s.id"
            )
            return {r[0]: None if r[1] is None else (int(r[1]), r[2]) for r in cur.fetchall()}

    def served_stamp(self, series_id: str) -> tuple[int, str] | None:
        with self._read() as cur:
            cur.execute(
                "SELECT s.active_version, v.created_at FROM series s "
                "LEFT JOIN model_versions v ON v.series_id = s.id AND v.version = s.active_version "
                "WHERE s.id = ?",
                (series_id,),
            )
            row = cur.fetchone()
        return None if row is None or row[0] is None else (int(row[0]), row[1])
