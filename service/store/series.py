"""Series: created, listed a page at a time, deleted with everything of theirs, and the
bundled data loaded into an empty store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from exportcast.models.markets.destinations import DestinationRow
from exportcast.models.nowcast.flashes import Flash
from exportcast.models.references import Reference
from exportcast.models.releases import Release, first_month
from exportcast.models.series import Observation
from exportcast.service.store.base import (
    Conflict,
    HierarchyRecord,
    NotFound,
    SeriesRecord,
    stamp,
    utc_now,
)
from exportcast.service.store.transactions import SqlBase


def start_of(day: date) -> datetime:
    """Midnight UTC of a release's day: when it is recorded as known."""
    return datetime.combine(day, time(), UTC)


class SeriesTables(SqlBase):
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

    # The page of series is chosen first, then only its observations are read: a page
    # costs the same with ten series in the store or ten thousand.
    _SERIES_QUERY = """
        SELECT s.id, s.name, s.unit, s.targets, s.active_version,
               MIN(o.month), MAX(o.month), COUNT(o.month), s.country
        FROM (SELECT * FROM series {where} ORDER BY id {limit}) s
        LEFT JOIN observations o ON o.series_id = s.id AND o.superseded_at IS NULL
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
        params: list[Any] = [after] if after is not None else []
        if limit is not None:
            params.append(limit)
        query = self._SERIES_QUERY.format(
            where="WHERE id > ?" if after is not None else "",
            limit="LIMIT ?" if limit is not None else "",
        )
        with self._read() as cur:
            cur.execute(query, tuple(params))
            return [self._series_record(r) for r in cur.fetchall()]

    def get_series(self, id: str) -> SeriesRecord:
        with self._read() as cur:
            cur.execute(self._SERIES_QUERY.format(where="WHERE id = ?", limit=""), (id,))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"no series {id!r}")
        return self._series_record(row)

    def series_names(self, limit: int, after: str | None = None) -> list[tuple[str, str]]:
        where, params = ("WHERE id > ?", [after]) if after is not None else ("", [])
        with self._read() as cur:
            cur.execute(
                f"SELECT id, name FROM series {where} ORDER BY id LIMIT ?", (*params, limit)
            )
            return [(r[0], r[1]) for r in cur.fetchall()]

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
            tables = (
                "observations",
                "flashes",
                "outside_forecasts",
                "destinations",
                "backtest_tracks",
                "jobs",
            )
            for table in (*tables, "version_points", "model_versions"):
                cur.execute(f"DELETE FROM {table} WHERE series_id = ?", (id,))
            cur.execute("DELETE FROM series WHERE id = ?", (id,))

    def _replay(
        self,
        cur: Any,
        id: str,
        batch: Sequence[Observation],
        flashes: Sequence[Flash],
        releases: Sequence[Release],
    ) -> None:
        """The releases in date order, each stored as of its day; what comes before the
        first month they cover as of the first release (queueing the first retrain). The
        latest figures are then stored over them (as unchanged, when the releases end
        where the batch does)."""
        first = first_month(releases)
        if first is None:
            return
        base_at = start_of(releases[0].as_of)
        self._ingest(cur, id, [o for o in batch if o.month < first], True, base_at)
        early = [f for f in flashes if f.month < first]
        if early:
            self._ingest_flashes(cur, id, early, False, base_at)
        for release in releases:
            if release.observations:
                self._ingest(cur, id, release.observations, False, start_of(release.as_of))
            if release.flashes:
                self._ingest_flashes(cur, id, release.flashes, False, start_of(release.as_of))

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
        releases: Sequence[Release] = (),
        destinations: Sequence[DestinationRow] = (),
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
            self._replay(cur, id, batch, flashes, releases)
            self._ingest(cur, id, batch, queue_retrain=True)
            if flashes:
                self._ingest_flashes(cur, id, flashes, queue_retrain=True)
            if references:
                self._ingest_references(cur, id, references)
            if destinations:
                self._ingest_destinations(cur, id, destinations)
            for member_id, member_name, member_batch in members:
                self._insert_series(cur, member_id, member_name, unit, (), country)
                self._ingest(cur, member_id, member_batch, queue_retrain=True)
            for hierarchy in hierarchies:
                self._put_hierarchy(cur, hierarchy)
            return True
