"""Taking in a batch of observations: the one path the API and the CLI share.

The whole batch is checked before anything is stored; the store then applies it in one
transaction (and refuses it whole if it would leave a gap).
"""

from __future__ import annotations

from typing import Any

from exportcast.models.nowcast.flashes import check_flash_rows, read_flash_csv
from exportcast.models.validate import Location, Problem, SeriesError, check_rows, read_csv_rows
from exportcast.service.store import FlashOutcome, IngestOutcome, Store

MAX_ROWS = 10_000


def rows_from_json(payload: Any) -> list[tuple[Location, object, object]]:
    if not isinstance(payload, dict) or not isinstance(payload.get("observations"), list):
        raise SeriesError([Problem('body must be {"observations": [{"month", "value"}, ...]}')])
    rows: list[tuple[Location, object, object]] = []
    problems: list[Problem] = []
    for i, item in enumerate(payload["observations"]):
        where = f"observations[{i}]"
        if not isinstance(item, dict) or "month" not in item or "value" not in item:
            problems.append(Problem('each item needs "month" and "value"', where=where))
            continue
        rows.append((where, item["month"], item["value"]))
    if problems:
        # Still check the well-formed rows, so one response names every bad row.
        try:
            check_rows(rows)
        except SeriesError as exc:
            problems.extend(exc.problems)
        raise SeriesError(sorted(problems, key=_position))
    return rows


def _position(p: Problem) -> int:
    where = p.where or ""
    return int(where.split("[")[1].rstrip("]")) if "[" in where else -1


def rows_from_csv(text: str) -> list[tuple[Location, object, object]]:
    return list(read_csv_rows(text))


def ingest_rows(
    store: Store, series_id: str, rows: list[tuple[Location, object, object]]
) -> IngestOutcome:
    if not rows:
        raise SeriesError([Problem("the batch has no observations")])
    if len(rows) > MAX_ROWS:
        raise SeriesError([Problem(f"the batch has {len(rows)} rows; at most {MAX_ROWS}")])
    batch = check_rows(rows)
    return store.ingest(series_id, batch)


FlashRow = tuple[Location, object, object, object]


def flash_rows_from_json(payload: Any) -> list[FlashRow]:
    if not isinstance(payload, dict) or not isinstance(payload.get("flashes"), list):
        raise SeriesError(
            [Problem('body must be {"flashes": [{"month", "period", "value"}, ...]}')]
        )
    rows: list[FlashRow] = []
    problems: list[Problem] = []
    for i, item in enumerate(payload["flashes"]):
        where = f"flashes[{i}]"
        if not isinstance(item, dict) or not {"month", "period", "value"} <= item.keys():
            problems.append(Problem('each item needs "month", "period" and "value"', where=where))
            continue
        rows.append((where, item["month"], item["period"], item["value"]))
    if problems:
        try:
            check_flash_rows(rows)
        except SeriesError as exc:
            problems.extend(exc.problems)
        raise SeriesError(sorted(problems, key=_position))
    return rows


def flash_rows_from_csv(text: str) -> list[FlashRow]:
    return list(read_flash_csv(text))


def ingest_flash_rows(store: Store, series_id: str, rows: list[FlashRow]) -> FlashOutcome:
    if not rows:
        raise SeriesError([Problem("the batch has no flashes")])
    if len(rows) > MAX_ROWS:
        raise SeriesError([Problem(f"the batch has {len(rows)} rows; at most {MAX_ROWS}")])
    return store.ingest_flashes(series_id, check_flash_rows(rows))
