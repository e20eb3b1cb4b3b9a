"""The yardstick and the learned `auto`, on one code path.

`learn_auto` walks origins in time order. At each, it weights the members by their past
errors on the same months-known group (years that ended before the origin), leans away
from members the latest months surprised (a break), mixes their draws, and widens or
narrows the mixture by a conformal factor learned from its own past cases. The live fit
runs the same walk and stops at "now", so the service serves what the backtest measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models import backtest, learning
from models.backtest import Fitted, Origin, Results
from models.baselines import BASELINES
from models.scoring import Case, Score, case_from_draws, score, score_table
from models.series import MonthlySeries

CALIBRATION_LEVEL = 80.0
MIX_DRAWS = 1000


@dataclass(frozen=True)
class AutoState:
    """What `auto` decided at one origin, from data before it."""

    weights: dict[str, float]
    scale: float
    break_detected: bool
    surprise: float

    def to_dict(self) -> dict:
        return {
            "weights": {k: round(v, 4) for k, v in self.weights.items()},
            "calibration_scale": round(self.scale, 4),
            "break_detected": self.break_detected,
            "surprise": round(self.surprise, 3),
        }


def year_to_date_at(series: MonthlySeries, origin: Origin) -> float:
    return series.through(origin.cutoff).year_to_date(origin.year)[1]


def cases_for(
    series: MonthlySeries, model: str, results: Results, at: Sequence[Origin]
) -> list[Case]:
    out = []
    for origin in at:
        fitted = results.get((model, origin))
        if fitted is None:
            continue
        out.append(
            case_from_draws(
                model,
                origin.year,
                origin.m,
                series.year_to_date(origin.year)[1],
                year_to_date_at(series, origin),
                fitted.totals,
            )
        )
    return out


def state_at(
    origin: Origin,
    member_cases: Mapping[str, Sequence[Case]],
    auto_cases: Sequence[Case],
    recent_errors: Mapping[str, np.ndarray | None],
) -> AutoState:
    """`auto`'s weights and calibration at `origin`, from cases of years before it."""
    g = learning.m_group(origin.m)

    def before(cases: Sequence[Case]) -> list[Case]:
        return [c for c in cases if c.year < origin.year and learning.m_group(c.m) == g]

    prior = learning.skill_weights({name: before(cs) for name, cs in member_cases.items()})
    errors = {k: (v if v is not None else np.array([])) for k, v in recent_errors.items()}
    mix = learning.blend(prior, errors)
    scale = learning.calibration_scale(before(auto_cases), CALIBRATION_LEVEL)
    return AutoState(mix.weights, scale, mix.break_detected, mix.surprise)


def auto_draws(state: AutoState, fits: Mapping[str, Fitted], year_to_date: float) -> np.ndarray:
    draws = learning.mixture({k: f.totals for k, f in fits.items()}, state.weights, MIX_DRAWS)
    return learning.rescale(draws, year_to_date, state.scale)


def learn_auto(
    series: MonthlySeries, members: Sequence[str], results: Results, at: Sequence[Origin]
) -> tuple[list[Case], dict[Origin, AutoState]]:
    """`auto`'s case at every origin, walking forward in time (no look-ahead)."""
    member_cases = {m: cases_for(series, m, results, at) for m in members}
    auto_cases: list[Case] = []
    states: dict[Origin, AutoState] = {}
    for origin in sorted(at, key=lambda o: o.cutoff):
        fits = {m: results[(m, origin)] for m in members if (m, origin) in results}
        if not fits:
            continue
        state = state_at(
            origin,
            {m: member_cases[m] for m in fits},
            auto_cases,
            {m: f.recent_errors for m, f in fits.items()},
        )
        states[origin] = state
        draws = auto_draws(state, fits, year_to_date_at(series, origin))
        auto_cases.append(
            case_from_draws(
                "auto",
                origin.year,
                origin.m,
                series.year_to_date(origin.year)[1],
                year_to_date_at(series, origin),
                draws,
            )
        )
    return auto_cases, states


@dataclass
class Report:
    cases: list[Case]
    scores: list[Score]
    seconds: float
    fit_seconds: dict[str, float]
    states: dict[Origin, AutoState] = field(default_factory=dict)

    def mape(self, model: str, m: int) -> float:
        return next(s.mape for s in self.scores if s.model == model and s.months == str(m))


def yardstick(
    series: MonthlySeries,
    members: Sequence[str],
    models: Sequence[str] = (),
    from_year: int = 2010,
    to_year: int | None = None,
    learn_years: int = 6,
    n_paths: int = 1000,
    jobs: int = 1,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Backtest `auto` (learned from `members`), each member, `models` and the naive
    baselines on every (year, m) from `from_year`. Members also run on the `learn_years`
    before it, so that `auto` has a past to learn from at the first scored origin."""
    started = time.perf_counter()
    first = max(from_year - learn_years, (series.start + 36) // 12)
    learn_at = backtest.origins(series, first, to_year)
    scored_at = [o for o in learn_at if o.year >= from_year]
    fitted_models = list(dict.fromkeys([*members, *models]))
    results = backtest.run(
        series, fitted_models, learn_at, n_paths, jobs=jobs, cache_dir=cache_dir, progress=progress
    )
    for name in BASELINES:
        results.update(backtest.run(series, [name], scored_at))
    auto_cases, states = learn_auto(series, members, results, learn_at)
    cases = [c for c in auto_cases if c.year >= from_year]
    for name in [*fitted_models, *BASELINES]:
        cases.extend(cases_for(series, name, results, scored_at))
    fit_seconds = {
        name: float(sum(results[(name, o)].seconds for o in learn_at if (name, o) in results))
        for name in fitted_models
    }
    return Report(cases, score_table(cases), time.perf_counter() - started, fit_seconds, states)


def expected_error(cases: Sequence[Case], m: int) -> dict:
    """How far `auto` was off at this many months known, over the years it was tested."""
    mine = [c for c in cases if c.m == m]
    if not mine:
        return {"m": m, "n": 0}
    s = score(mine, "auto", str(m))
    return {
        "m": m,
        "n": s.n,
        "years": [min(c.year for c in mine), max(c.year for c in mine)],
        "mape_pct": round(s.mape, 3),
        "bias_pct": round(s.bias, 3),
        "coverage": {f"{k:g}": (None if v is None else round(v, 3)) for k, v in s.coverage.items()},
    }
