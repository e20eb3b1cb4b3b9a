"""The pace a target needs: what the months left would have to average, the growth that
implies, and how often the series has grown that fast before.

A probability alone does not tell a reader whether a target is ambitious; a pace does:
"$1T in 2030 needs the twelve-month total to grow 9.1% a year for 55 months, which it
did in 38% of such windows since 2000". Pure arithmetic on the published months; the
probability comes from the paths (`totals.target_probabilities`) and is only carried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from exportcast.models.series import MonthlySeries


@dataclass(frozen=True)
class Pace:
    year: int
    target: float
    months_left: int  # from the last published month to the end of `year`
    needed: float  # what the year's unpublished months must add up to
    per_month: float  # their average (the year's months left, at most 12)
    growth_same_months: float | None  # of those months on the same months a year earlier
    growth_per_year: float  # of the twelve-month total, annualised, to reach the target
    history_share: float | None  # of past windows as long that grew at least that fast
    history_windows: int
    probability: float | None = None

    @property
    def reached(self) -> bool:
        return self.needed <= 0


def trailing_totals(series: MonthlySeries) -> np.ndarray:
    """The sum of each twelve consecutive months; element i ends at month start + 11 + i."""
    return np.convolve(series.values, np.ones(12), mode="valid")


class History:
    """The series' twelve-month totals and, per window length, their growth over the window,
    sorted: made once for a version, so each pace asked of it is a lookup."""

    def __init__(self, series: MonthlySeries):
        self.totals = trailing_totals(series)
        self._ratios: dict[int, np.ndarray] = {}

    def share(self, months: int, factor: float) -> tuple[float | None, int]:
        """The share of past windows of `months` months over which the twelve-month total
        grew by at least `factor` (None with no such window), and how many there were."""
        shares, n = self.shares(months, [factor])
        return shares[0], n

    def shares(self, months: int, factors: Sequence[float]) -> tuple[list[float | None], int]:
        """`share` of several factors over the same windows, in one lookup."""
        if months <= 0 or len(self.totals) <= months:
            return [None] * len(factors), 0
        ratios = self._ratios.get(months)
        if ratios is None:
            ratios = np.sort(self.totals[months:] / self.totals[:-months])
            self._ratios[months] = ratios
        n = len(ratios)
        below = np.searchsorted(ratios, np.asarray(factors, dtype=float), side="left")
        return [(n - int(i)) / n for i in below.tolist()], n


def pace(
    series: MonthlySeries,
    year: int,
    target: float,
    probability: float | None = None,
    history: History | None = None,
) -> Pace:
    """The pace `target` needs in `year` (the year in progress or a later one), from the
    series as published. `probability` is carried along (the paths' P(total >= target));
    `history`, the series' own, when one is kept (a version's)."""
    return paces(series, year, [target], [probability], history)[0]


def paces(
    series: MonthlySeries,
    year: int,
    targets: Sequence[float],
    probabilities: Sequence[float | None] | None = None,
    history: History | None = None,
) -> list[Pace]:
    """`pace` of several targets in the same year: what does not depend on the target
    (the months left, what is published, the history's windows) is read once."""
    last = series.end
    end = year * 12 + 11
    months_left = end - last
    if months_left <= 0:
        raise ValueError(f"{year} is published in full: no pace is left to need")
    first_of_year = year * 12
    known = max(0, last - first_of_year + 1)
    published = series.year_to_date(year)[1] if known else 0.0
    in_year = 12 - known
    before = None
    if first_of_year + known - 12 >= series.start and last >= first_of_year - 1:
        # the year's months left, a year earlier, are all published
        start = first_of_year + known - 12 - series.start
        before = float(series.values[start : start + in_year].sum())
    history = history or History(series)
    latest = float(history.totals[-1])
    factors = [target / latest for target in targets]
    shares, windows = history.shares(months_left, factors)
    probabilities = probabilities or [None] * len(targets)
    out = []
    for target, factor, share, probability in zip(
        targets, factors, shares, probabilities, strict=True
    ):
        needed = target - published
        out.append(
            Pace(
                year=year,
                target=target,
                months_left=months_left,
                needed=needed,
                per_month=needed / in_year,
                growth_same_months=None
                if before is None
                else (needed / before - 1 if before > 0 else None),
                growth_per_year=factor ** (12 / months_left) - 1,
                history_share=share,
                history_windows=windows,
                probability=probability,
            )
        )
    return out
