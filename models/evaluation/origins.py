"""Where a backtest stands: an origin (year, m) and what one model said there.

An origin is data through month m of `year` (m = 0: through the previous December). The
question asked there is that year's total (horizon 1) and the totals of the years after it
(horizon h is year `year + h - 1`), each fitted once and answered from the same paths.
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


# Every backtest fit answers this many calendar years, the origin's own year first.
HORIZONS = 5


@dataclass(frozen=True)
class Fitted:
    """What one model said at one origin.

    `ahead[k]` holds the draws of year `origin.year + k + 1`, path by path in the same
    order as `totals` (draw i of every year comes from one path), so a path's years can be
    transformed together; None for point baselines."""

    totals: np.ndarray  # draws of the target year's total (one for point baselines)
    seconds: float = 0.0
    recent_errors: np.ndarray | None = None  # standardised errors of the last 3 months
    ahead: np.ndarray | None = None  # (HORIZONS - 1, n_draws): the years after the target

    def horizon(self, h: int) -> np.ndarray | None:
        """Draws of the total of horizon h (1: the origin's year), None where not drawn."""
        if h == 1:
            return self.totals
        if self.ahead is None or h - 2 >= len(self.ahead):
            return None
        return self.ahead[h - 2]


Results = dict[tuple[str, Origin], Fitted]
