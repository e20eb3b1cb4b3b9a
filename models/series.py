"""Monthly series and month arithmetic; validating raw rows is `validate.py`'s job.

Months are carried as integers (year * 12 + month - 1) so that gaps, horizons and calendar
years are plain arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> int:
    """`YYYY-MM` -> month index; raises ValueError for anything else."""
    match = _MONTH.match(text.strip())
    if not match:
        raise ValueError(f"month {text!r} is not YYYY-MM")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 1800:
        raise ValueError(f"month {text!r} is not a calendar month")
    return year * 12 + month - 1


def format_month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Observation:
    month: int
    value: float
    line: int | None = None


@dataclass(frozen=True)
class MonthlySeries:
    """A contiguous run of positive monthly values."""

    id: str
    unit: str
    start: int
    values: np.ndarray = field(repr=False)
    name: str = ""

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        if values.ndim != 1 or len(values) == 0:
            raise ValueError("a series needs at least one value")
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise ValueError("values must be finite and > 0")
        values.setflags(write=False)
        object.__setattr__(self, "values", values)

    @property
    def end(self) -> int:
        """Index of the last published month."""
        return self.start + len(self.values) - 1

    @property
    def months(self) -> list[str]:
        return [format_month(self.start + i) for i in range(len(self.values))]

    def through(self, month: int) -> MonthlySeries:
        """The series as it stood with data through `month` (for backtests: no look-ahead)."""
        n = month - self.start + 1
        if n < 1:
            raise ValueError("cut-off before the first month")
        return MonthlySeries(self.id, self.unit, self.start, self.values[:n], self.name)

    def year_to_date(self, year: int) -> tuple[int, float]:
        """Months of `year` published and their sum."""
        first = max(year * 12, self.start)
        last = min(year * 12 + 11, self.end)
        if last < first:
            return 0, 0.0
        chunk = self.values[first - self.start : last - self.start + 1]
        return len(chunk), float(chunk.sum())
