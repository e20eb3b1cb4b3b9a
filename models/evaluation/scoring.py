"""Scores of year-end projections: errors, coverage and interval scores by months known."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exportcast.models import totals
from exportcast.models.limits import DEFAULT_LEVELS

LEVELS = DEFAULT_LEVELS
M_GROUPS = ((0, 2), (3, 5), (6, 8), (9, 11))


# Thresholds of the target probabilities scored by horizon, as multiples of the last
# complete year's total at the origin.
THRESHOLD_RATIOS = (1.0, 1.1, 1.25, 1.5, 2.0)


@dataclass(frozen=True)
class Case:
    """One model's projection of one year's total from one origin, against the outcome.

    `m` is the months known of the origin's year; `horizon` counts calendar years from the
    origin's (1: the year in progress, `year` = origin year + horizon - 1). `probabilities`
    holds P(total >= ratio x `last_total`) for each threshold ratio, `last_total` being
    the last complete year's total at the origin; `anchor` is the median of the year in
    progress at the origin, which later years' growth is measured from."""

    model: str
    year: int
    m: int
    actual: float
    year_to_date: float
    median: float
    mean: float
    intervals: dict[float, tuple[float, float]] = field(default_factory=dict)
    horizon: int = 1
    last_total: float | None = None
    probabilities: dict[float, float] = field(default_factory=dict)
    anchor: float | None = None

    @property
    def origin_year(self) -> int:
        return self.year - self.horizon + 1

    @property
    def error(self) -> float:
        """Signed relative error of the median."""
        return (self.median - self.actual) / self.actual

    def covered(self, level: float) -> bool | None:
        if level not in self.intervals:
            return None
        low, high = self.intervals[level]
        return low <= self.actual <= high

    def interval_score(self, level: float) -> float | None:
        """Winkler score of the interval, in percent of the actual total."""
        if level not in self.intervals:
            return None
        low, high = self.intervals[level]
        alpha = 1 - level / 100
        score = high - low
        if self.actual < low:
            score += 2 / alpha * (low - self.actual)
        elif self.actual > high:
            score += 2 / alpha * (self.actual - high)
        return 100 * score / self.actual


def case_from_draws(
    model: str,
    year: int,
    m: int,
    actual: float,
    year_to_date: float,
    draws: np.ndarray,
    levels: Sequence[float] = LEVELS,
    horizon: int = 1,
    last_total: float | None = None,
    anchor: float | None = None,
) -> Case:
    draws = np.asarray(draws, dtype=float)
    intervals = totals.intervals(draws, levels) if len(draws) > 1 else {}
    probabilities = (
        {r: totals.prob_at_least(draws, r * last_total) for r in THRESHOLD_RATIOS}
        if last_total and len(draws) > 1
        else {}
    )
    return Case(
        model,
        year,
        m,
        actual,
        year_to_date,
        float(np.median(draws)),
        float(np.mean(draws)),
        intervals,
        horizon,
        last_total,
        probabilities,
        anchor,
    )


@dataclass(frozen=True)
class Score:
    model: str
    months: str  # "3" or "0-2" or "all"
    n: int
    mape: float
    mdape: float
    bias: float
    coverage: dict[float, float | None]
    winkler95: float | None

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "m": self.months,
            "n": self.n,
            "mape": round(self.mape, 3),
            "mdape": round(self.mdape, 3),
            "bias": round(self.bias, 3),
            "coverage": {
                f"{k:g}": (None if v is None else round(v, 3)) for k, v in self.coverage.items()
            },
            "winkler95": None if self.winkler95 is None else round(self.winkler95, 3),
        }


def score(
    cases: Iterable[Case], model: str, months: str, levels: Sequence[float] = LEVELS
) -> Score:
    cases = list(cases)
    errors = np.array([c.error for c in cases]) * 100
    coverage: dict[float, float | None] = {}
    for level in levels:
        hits = [c.covered(level) for c in cases]
        coverage[level] = None if any(h is None for h in hits) else float(np.mean(hits))
    winkler = [c.interval_score(95.0) for c in cases]
    return Score(
        model=model,
        months=months,
        n=len(cases),
        mape=float(np.mean(np.abs(errors))),
        mdape=float(np.median(np.abs(errors))),
        bias=float(np.mean(errors)),
        coverage=coverage,
        winkler95=None if any(w is None for w in winkler) else float(np.mean(winkler)),
    )


def score_table(cases: Iterable[Case]) -> list[Score]:
    """Scores per model: by m, by m group, and over all cases."""
    by_model: dict[str, list[Case]] = {}
    for c in cases:
        by_model.setdefault(c.model, []).append(c)
    rows: list[Score] = []
    for model, mine in by_model.items():
        for m in sorted({c.m for c in mine}):
            rows.append(score([c for c in mine if c.m == m], model, str(m)))
        for lo, hi in M_GROUPS:
            group = [c for c in mine if lo <= c.m <= hi]
            if group:
                rows.append(score(group, model, f"{lo}-{hi}"))
        rows.append(score(mine, model, "all"))
    return rows


def expected_error(cases: Sequence[Case], m: int, horizon: int = 1) -> dict[str, Any]:
    """How far `auto` was off at this many months known, over the years it was tested, on
    the total of the year in progress (horizon 1) or of a year after it."""
    mine = [c for c in cases if c.m == m and c.horizon == horizon]
    if not mine:
        return {"m": m, "horizon": horizon, "n": 0}
    s = score(mine, "auto", str(m))
    return {
        "m": m,
        "horizon": horizon,
        "n": s.n,
        "years": [min(c.year for c in mine), max(c.year for c in mine)],
        "mape_pct": round(s.mape, 3),
        "bias_pct": round(s.bias, 3),
        "coverage": {f"{k:g}": (None if v is None else round(v, 3)) for k, v in s.coverage.items()},
    }
