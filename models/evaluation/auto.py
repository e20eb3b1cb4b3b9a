"""How `auto` learns, on one code path for the backtest and the live fit.

`learn_auto` walks origins in time order. At each, it weights the members by their past
errors on the same months-known group (years that ended before the origin), leans away
from members the latest months surprised (a break), mixes their draws, and widens or
narrows the mixture by a conformal factor learned from its own past cases. `learn_now`
runs the same walk and stops at "now", so the service serves what the backtest measured.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from exportcast.models.evaluation import backtest, learning
from exportcast.models.evaluation.backtest import ModelFactory, Progress, logged_progress
from exportcast.models.evaluation.origins import Fitted, Origin, Results, origins
from exportcast.models.evaluation.scoring import Case, case_from_draws, expected_error, score
from exportcast.models.families.base import FittedModel
from exportcast.models.series import MonthlySeries, format_month

log = logging.getLogger("exportcast.models.learning")

CALIBRATION_LEVEL = 80.0
MIX_DRAWS = 1000


@dataclass(frozen=True)
class Learning:
    """How `auto` learns: from which year, with how many paths per backtest fit, where fits
    are cached, and on how many processes; `progress` hears of the backtest fits (they are
    logged at INFO when it is None)."""

    first_year: int | None = None
    n_paths: int = 500
    cache_dir: Path | None = None
    jobs: int = 1
    progress: Progress | None = None
    executor: Executor | None = None  # a cluster's, say: then `jobs` is not used


@dataclass(frozen=True)
class AutoState:
    """What `auto` decided at one origin, from data before it."""

    weights: dict[str, float]
    scale: float
    break_detected: bool
    surprise: float

    def to_dict(self) -> dict[str, Any]:
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

    past = {name: before(cs) for name, cs in member_cases.items()}
    # Members are compared on the origins they all have: one left out at some (too short a
    # history then) is not scored against the others on a different set of years.
    shared = set.intersection(*[{(c.year, c.m) for c in cs} for cs in past.values()] or [set()])
    past = {name: [c for c in cs if (c.year, c.m) in shared] for name, cs in past.items()}
    prior = learning.skill_weights(past)
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
    """`auto`'s case at every origin, walking forward in time (no look-ahead).

    Members missing from `results` at an origin (left out of the backtest there) are left
    out of the mixture there; an origin without any member gets no case."""
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


@dataclass(frozen=True)
class Learned:
    """`auto`'s state for now, with a summary of the evidence it was learned from."""

    state: AutoState
    summary: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {**self.state.to_dict(), **self.summary}


def group_months(m: int) -> list[int]:
    """The months known that share m's group."""
    return [k for k in range(12) if learning.m_group(k) == learning.m_group(m)]


def first_learning_year(series: MonthlySeries, how: Learning) -> int:
    return how.first_year or (series.start + 36) // 12 + 1


def learning_origins(series: MonthlySeries, now: Origin, how: Learning) -> list[Origin]:
    """The past origins `auto` learns from at `now`: every year before it, at the months
    of now's months-known group."""
    return origins(series, first_learning_year(series, how), now.year - 1, group_months(now.m))


def now_of(series: MonthlySeries) -> Origin:
    return Origin((series.end + 1) // 12, (series.end + 1) % 12)


def prefetch_next(
    series: MonthlySeries, members: Sequence[str], factory: ModelFactory, how: Learning
) -> int:
    """Fit (into the cache) the backtests `learn_now` will need once the next month is
    published; the number of fits made.

    Those origins end before the next month, so their fits are known now: made while the
    service is idle, they turn a retrain that starts a new months-known group from dozens
    of fits into a few cache reads."""
    upcoming = Origin((series.end + 2) // 12, (series.end + 2) % 12)
    at = learning_origins(series, upcoming, how)
    if len({o.year for o in at}) < 3 or how.cache_dir is None:
        return 0
    made = 0

    def count(done: int, total: int) -> None:
        nonlocal made
        made = total

    backtest.run(
        series,
        list(members),
        at,
        factory,
        how.n_paths,
        jobs=how.jobs,
        cache_dir=how.cache_dir,
        progress=count,
        executor=how.executor,
    )
    return made


def learn_now(
    series: MonthlySeries,
    fitted: Sequence[FittedModel],
    factory: ModelFactory,
    how: Learning,
) -> Learned | None:
    """Backtest the members on past years at the same months-known group as now, and
    return `auto`'s state for now; None without enough history to learn from. A member
    that cannot be fitted at some past origins is learned from the others (and the summary
    says which were left out)."""
    now = now_of(series)
    months = group_months(now.m)
    first_year = first_learning_year(series, how)
    at = learning_origins(series, now, how)
    if len({o.year for o in at}) < 3:
        return None
    names = [f.name for f in fitted]
    started = time.perf_counter()
    label = (
        f"{series.id}: learning from backtests at {min(o.year for o in at)}-"
        f"{max(o.year for o in at)}, m in {months}"
    )
    results = backtest.run(
        series,
        names,
        at,
        factory,
        how.n_paths,
        jobs=how.jobs,
        cache_dir=how.cache_dir,
        progress=how.progress or logged_progress(log, label),
        executor=how.executor,
    )
    auto_cases, _ = learn_auto(series, names, results, at)
    member_cases = {n: cases_for(series, n, results, at) for n in names}
    state = state_at(now, member_cases, auto_cases, {f.name: f.recent_errors(3) for f in fitted})
    scored = [c for c in auto_cases if c.year >= first_year + 3]
    summary = {
        "expected_error": expected_error(scored, now.m),
        "backtest": {
            "origins": f"{min(o.year for o in at)}-{max(o.year for o in at)}, m in {months}",
            "mape_pct_by_m": {
                name: {
                    str(m): round(score([c for c in cases if c.m == m], name, str(m)).mape, 3)
                    for m in months
                    if any(c.m == m for c in cases)
                }
                for name, cases in {"auto": scored, **member_cases}.items()
            },
        },
    }
    if results.skipped:
        summary["backtest"]["left_out"] = backtest.left_out(results.skipped)
    log.info(
        "%s: learned with data through %s in %.1fs: weights %s, calibration x%.2f%s",
        series.id,
        format_month(series.end),
        time.perf_counter() - started,
        ", ".join(f"{k} {v:.2f}" for k, v in state.weights.items()),
        state.scale,
        ", break detected" if state.break_detected else "",
    )
    return Learned(state, summary)
