"""Where a backtest stands: an origin (year, m) and what one model said there.

An origin is data through month m of `year` (m = 0: through the previous December), and
the question asked there is that year's total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from exportcast.models.series import MonthlySeries


@dataclass(frozen=True, order=True)
class Origin:
    year: int
    m: int  # months of `year` published at the origin

    @property
    def cutoff(self) -> int:
        """Index of the last month the models may see."""
        return self.year * 12 + self.m - 1


def origins(
    series: MonthlySeries,
    from_year: int,
    to_year: int | None = None,
    months: Iterable[int] = range(12),
) -> list[Origin]:
    """Every (year, m) whose year is complete in the series, so it can be scored."""
    last_complete = (series.end + 1) // 12 - 1
    to_year = last_complete if to_year is None else min(to_year, last_complete)
    months = list(months)
    return [
        Origin(y, m)
        for y in range(from_year, to_year + 1)
        for m in months
        if Origin(y, m).cutoff >= series.start + 24
    ]


@dataclass(frozen=True)
class Fitted:
    """What one model said at one origin."""

    totals: np.ndarray  # draws of the target year's total (one for point baselines)
    seconds: float = 0.0
    recent_errors: np.ndarray | None = None  # standardised errors of the last 3 months


Results = dict[tuple[str, Origin], Fitted]
