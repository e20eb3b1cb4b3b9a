"""Partial-month figures: what a flash is, which one a forecast uses, and flash rows checked
the way observation rows are (every bad row named, nothing used until all are good)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from exportcast.models.series import format_month, parse_month, shown
from exportcast.models.validate import (
    VALUE_COLUMN,
    Location,
    Problem,
    SeriesError,
    check_value,
    read_csv_columns,
)

# Cumulative from the 1st of the month to this day.
PERIODS: dict[str, int] = {"d1_10": 10, "d1_20": 20}


@dataclass(frozen=True, order=True)
class Flash:
    month: int  # month index (year * 12 + month - 1)
    period: str  # a key of PERIODS
    value: float  # the month's total from day 1 to `day`

    @property
    def day(self) -> int:
        return PERIODS[self.period]

    def to_dict(self) -> dict[str, object]:
        return {"month": format_month(self.month), "period": self.period, "value": self.value}


def latest_for(flashes: Iterable[Flash], month: int) -> Flash | None:
    """The flash that says most about `month`: the one reaching the latest day."""
    found = [f for f in flashes if f.month == month]
    return max(found, key=lambda f: f.day) if found else None


def _period(text: object) -> str:
    if not isinstance(text, str) or text.strip() not in PERIODS:
        raise ValueError(f"period {shown(text)} is not one of {', '.join(PERIODS)}")
    return text.strip()


def check_flash_rows(rows: Iterable[tuple[Location, object, object, object]]) -> list[Flash]:
    """(location, month, period, value) rows as flashes; SeriesError naming every bad row.

    A (month, period) given twice is refused, and so is a 1-20 figure below the same
    month's 1-10 figure (they are cumulative)."""
    problems: list[Problem] = []
    seen: dict[tuple[int, str], Location] = {}
    out: list[Flash] = []

    def problem(message: str, at: Location) -> None:
        if isinstance(at, str):
            problems.append(Problem(message, where=at))
        else:
            problems.append(Problem(message, line=at))

    for at, month_text, period_text, value_text in rows:
        try:
            if not isinstance(month_text, str):
                raise ValueError(f"month {shown(month_text)} is not a YYYY-MM string")
            month = parse_month(month_text)
            period = _period(period_text)
            value = check_value(value_text)  # type: ignore[arg-type]
        except ValueError as exc:
            problem(str(exc), at)
            continue
        if (month, period) in seen:
            problem(f"flash {format_month(month)} {period} repeated", at)
            continue
        seen[(month, period)] = at
        out.append(Flash(month, period, value))
    by_key = {(f.month, f.period): f for f in out}
    for f in out:
        early = by_key.get((f.month, "d1_10"))
        if f.period == "d1_20" and early is not None and f.value < early.value:
            problem(
                f"flash {format_month(f.month)} d1_20 ({f.value:g}) is below its d1_10 "
                f"({early.value:g}); flashes are cumulative from the 1st",
                seen[(f.month, f.period)],
            )
    if problems:
        raise SeriesError(problems)
    return sorted(out)


def read_flash_csv(text: str) -> list[tuple[int, str, str, str]]:
    """(line, month, period, value) from a CSV with `month`, `period` and `value` columns."""
    return read_csv_columns(text, [("month",), ("period",), VALUE_COLUMN])  # type: ignore[return-value]


def parse_flash_csv(text: str) -> list[Flash]:
    return check_flash_rows(read_flash_csv(text))


def history_pairs(flashes: Sequence[Flash], full: dict[int, float]) -> list[tuple[Flash, float]]:
    """Flashes whose full month is known, with that month's value: what a ratio learns from."""
    return [(f, full[f.month]) for f in flashes if f.month in full]
