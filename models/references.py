"""Outside forecasts of a year's total (official outlooks, say): what one is, rows checked
into them with every bad row named, and where such a figure falls in a projection.

No official forecaster publishes an interval; a projection's quantiles say how surprising
each figure was by the model's own distribution at the same date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from exportcast.models.series import shown
from exportcast.models.validate import (
    VALUE_COLUMN,
    Location,
    Problem,
    SeriesError,
    check_value,
    read_csv_columns,
)

# The percentiles a projection keeps of each year's total (1, 2, ..., 99).
PERCENTILES = tuple(range(1, 100))
MAX_TEXT = 200


@dataclass(frozen=True, order=True)
class Reference:
    """A named point forecast of one year's total, published on a date."""

    published: date
    forecaster: str
    year: int
    value: float
    source: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "forecaster": self.forecaster,
            "published": self.published.isoformat(),
            "year": self.year,
            "value": self.value,
            "source": self.source,
        }


def _text(value: object, what: str, required: bool) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} {shown(value)} is not text")
    text = value.strip()
    if required and not text:
        raise ValueError(f"{what} is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"{what} is {len(text)} characters; at most {MAX_TEXT}")
    if any(not ch.isprintable() for ch in text):
        raise ValueError(f"{what} {shown(value)} has control characters")
    return text


def _published(value: object, today: date) -> date:
    if not isinstance(value, str):
        raise ValueError(f"published {shown(value)} is not a YYYY-MM-DD date")
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"published {shown(value)} is not a YYYY-MM-DD date") from None
    if len(value.strip()) != 10 or day.year < 1900:
        raise ValueError(f"published {shown(value)} is not a YYYY-MM-DD date")
    if day > today:
        raise ValueError(f"published {day.isoformat()} is in the future")
    return day


def _year(value: object, published: date | None) -> int:
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, bool) or not (
        isinstance(text, int) or (isinstance(text, str) and text.isascii() and text.isdigit())
    ):
        raise ValueError(f"year {shown(value)} is not a whole year")
    year = int(text)
    if not 1900 <= year <= 2200:
        raise ValueError(f"year {year} is not between 1900 and 2200")
    if published is not None and year < published.year - 1:
        raise ValueError(
            f"year {year} ended before {published.isoformat()}: a forecast is of a year "
            "in progress or to come (or the one just ended)"
        )
    return year


def _problem(message: str, at: Location) -> Problem:
    return Problem(message, where=at) if isinstance(at, str) else Problem(message, line=at)


def check_reference_rows(
    rows: Iterable[tuple[Location, object, object, object, object, object]],
    today: date | None = None,
) -> list[Reference]:
    """(location, forecaster, published, year, value, source) rows as references;
    SeriesError naming every bad row. A (forecaster, published, year) given twice is
    refused."""
    today = today or date.today()
    problems: list[Problem] = []
    seen: set[tuple[str, date, int]] = set()
    out: list[Reference] = []
    for at, forecaster, published, year, value, source in rows:
        try:
            name = _text(forecaster, "forecaster", required=True)
            day = _published(published, today)
            whole = _year(year, day)
            amount = check_value(value)  # type: ignore[arg-type]
            note = _text("" if source is None else source, "source", required=False)
        except ValueError as exc:
            problems.append(_problem(str(exc), at))
            continue
        key = (name, day, whole)
        if key in seen:
            problems.append(_problem(f"{name}'s {whole} forecast of {day} repeated", at))
            continue
        seen.add(key)
        out.append(Reference(day, name, whole, amount, note))
    if problems:
        raise SeriesError(problems)
    return sorted(out)


def read_reference_csv(text: str) -> list[tuple]:
    """(line, forecaster, published, year, value, source) from a CSV with those columns
    (`value` may be named as in an observation file; `source` may be left out)."""
    columns = [("forecaster",), ("published",), ("year",), VALUE_COLUMN]
    first = text.removeprefix("\ufeff").split("\n", 1)[0].lower()
    if "source" in [c.strip() for c in first.split(",")]:
        return read_csv_columns(text, [*columns, ("source",)])
    return [(*row, "") for row in read_csv_columns(text, columns)]


def parse_reference_csv(text: str, today: date | None = None) -> list[Reference]:
    return check_reference_rows(read_reference_csv(text), today)


def percentile_of(quantiles: Sequence[float], value: float) -> float:
    """Where `value` falls in a distribution known by its `PERCENTILES` (linear between
    them; below the 1st is reported as 0.5, above the 99th as 99.5)."""
    q = np.asarray(quantiles, dtype=float)
    if value < q[0]:
        return 0.5
    if value > q[-1]:
        return 99.5
    return float(np.interp(value, q, np.asarray(PERCENTILES, dtype=float)))
