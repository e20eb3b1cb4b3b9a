"""Rows to series: every bad row is named, and nothing is used until all rows are good.

The API, the command line and the bundled data all come through here, so a file the CLI
refuses is refused by the API with the same words.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from exportcast.models.series import (
    MonthlySeries,
    Observation,
    format_month,
    parse_month,
    shown,
)


@dataclass(frozen=True)
class Problem:
    """One reason a row or a batch was refused; `line` is 1-based in the source when known."""

    message: str
    line: int | None = None
    month: str | None = None
    where: str | None = None  # a location other than a line, e.g. "observations[2]"

    def location(self) -> str | None:
        if self.where is not None:
            return self.where
        return f"line {self.line}" if self.line is not None else None

    def __str__(self) -> str:
        place = self.location()
        return f"{place}: {self.message}" if place else self.message


class SeriesError(ValueError):
    """Input that cannot become a series. Carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


# The largest monthly value accepted, in the series' own unit. A plausibility bound, not a
# numerical one: the bundled series is ~6e4 (USD millions) a month, and even monthly
# exports counted in a currency of small units stay far below it (Korea's in won ~8e13,
# Vietnam's in dong ~9e14), so a value above it is a typo or a unit mistake. It also keeps
# sums over 12 months x 30 years of paths far from float overflow: without a bound a month
# of 1e308 was stored and every retrain after it failed.
MAX_VALUE = 1e18

# A value sent as text: ASCII digits, one optional point, an optional exponent. float()
# alone would also take "9_3_000", full-width or Arabic-Indic digits, "nan" and "infinity".
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


def plain_number(text: str) -> float:
    """A number written as plain ASCII decimal text, or ValueError saying why not."""
    stripped = text.strip(" \t")
    if _NOT_FINITE.fullmatch(stripped):
        raise ValueError(f"value {shown(text)} is not finite")
    if not _DECIMAL.fullmatch(stripped):
        raise ValueError(
            f"value {shown(text)} is not a number: write plain decimal digits 0-9 "
            "(no underscores, thousands separators or other scripts' digits)"
        )
    value = float(stripped)
    if math.isinf(value):  # more digits than a float holds: far above MAX_VALUE
        raise ValueError(f"value {shown(text)} is above {MAX_VALUE:g}")
    return value


def check_value(text: str | float) -> float:
    """A finite number above zero and at most MAX_VALUE, or ValueError saying why not.
    Text must be a plain ASCII decimal number; booleans are not numbers."""
    if isinstance(text, bool):
        raise ValueError(f"value {text!r} is not a number")
    if isinstance(text, str):
        value = plain_number(text)
    else:
        try:
            value = float(text)
        except OverflowError:  # an integer beyond float's range, e.g. 10**400 in JSON
            raise ValueError(f"value {shown(text)} is above {MAX_VALUE:g}") from None
        except (TypeError, ValueError):
            raise ValueError(f"value {shown(text)} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"value {shown(text)} is not finite")
    if value <= 0:
        raise ValueError(f"value {value:g} must be > 0")
    if value > MAX_VALUE:
        raise ValueError(
            f"value {value:g} is above {MAX_VALUE:g}, the largest plausible monthly value "
            "in any unit"
        )
    return value


Location = int | str | None  # a 1-based line number, or a label such as "observations[2]"


def _problem(message: str, at: Location, month: str | None = None) -> Problem:
    if isinstance(at, str):
        return Problem(message, None, month, at)
    return Problem(message, at, month)


def _as_given(month_text: str) -> str | None:
    """A refused month as the row gave it, when short and sendable (no lone surrogates)."""
    if len(month_text) > 40 or not month_text.isprintable():
        return None
    try:
        month_text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return month_text


def check_rows(rows: Iterable[tuple[Location, object, object]]) -> list[Observation]:
    """Validate (location, month, value) rows; raise SeriesError naming every bad row.

    Duplicated months inside one batch are refused: which one would win is a guess.
    """
    problems: list[Problem] = []
    seen: dict[int, Location] = {}
    out: list[Observation] = []
    for at, month_text, value_text in rows:
        if not isinstance(month_text, str):
            problems.append(_problem(f"month {shown(month_text)} is not a YYYY-MM string", at))
            continue
        try:
            month = parse_month(month_text)
        except ValueError as exc:
            problems.append(_problem(str(exc), at, _as_given(month_text)))
            continue
        try:
            value = check_value(value_text)  # type: ignore[arg-type]
        except ValueError as exc:
            problems.append(_problem(str(exc), at, format_month(month)))
            continue
        if month in seen:
            first = seen[month]
            label = f"line {first}" if isinstance(first, int) else first
            also = f" (first at {label})" if label is not None else ""
            problems.append(_problem(f"month {format_month(month)} repeated{also}", at))
            continue
        seen[month] = at
        out.append(Observation(month, value, at if isinstance(at, int) else None))
    if problems:
        raise SeriesError(problems)
    return sorted(out, key=lambda o: o.month)


def missing_months(months: Iterable[int]) -> list[int]:
    """Months absent between the first and the last of `months`."""
    ordered = sorted(set(months))
    gaps: list[int] = []
    for a, b in itertools.pairwise(ordered):
        gaps.extend(range(a + 1, b))
    return gaps


def gap_problem(gaps: Sequence[int]) -> Problem:
    shown = ", ".join(format_month(m) for m in gaps[:24])
    more = f" and {len(gaps) - 24} more" if len(gaps) > 24 else ""
    return Problem(f"gap in the series: missing {shown}{more}")


def series_from_observations(
    observations: Sequence[Observation], id: str, unit: str, name: str = ""
) -> MonthlySeries:
    if not observations:
        raise SeriesError([Problem("no observations")])
    months = [o.month for o in observations]
    gaps = missing_months(months)
    if gaps:
        raise SeriesError([gap_problem(gaps)])
    ordered = sorted(observations, key=lambda o: o.month)
    return MonthlySeries(id, unit, ordered[0].month, np.array([o.value for o in ordered]), name)


# The value column, by any of its names (the bundled files call it exports_usd_millions).
VALUE_COLUMN = ("value", "exports_usd_millions")


def read_csv_columns(text: str, columns: Sequence[Sequence[str]]) -> list[tuple[int, ...]]:
    """(line, cell, ...) for the named columns of a CSV, each column given by the names it
    may have; other columns are ignored, blank lines skipped, a missing cell read as "".
    A UTF-8 byte-order mark (as spreadsheet programs write) is dropped; any line ending
    is read. Observation and flash files both come through here."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        return _read_columns(reader, columns)
    except csv.Error as exc:  # e.g. "field larger than field limit (131072)"
        raise SeriesError([Problem(f"CSV cannot be read: {exc}", reader.line_num)]) from None


def _read_columns(
    reader: Iterator[list[str]], columns: Sequence[Sequence[str]]
) -> list[tuple[int, ...]]:
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise SeriesError([Problem("empty CSV")]) from None
    found = [next((name for name in names if name in header), None) for names in columns]
    missing = [names[0] for names, name in zip(columns, found, strict=True) if name is None]
    if missing:
        raise SeriesError([Problem(f"CSV header has no {name!r} column", 1) for name in missing])
    indexes = [header.index(name) for name in found if name is not None]
    rows: list[tuple[int, ...]] = []
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        rows.append((line_no, *(row[i].strip() if i < len(row) else "" for i in indexes)))
    return rows


def read_csv_rows(text: str) -> list[tuple[int, str, str]]:
    """(line, month, value) from a CSV with a `month` and a `value` column."""
    return read_csv_columns(text, [("month",), VALUE_COLUMN])  # type: ignore[return-value]


def parse_csv(text: str, id: str = "csv", unit: str = "", name: str = "") -> MonthlySeries:
    observations = check_rows(read_csv_rows(text))
    return series_from_observations(observations, id, unit, name)
