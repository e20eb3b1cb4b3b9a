"""The flash backtest: for each month with flashes, what `auto` said of that month and of
its year's total without a flash, with the 1-10 flash and with the 1-20 flash.

Everything at a month is learned from data before it: the members are fitted on the months
through the one before, `auto`'s weights and calibration come from years that ended
earlier, and the ratio of full months to their flashes from months already complete. The
cases without a flash also measure the monthly fan: how often the one-month-ahead
intervals cover the month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exportcast.models import totals
from exportcast.models.calibration import calibrate_paths
from exportcast.models.ensemble import allocate
from exportcast.models.evaluation import backtest
from exportcast.models.evaluation.auto import (
    AutoState,
    cases_for,
    learn_auto,
    resolve_prior,
    state_at,
)
from exportcast.models.evaluation.backtest import ModelFactory
from exportcast.models.evaluation.origins import Origin, origins
from exportcast.models.families.base import ModelError, rng_for
from exportcast.models.nowcast.condition import condition_paths
from exportcast.models.nowcast.flashes import Flash, history_pairs
from exportcast.models.nowcast.ratio import MonthBelief, NotEnoughHistory, fit_ratio
from exportcast.models.nowcast.trust import GAUSSIAN, LEARNS, Read, Trust, fit_trust
from exportcast.models.parallel import shared_pool
from exportcast.models.prior.features import features as features_of
from exportcast.models.series import MonthlySeries

VARIANTS = ("none", "d1_10", "d1_20")
LEVELS = (80.0, 95.0)


@dataclass(frozen=True)
class FlashCase:
    month: int  # the month nowcast (its full figure unknown at the origin)
    variant: str  # "none", "d1_10" or "d1_20"
    month_actual: float
    month_median: float
    month_intervals: dict[float, tuple[float, float]]
    year_actual: float | None  # None while the year is not complete
    year_median: float
    year_intervals: dict[float, tuple[float, float]]
    weights: dict[str, float]
    implied_median: float | None = None  # the month as the flash alone says it
    implied_intervals: dict[float, tuple[float, float]] | None = None
    # Each member's month and the flash, as the trust in the model is learned from them.
    reads: tuple[Read, ...] = ()

    @property
    def month_error(self) -> float:
        return abs(self.month_median / self.month_actual - 1) * 100

    @property
    def year_error(self) -> float | None:
        if self.year_actual is None:
            return None
        return abs(self.year_median / self.year_actual - 1) * 100

    def month_covered(self, level: float) -> bool:
        lo, hi = self.month_intervals[level]
        return lo <= self.month_actual <= hi

    def year_covered(self, level: float) -> bool | None:
        if self.year_actual is None:
            return None
        lo, hi = self.year_intervals[level]
        return lo <= self.year_actual <= hi


def _member_paths(task: tuple) -> tuple[str, int, np.ndarray | None, np.ndarray | None]:
    series, cutoff, model, n_paths, seed, factory = task
    try:
        fitted = factory(model).fit(series.through(cutoff))
        paths = fitted.sample_paths(12, n_paths, seed).astype(np.float32)
        return model, cutoff, paths, fitted.recent_errors(3)
    except ModelError:
        return model, cutoff, None, None


def auto_states(
    series: MonthlySeries,
    members: Sequence[str],
    factory: ModelFactory,
    at: Sequence[Origin],
    recent: dict[tuple[str, Origin], np.ndarray],
    n_paths: int,
    jobs: int,
    cache_dir: Path | None,
    learn_from: int,
) -> dict[Origin, AutoState]:
    """`auto`'s state at each origin in `at`, learned as the service learns it: from the
    members' backtests of every complete year before (the fit cache makes this cheap)."""
    learn_at = origins(series, learn_from)
    results = backtest.run(
        series, list(members), learn_at, factory, n_paths, jobs=jobs, cache_dir=cache_dir
    )
    prior = resolve_prior("shipped")
    walk = learn_auto(series, list(members), results, learn_at, prior=prior)
    member_cases = {m: cases_for(series, m, results, learn_at) for m in members}
    out = {}
    for origin in at:
        errors = {m: recent.get((m, origin)) for m in members}
        have = [m for m in members if errors[m] is not None]
        out[origin] = state_at(
            origin,
            {m: member_cases[m] for m in have},
            walk.raw,
            {m: errors[m] for m in have},
            features_of(series.through(origin.cutoff)),
            prior,
        )
    return out


def flash_backtest(
    series: MonthlySeries,
    flashes: Sequence[Flash],
    country: str | None,
    members: Sequence[str],
    factory: ModelFactory,
    months: Sequence[int],
    n_paths: int = 1000,
    seed: int = 0,
    jobs: int = 1,
    cache_dir: Path | None = None,
    learn_from: int | None = None,
    trust: Trust | None = None,
    learns: Sequence[str] = LEARNS,
) -> list[FlashCase]:
    """Cases for each month in `months` (month indices, each with its full figure in the
    series) and each variant it has flashes for. A flash is read with `trust`, or (None)
    as the service reads it: the periods in `learns` with the trust learned as the walk
    goes, from that period's months before (`fit_trust`), so no month's own outcome teaches
    its reading; the others with the plain Gaussian update."""
    full = {series.start + i: float(v) for i, v in enumerate(series.values)}
    tasks = [(series, t - 1, m, n_paths, seed, factory) for t in months for m in members]
    if jobs > 1 and len(tasks) > 3:
        fits = list(shared_pool(jobs).map(_member_paths, tasks, chunksize=2))
    else:
        fits = [_member_paths(t) for t in tasks]
    paths = {(m, c + 1): p for m, c, p, _ in fits if p is not None}
    at = [Origin(t // 12, t % 12) for t in months]
    recent = {(m, Origin((c + 1) // 12, (c + 1) % 12)): e for m, c, p, e in fits if p is not None}
    learn_from = learn_from or (series.start + 36) // 12 + 1
    states = auto_states(series, members, factory, at, recent, n_paths, jobs, cache_dir, learn_from)
    by_key = {(f.month, f.period): f for f in flashes}
    cases: list[FlashCase] = []
    # The members' months and flashes of the months before, by flash period: each period's
    # trust is learned from its own (a 1-10 flash says less than a 1-20 one).
    past: dict[str, list[Read]] = {variant: [] for variant in VARIANTS}
    for t, origin in sorted(zip(months, at, strict=True)):
        blocks = {m: paths[(m, t)] for m in members if (m, t) in paths}
        if not blocks or t not in full:
            continue
        state = states[origin]
        months_left = 12 - t % 12
        pairs = history_pairs([f for f in flashes if f.month < t], full)
        year_complete = (t // 12) * 12 + 11 in full
        year_actual = sum(full[t // 12 * 12 + k] for k in range(12)) if year_complete else None
        year_to_date = sum(full[k] for k in range(t // 12 * 12, t) if k in full)
        rng = rng_for(seed, t)
        readings = {
            v: trust if trust is not None else fit_trust(past[v]) if v in learns else GAUSSIAN
            for v in VARIANTS
        }
        for variant in VARIANTS:
            flash = by_key.get((t, variant))
            if variant != "none" and flash is None:
                continue
            weights = dict(state.weights)
            mix, labels = _mix(blocks, weights)
            belief, reads = None, ()
            if flash is not None:
                try:
                    belief = fit_ratio(pairs, variant, country).belief(flash)
                except NotEnoughHistory:
                    continue
                reads = _reads(mix, labels, belief, full[t])
                past[variant].extend(reads)
                mix = condition_paths(mix, labels, belief, rng, readings[variant])
            # As a live forecast does it: the flash read into the members' paths, then the
            # calibration learned from backtests without flashes.
            mix = calibrate_paths(mix, months_left, state.scale)
            (year,) = totals.year_totals(mix[:, :months_left], t, year_to_date, years=1)
            cases.append(
                FlashCase(
                    month=t,
                    variant=variant,
                    month_actual=full[t],
                    month_median=float(np.median(mix[:, 0])),
                    month_intervals=totals.intervals(mix[:, 0], LEVELS),
                    year_actual=year_actual,
                    year_median=float(np.median(year.totals)),
                    year_intervals=totals.intervals(year.totals, LEVELS),
                    weights=weights,
                    implied_median=None if belief is None else belief.median,
                    implied_intervals=(
                        None if belief is None else {lv: belief.interval(lv) for lv in LEVELS}
                    ),
                    reads=reads,
                )
            )
    return cases


def _reads(
    mix: np.ndarray, labels: np.ndarray, belief: MonthBelief, actual: float
) -> tuple[Read, ...]:
    """Each member's month (as its paths in the mixture say it) with the flash's reading."""
    out = []
    for label in np.unique(labels):
        logs = np.log(mix[labels == label, 0])
        if len(logs) > 1:
            out.append(
                Read(
                    float(logs.mean()),
                    float(logs.var(ddof=1)),
                    belief.log_mean,
                    belief.log_sd**2,
                    float(np.log(actual)),
                )
            )
    return tuple(out)


def _mix(blocks: dict[str, np.ndarray], weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """The members' paths mixed as `auto` mixes them (calibrated by the caller)."""
    names = list(blocks)
    n = min(len(b) for b in blocks.values())
    counts = allocate(n, [weights.get(k, 0.0) for k in names])
    parts = [blocks[k][:c].astype(float) for k, c in zip(names, counts, strict=True)]
    labels = np.concatenate([np.full(c, i) for i, c in enumerate(counts)])
    return np.vstack(parts), labels


def summary(cases: Sequence[FlashCase], variant: str, years: range | None = None) -> dict:
    """Mean month error, year-end error and coverage for one variant."""
    mine = [c for c in cases if c.variant == variant and (years is None or c.month // 12 in years)]
    scored = [c for c in mine if c.year_actual is not None]
    out = {
        "n_months": len(mine),
        "month_mape": float(np.mean([c.month_error for c in mine])) if mine else float("nan"),
        "month_cover": {
            lv: float(np.mean([c.month_covered(lv) for c in mine])) if mine else float("nan")
            for lv in LEVELS
        },
        "implied_mape": (
            float(np.mean([abs(c.implied_median / c.month_actual - 1) * 100 for c in mine]))
            if mine and mine[0].implied_median is not None
            else float("nan")
        ),
        "implied_cover": {
            lv: float(np.mean([_inside(c.month_actual, c.implied_intervals[lv]) for c in mine]))
            if mine and mine[0].implied_intervals is not None
            else float("nan")
            for lv in LEVELS
        },
        "n_years": len(scored),
        "year_mape": (float(np.mean([c.year_error for c in scored])) if scored else float("nan")),
        "year_cover": {
            lv: float(np.mean([c.year_covered(lv) for c in scored])) if scored else float("nan")
            for lv in LEVELS
        },
    }
    return out


def _inside(value: float, interval: tuple[float, float]) -> bool:
    return interval[0] <= value <= interval[1]
