"""How `auto` learns from its members' past: weights, break detection, calibration.

Everything here looks only at cases whose outcome was known at the origin: members'
projections of years that ended before it. The same functions serve the backtest (where
the origin moves through history) and a live fit (where the origin is now), so what the
backtest measures is what the service runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from exportcast.models.calibration import YearStep, growth_factor
from exportcast.models.ensemble import allocate
from exportcast.models.evaluation.scoring import Case

# A break: the members' recent one-step errors, weighted as in the ensemble, add up to more
# than the 99th percentile of chi-square with 3 degrees of freedom.
BREAK_THRESHOLD = 11.34
MIN_CASES = 6


def m_group(m: int) -> int:
    return m // 3


def skill_weights(past: Mapping[str, Sequence[Case]], power: float = 2.0) -> dict[str, float]:
    """Weights in proportion to MAPE^-power on past cases; equal without enough history."""
    names = list(past)
    if not names:
        return {}
    if any(len(past[n]) < MIN_CASES for n in names):
        return dict.fromkeys(names, 1 / len(names))
    mape = np.array([np.mean([abs(c.error) for c in past[n]]) for n in names])
    raw = np.maximum(mape, 1e-6) ** -power
    return dict(zip(names, (raw / raw.sum()).tolist(), strict=True))


@dataclass(frozen=True)
class Blend:
    weights: dict[str, float]
    surprise: float  # weighted sum of squared recent errors
    break_detected: bool


def blend(prior: Mapping[str, float], recent_errors: Mapping[str, np.ndarray]) -> Blend:
    """Keep the skill weights in ordinary times; after a break, lean on the members that the
    latest months surprised least (weights times each member's likelihood of them)."""
    names = list(prior)
    sq = {}
    for n in names:
        errors = np.asarray(recent_errors.get(n, np.array([])), dtype=float)
        errors = errors[np.isfinite(errors)]
        sq[n] = float(np.sum(errors**2)) if len(errors) else np.nan
    known = [n for n in names if np.isfinite(sq[n])]
    if not known:
        return Blend(dict(prior), 0.0, False)
    total = sum(prior[n] for n in known)
    surprise = sum(prior[n] * sq[n] for n in known) / total if total > 0 else 0.0
    if surprise <= BREAK_THRESHOLD:
        return Blend(dict(prior), surprise, False)
    least = min(sq[n] for n in known)
    raw = {n: prior[n] * (np.exp(-0.5 * (sq[n] - least)) if n in known else 0.0) for n in names}
    norm = sum(raw.values())
    return Blend({n: w / norm for n, w in raw.items()}, surprise, True)


def mixture(draws: Mapping[str, np.ndarray], weights: Mapping[str, float], n: int) -> np.ndarray:
    """A mixture of the members' draws with the given weights (draws are exchangeable).

    Draws are along the last axis: given (years, n_draws) arrays, draw i of every year
    stays from one path."""
    names = [k for k in draws if weights.get(k, 0) > 0]
    counts = allocate(n, [weights[k] for k in names])
    parts = []
    for name, count in zip(names, counts, strict=True):
        d = np.asarray(draws[name])
        parts.append(np.take(d, np.arange(count) % d.shape[-1], axis=-1))
    return np.concatenate(parts, axis=-1)


def calibration_scale(past: Sequence[Case], level: float) -> float:
    """Conformal factor for the unknown part of the year (log scale) at `level`.

    For each past case, how many half-widths of its `level` interval the outcome fell from
    the median; the factor is the finite-sample-corrected `level` quantile of that ratio.
    1.0 (no change) without enough history.
    """
    ratios = []
    for c in past:
        if level not in c.intervals:
            continue
        low, high = c.intervals[level]
        rest_med = c.median - c.year_to_date
        rest_low, rest_high = low - c.year_to_date, high - c.year_to_date
        rest_actual = c.actual - c.year_to_date
        if min(rest_med, rest_low, rest_high, rest_actual) <= 0:
            continue
        half = (np.log(rest_high) - np.log(rest_low)) / 2
        if half <= 0:
            continue
        ratios.append(abs(np.log(rest_actual / rest_med)) / half)
    n = len(ratios)
    if n < MIN_CASES:
        return 1.0
    q = min(1.0, np.ceil((n + 1) * level / 100) / n)
    return float(np.quantile(ratios, q, method="higher"))


def shrink_growth(past: Sequence[Case]) -> float:
    """How much of the projected growth beyond the current year (log of a later year's
    median over the current year's, `anchor`) came true in past cases: least squares
    through the origin of the outcome's growth on the projected one, within [0, 1]; 1
    without enough history.

    The members extrapolate monthly dynamics; over several years much of that projected
    growth is noise, and the outcome is closer to the current level than they say."""
    pairs = [
        (np.log(c.median / c.anchor), np.log(c.actual / c.anchor))
        for c in past
        if c.anchor and c.median > 0 and c.actual > 0
    ]
    if len(pairs) < MIN_CASES:
        return 1.0
    x, y = np.array(pairs).T
    if float(np.sum(x * x)) <= 0:
        return 1.0
    return float(np.clip(np.sum(x * y) / np.sum(x * x), 0.0, 1.0))


def shifted(case: Case, growth: float) -> Case:
    """The case with its median's growth over its anchor multiplied by `growth` (the whole
    distribution moves with it)."""
    if not case.anchor or growth == 1.0:
        return case
    factor = growth_factor(case.median, case.anchor, growth)
    return replace(
        case,
        median=case.median * factor,
        mean=case.mean * factor,
        intervals={k: (lo * factor, hi * factor) for k, (lo, hi) in case.intervals.items()},
    )


def year_step(past: Sequence[Case], level: float, growth: float | None = None) -> YearStep:
    """A later year's correction from past uncalibrated cases of its horizon: the growth
    shrink first (learned from these cases unless given), then the conformal factors of the
    cases as shrunk, at `level` and at 95% for the tails."""
    growth = shrink_growth(past) if growth is None else growth
    moved = [shifted(c, growth) for c in past]
    return YearStep(growth, calibration_scale(moved, level), calibration_scale(moved, 95.0))
