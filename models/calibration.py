"""Calibration of sample paths and of their year totals, one function each.

`auto` learns how far its mixture was off at each horizon (evaluation.auto) and the
correction is applied twice: to the draws of year totals in the backtest
(`calibrate_years`) and to whole monthly paths when a version is made (`calibrate_paths`).
The two agree (tested), so what the backtest measured is what is served. Pure functions
of arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from exportcast.models.totals import widen_around_log_median


@dataclass(frozen=True)
class YearStep:
    """How one later year's totals are corrected (`calibrate_years`): the median's growth
    over the current year's median is multiplied by `growth` (1: as the members said, 0:
    the current year's median repeated), then the spread around it by `spread`, and the
    tails beyond the 80% interval further where the 95% interval needs it (`tail`: the
    factor the 95% interval needs; see `widen_tails`)."""

    growth: float = 1.0
    spread: float = 1.0
    tail: float = 0.0  # 0: no further widening of the tails

    def widen(self, values: np.ndarray) -> np.ndarray:
        return widen_tails(values, self.spread, self.tail)


def widen_tails(values: np.ndarray, inner: float, outer: float) -> np.ndarray:
    """Positive values spread `inner` times as far from their median on the log scale, and
    beyond the 80% interval's half-width further still if the 95% half-width needs `outer`
    times its own (piecewise linear in the distance from the median, so order is kept).

    Tails are only ever widened beyond `inner`: one factor learned at 80% can leave the 95%
    interval too narrow, while a 95% factor from 20-60 cases is too noisy to narrow on."""
    widened = widen_around_log_median(values, inner)
    if outer <= inner:
        return widened
    logs = np.log(values)
    centre = np.median(logs)
    distance = logs - centre
    far = np.abs(distance)
    h80, h95 = np.percentile(far, [80, 95])
    if not h95 > h80 > 0:
        return widened
    beyond = (outer * h95 - inner * h80) / (h95 - h80)
    moved = np.where(far <= h80, inner * far, inner * h80 + beyond * (far - h80))
    return np.exp(centre + np.sign(distance) * moved)


def growth_factor(median: float, anchor: float | None, growth: float) -> float:
    """What moves `median` to anchor x (median / anchor) ** growth."""
    if not anchor or anchor <= 0 or growth == 1.0 or median <= 0:
        return 1.0
    return float((anchor / median) ** (1.0 - growth))


def step_for(steps: Sequence[YearStep], h: int) -> YearStep:
    """The correction of horizon h >= 2 (the last one learned serves the years beyond it)."""
    if not steps:
        return YearStep()
    return steps[min(h - 2, len(steps) - 1)]


def calibrate_years(
    years: np.ndarray,
    year_to_date: float,
    scale: float,
    steps: Sequence[YearStep] = (),
) -> np.ndarray:
    """Calibrated draws of a path's calendar-year totals, (n_years, n_draws), the year in
    progress first: what `ensemble.calibrate_paths` does to whole paths, on their totals.

    The first year's unknown part is widened by `scale` and every later year of the path
    moves with it (a path's level stays continuous); then year h >= 2 gets its `YearStep`:
    all its draws move so the median's growth over the first year's median shrinks, and
    they widen around that median, path by path."""
    years = np.asarray(years, dtype=float)
    out = np.empty_like(years)
    rest = np.maximum(years[0] - year_to_date, 1e-12)
    factor = widen_around_log_median(rest, scale) / rest
    out[0] = year_to_date + rest * factor
    anchor = float(np.median(out[0]))
    for k in range(1, len(years)):
        step = step_for(steps, k + 1)
        moved = years[k] * factor
        moved = moved * growth_factor(float(np.median(moved)), anchor, step.growth)
        out[k] = step.widen(moved)
    return out


def calibrate_paths(
    paths: np.ndarray,
    months_left: int,
    scale: float,
    steps: Sequence[YearStep] = (),
    year_to_date: float = 0.0,
) -> np.ndarray:
    """Scale each path so that the unknown part of the current year's total spreads `scale`
    times as far (on the log scale) around its median; later months move with their path,
    so a path's level stays continuous. Then each later calendar year's block of months
    takes its year's step: every path's block moves so the median's growth over the
    current year's median total (`year_to_date` plus the rest) shrinks by the step's
    `growth`, then each path's block is scaled so the year's total spreads as the step
    says around its median (the last step serves the years beyond).

    The year totals of the result are `calibrate_years` of the raw totals (tested): what
    the backtest measured is what is served."""
    k = max(1, min(months_left, paths.shape[1]))
    if scale != 1.0:
        rest = paths[:, :k].sum(axis=1)
        factor = widen_around_log_median(rest, scale) / rest
        paths = paths * factor[:, None]
    if all(s == YearStep() for s in steps):
        return paths
    paths = paths.copy()
    anchor = year_to_date + float(np.median(paths[:, :k].sum(axis=1)))
    start, h = months_left, 2
    while start < paths.shape[1]:
        step = step_for(steps, h)
        block = paths[:, start : start + 12]
        block *= growth_factor(float(np.median(block.sum(axis=1))), anchor, step.growth)
        total = block.sum(axis=1)
        block *= (step.widen(total) / total)[:, None]
        start, h = start + 12, h + 1
    return paths
