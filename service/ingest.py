"""Taking in a batch of observations: the one path the API and the CLI share.

The whole batch is checked before anything is stored; the store then applies it in one
transaction (and refuses it whole if it would leave a gap).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from exportcast.models.markets.destinations import check_destination_rows
from exportcast.models.nowcast.flashes import check_flash_rows, read_flash_csv
from exportcast.models.references import check_reference_rows, read_reference_csv
from exportcast.models.validate import (
    Location,
    Problem,
    SeriesError,
    check_rows,
    read_csv_columns,
    read_csv_rows,
)
from exportcast.service.schemas import MAX_ROWS
from exportcast.service.store import (
    DestinationOutcome,
    FlashOutcome,
    IngestOutcome,
    ReferenceOutcome,
    Store,
)


def _json_rows(
    payload: Any,
    key: str,
    fields: tuple[str, ...],
    check: Callable[[list], object],
    optional: dict[str, object] | None = None,
) -> list[tuple]:
    """(where, *fields) rows from `{key: [{field: ...}, ...]}`, fields in `optional` read
    as its default when left out; every malformed item and every bad well-formed row
    named in one SeriesError."""
    optional = optional or {}
    required = [f for f in fields if f not in optional]
    if not isinstance(payload, dict) or not isinstance(payload.get(key), list):
        shape = ", ".join(f'"{f}"' for f in fields)
        raise SeriesError([Problem(f'body must be {{"{key}": [{{{shape}}}, ...]}}')])
    rows: list[tuple] = []
    problems: list[Problem] = []
    for i, item in enumerate(payload[key]):
        where = f"{key}[{i}]"
        if not isinstance(item, dict) or not set(required) <= item.keys():
            needs = ", ".join(f'"{f}"' for f in required[:-1]) + f' and "{required[-1]}"'
            problems.append(Problem(f"each item needs {needs}", where=where))
            continue
        rows.append((where, *(item.get(f, optional.get(f)) for f in fields)))
    if problems:
        # Still check the well-formed rows, so one response names every bad row.
        try:
            check(rows)
        except SeriesError as exc:
            problems.extend(exc.problems)
        raise SeriesError(sorted(problems, key=_position))
    return rows


def rows_from_json(payload: Any) -> list[tuple[Location, object, object]]:
    return _json_rows(payload, "observations", ("month", "value"), check_rows)


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
    return _json_rows(payload, "flashes", ("month", "period", "value"), check_flash_rows)


def flash_rows_from_csv(text: str) -> list[FlashRow]:
    return list(read_flash_csv(text))


def ingest_flash_rows(store: Store, series_id: str, rows: list[FlashRow]) -> FlashOutcome:
    if not rows:
        raise SeriesError([Problem("the batch has no flashes")])
    if len(rows) > MAX_ROWS:
        raise SeriesError([Problem(f"the batch has {len(rows)} rows; at most {MAX_ROWS}")])
    return store.ingest_flashes(series_id, check_flash_rows(rows))


ReferenceRow = tuple[Location, object, object, object, object, object]
REFERENCE_FIELDS = ("forecaster", "published", "year", "value", "source")


def reference_rows_from_json(payload: Any) -> list[ReferenceRow]:
    return _json_rows(
        payload, "references", REFERENCE_FIELDS, check_reference_rows, optional={"source": ""}
    )


def reference_rows_from_csv(text: str) -> list[ReferenceRow]:
    return list(read_reference_csv(text))


def ingest_reference_rows(
    store: Store, series_id: str, rows: list[ReferenceRow]
) -> ReferenceOutcome:
    if not rows:
        raise SeriesError([Problem("the batch has no references")])
    if len(rows) > MAX_ROWS:
        raise SeriesError([Problem(f"the batch has {len(rows)} rows; at most {MAX_ROWS}")])
    return store.ingest_references(series_id, check_reference_rows(rows))


DestinationRowIn = tuple[Location, object, object, object]


def destination_rows_from_json(payload: Any) -> list[DestinationRowIn]:
    return _json_rows(
        payload, "destinations", ("period", "destination", "value"), check_destination_rows
    )


def destination_rows_from_csv(text: str) -> list[DestinationRowIn]:
    columns = [("period", "month", "year"), ("destination",), ("value", "exports_usd_millions")]
    return list(read_csv_columns(text, columns))


def ingest_destination_rows(
    store: Store, series_id: str, rows: list[DestinationRowIn]
) -> DestinationOutcome:
    if not rows:
        raise SeriesError([Problem("the batch has no destination rows")])
    if len(rows) > MAX_ROWS:
        raise SeriesError([Problem(f"the batch has {len(rows)} rows; at most {MAX_ROWS}")])
    return store.ingest_destinations(series_id, check_destination_rows(rows))
