"""Exports by destination, kept with every vintage as observations are: a revised row closes
the current one and adds the new, so markets can be read as of any past day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from exportcast.models.markets.destinations import DestinationRow
from exportcast.service.store.base import DestinationOutcome, StoredDestination
from exportcast.service.store.vintages import VintageTables


class DestinationTables(VintageTables):
    def destinations(self, id: str, as_of: datetime | None = None) -> list[StoredDestination]:
        columns = "period, destination, value, recorded_at"
        rows = self._vintage("destinations", columns, "period, destination", id, as_of)
        return [StoredDestination(p, d, v, r) for p, d, v, r in rows]

    def ingest_destinations(self, id: str, batch: Sequence[DestinationRow]) -> DestinationOutcome:
        with self._write() as cur:
            self._series_exists(cur, id)
            return self._ingest_destinations(cur, id, batch)

    def _ingest_destinations(
        self, cur: Any, id: str, batch: Sequence[DestinationRow]
    ) -> DestinationOutcome:
        cur.execute(
            "SELECT period, destination, value FROM destinations "
            "WHERE series_id = ? AND superseded_at IS NULL",
            (id,),
        )
        current = {(p, d): v for p, d, v in cur.fetchall()}
        rows = [((str(r.period), r.destination), r.value) for r in batch]
        new, revised, unchanged = self._add_vintages(
            cur, "destinations", ("period", "destination"), id, rows, current
        )
        return DestinationOutcome(len(batch), new, revised, unchanged)

    def destination_series(self) -> list[str]:
        with self._read() as cur:
            cur.execute("SELECT DISTINCT series_id FROM destinations ORDER BY series_id")
            return [r[0] for r in cur.fetchall()]

    def destinations_stamp(self, id: str) -> str | None:
        with self._read() as cur:
            # Rows are only ever added (a revision closes one and adds one), so their count
            # and latest time change with any change.
            cur.execute(
                "SELECT COUNT(*), MAX(recorded_at) FROM destinations WHERE series_id = ?", (id,)
            )
            count, latest = cur.fetchone()
        return None if not count else f"{count}-{latest}"
