"""Monthly series and month arithmetic; validating raw rows is `validate.py`'s job.

Months are carried as integers (year * 12 + month - 1) so that gaps, horizons and calendar
years are plain arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

# ASCII digits only: `\d` would also take full-width and Arabic-Indic digits ("２０２６-０６").
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def shown(text: object, limit: int = 40) -> str:
    """`text` as a message may quote it: its repr cut to about `limit` characters, with
    anything UTF-8 cannot carry (lone surrogates) escaped, so the error itself can be sent."""
    if isinstance(text, int) and text.bit_length() > 128:  # str() of a huge int is slow
        return f"<an integer of {int(text.bit_length() * 0.30103) + 1} digits>"
    if isinstance(text, str) and len(text) > limit:
        out = f"{text[:limit]!r}... ({len(text)} characters)"
    else:
        try:
            out = repr(text)
        except RecursionError:  # a JSON array nested hundreds deep
            out = f"<a {type(text).__name__} nested too deeply>"
        out = out if len(out) <= 2 * limit else out[: 2 * limit] + "..."
    return out.encode("utf-8", "backslashreplace").decode("utf-8")


def parse_month(text: str) -> int:
    """`YYYY-MM` -> month index; raises ValueError for anything else."""
    match = _MONTH.fullmatch(text.strip())
    if not match:
        raise ValueError(f"month {shown(text)} is not YYYY-MM (ASCII digits)")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 1800:
        raise ValueError(f"month {shown(text)} is not a calendar month")
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
