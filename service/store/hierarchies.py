"""Declared hierarchies (a total over its items) and the coherent versions computed for them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from exportcast.service.store.base import HierarchyRecord, NotFound, stamp, utc_now
from exportcast.service.store.transactions import SqlBase


class HierarchyTables(SqlBase):
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
        self, id: str, basis: str, data_through: int, body: dict, spec: dict | None = None
    ) -> int | None:
        with self._write() as cur:
            if spec is not None:  # made for a declaration changed since: its nodes are old
                cur.execute("SELECT spec FROM hierarchies WHERE id = ?", (id,))
                declared = cur.fetchone()
                if declared is not None and json.loads(declared[0]) != spec:
                    return None
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
