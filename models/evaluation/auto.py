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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from exportcast.models.calibration import YearStep, calibrate_years
from exportcast.models.evaluation import backtest, learning
from exportcast.models.evaluation.backtest import ModelFactory, Progress, logged_progress
from exportcast.models.evaluation.origins import HORIZONS, Fitted, Origin, Results, origins
from exportcast.models.evaluation.scoring import Case, case_from_draws, expected_error, score
from exportcast.models.families.base import FittedModel
from exportcast.models.prior import evidence
from exportcast.models.prior.features import features as features_of
from exportcast.models.prior.pooled import Prior, kernel_months, shipped
from exportcast.models.prior.posterior import posterior
from exportcast.models.references import PERCENTILES
from exportcast.models.series import MonthlySeries, format_month

log = logging.getLogger("exportcast.models.learning")

CALIBRATION_LEVEL = 80.0
TRACKED_HORIZONS = 2  # a year's backtest track record starts in the year before it
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
    # What the series' own cases update: the prior shipped in the package ("shipped"),
    # another, or None to learn from the series alone.
    prior: Prior | str | None = "shipped"
    # False: learn from the backtest fits already cached, make none (a version served at
    # once; the prior alone when none are cached). The summary counts the fits missing.
    fit_missing: bool = True


def resolve_prior(prior: Prior | str | None) -> Prior | None:
    """The prior a `prior` setting names ("shipped": the package's)."""
    if isinstance(prior, str):
        if prior != "shipped":
            raise ValueError(f"prior {prior!r}: give a Prior, None or 'shipped'")
        return shipped()
    return prior


@dataclass(frozen=True)
class AutoState:
    """What `auto` decided at one origin, from data before it.

    `scale` widens the unknown part of the year in progress; `years[k]` corrects the
    total of horizon k + 2 (the years after it) on top, each learned from past cases of
    its own horizon."""

    weights: dict[str, float]
    scale: float
    break_detected: bool
    surprise: float
    years: tuple[YearStep, ...] = ()
    own_cases: float = 0.0  # the series' own year-in-progress cases, weighed by the kernel

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights": {k: round(v, 4) for k, v in self.weights.items()},
            "calibration_scale": round(self.scale, 4),
            "horizon_calibration": {
                str(h): {
                    "growth": round(step.growth, 4),
                    "spread": round(step.spread, 4),
                    "tail": round(step.tail, 4),
                }
                for h, step in enumerate(self.years, start=2)
            },
            "break_detected": self.break_detected,
            "surprise": round(self.surprise, 3),
            "own_cases": round(self.own_cases, 2),
        }


def year_to_date_at(series: MonthlySeries, origin: Origin) -> float:
    return series.through(origin.cutoff).year_to_date(origin.year)[1]


def complete_total(series: MonthlySeries, year: int) -> float | None:
    """The year's total if all twelve months are published, else None."""
    months, total = series.year_to_date(year)
    return total if months == 12 else None


def case_at(
    series: MonthlySeries,
    model: str,
    origin: Origin,
    h: int,
    draws: np.ndarray,
    anchor: float | None = None,
) -> Case | None:
    """The case of horizon h at `origin` from these draws; None while its year is not
    complete in the series. `anchor`: the median of the origin's year, as served."""
    year = origin.year + h - 1
    actual = complete_total(series, year)
    if actual is None:
        return None
    return case_from_draws(
        model,
        year,
        origin.m,
        actual,
        year_to_date_at(series, origin) if h == 1 else 0.0,
        draws,
        horizon=h,
        last_total=complete_total(series, origin.year - 1),
        anchor=anchor,
    )


def cases_for(
    series: MonthlySeries,
    model: str,
    results: Results,
    at: Sequence[Origin],
    horizons: Sequence[int] = (1,),
) -> list[Case]:
    """The model's cases at each origin and horizon whose year is complete in the series."""
    out = []
    for origin in at:
        fitted = results.get((model, origin))
        if fitted is None:
            continue
        for h in horizons:
            draws = fitted.horizon(h)
            case = None if draws is None else case_at(series, model, origin, h, draws)
            if case is not None:
                out.append(case)
    return out


def state_at(
    origin: Origin,
    member_cases: Mapping[str, Sequence[Case]],
    raw_cases: Sequence[Case],
    recent_errors: Mapping[str, np.ndarray | None],
    features: np.ndarray | None = None,
    prior: Prior | None = None,
) -> AutoState:
    """`auto`'s weights and calibration at `origin`, from the prior updated by the cases of
    years before it (every months-known, weighed by the kernel in m: `prior.posterior`).

    Weights come from the members' year-in-progress cases; each calibration from the
    uncalibrated mixture's past cases of its horizon (`raw_cases`), so a factor says how
    far the mixture itself was off, not how far an earlier correction was. One growth
    share serves every later year, learned from the cases of all of them (four times the
    cases of one horizon); a spread for each horizon."""

    def before(cases: Sequence[Case]) -> list[Case]:
        return [c for c in cases if c.year < origin.year]

    own = evidence.from_cases(
        {name: [c for c in before(cs) if c.horizon == 1] for name, cs in member_cases.items()},
        before(raw_cases),
    )
    learned = posterior(
        prior,
        own,
        np.zeros(0) if features is None else features,
        origin.m,
        list(member_cases),
    )
    errors = {k: (v if v is not None else np.array([])) for k, v in recent_errors.items()}
    mix = learning.blend(learned.weights, errors)
    return AutoState(
        mix.weights,
        learned.scale,
        mix.break_detected,
        mix.surprise,
        learned.steps,
        learned.own_cases,
    )


def year_draws(fitted: Fitted) -> np.ndarray:
    """A fit's draws by horizon, (years, n_draws)."""
    if fitted.ahead is None:
        return np.asarray(fitted.totals, dtype=float)[None, :]
    return np.vstack([fitted.totals, fitted.ahead]).astype(float)


def auto_draws(
    state: AutoState,
    fits: Mapping[str, Fitted],
    year_to_date: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The mixture's draws by horizon before and after calibration, (years, n_draws) each.

    "Before" is what each correction is learned from: the first year raw, the later years
    as the first year's calibration leaves them (their own step not yet applied)."""
    years = {k: year_draws(f) for k, f in fits.items()}
    depth = min(len(y) for y in years.values())
    mix = learning.mixture({k: y[:depth] for k, y in years.items()}, state.weights, MIX_DRAWS)
    moved = calibrate_years(mix, year_to_date, state.scale)
    raw = np.vstack([mix[:1], moved[1:]])
    return raw, calibrate_years(mix, year_to_date, state.scale, state.years)


@dataclass(frozen=True)
class Walk:
    """`auto` walked forward through the origins: its cases at every horizon, the same
    cases before calibration (what the factors learn from), and its state at each origin."""

    cases: list[Case]
    raw: list[Case]
    states: dict[Origin, AutoState]
    # The percentiles 1-99 of the totals of horizons 1..TRACKED_HORIZONS at each origin, as
    # served, whether or not those years are complete yet.
    percentiles: dict[tuple[Origin, int], np.ndarray] = field(default_factory=dict)
    # The calibrated draws by horizon, (years, MIX_DRAWS), at each origin, when asked for.
    draws: dict[Origin, np.ndarray] = field(default_factory=dict)


def learn_auto(
    series: MonthlySeries,
    members: Sequence[str],
    results: Results,
    at: Sequence[Origin],
    keep_draws: bool = False,
    prior: Prior | str | None = "shipped",
) -> Walk:
    """`auto`'s cases at every origin and horizon, walking forward in time (no look-ahead);
    with `keep_draws`, its draws at every origin too (a hierarchy reconciles them).

    Members missing from `results` at an origin (left out of the backtest there) are left
    out of the mixture there; an origin without any member gets no case."""
    prior = resolve_prior(prior)
    member_cases = {m: cases_for(series, m, results, at) for m in members}
    walk = Walk([], [], {}, {})
    for origin in sorted(at, key=lambda o: o.cutoff):
        fits = {m: results[(m, origin)] for m in members if (m, origin) in results}
        if not fits:
            continue
        state = state_at(
            origin,
            {m: member_cases[m] for m in fits},
            walk.raw,
            {m: f.recent_errors for m, f in fits.items()},
            features_of(series.through(origin.cutoff)),
            prior,
        )
        walk.states[origin] = state
        raw, calibrated = auto_draws(state, fits, year_to_date_at(series, origin))
        anchor = float(np.median(calibrated[0]))
        if keep_draws:
            walk.draws[origin] = calibrated
        for h in range(1, min(TRACKED_HORIZONS, len(calibrated)) + 1):
            walk.percentiles[(origin, h)] = np.percentile(calibrated[h - 1], PERCENTILES)
        for h in range(1, len(raw) + 1):
            case = case_at(series, "auto", origin, h, calibrated[h - 1], anchor)
            before = case_at(series, "auto", origin, h, raw[h - 1], anchor)
            if case is None or before is None:
                break
            walk.cases.append(case)
            walk.raw.append(before)
    return walk


@dataclass(frozen=True)
class Learned:
    """`auto`'s state for now, with a summary of the evidence it was learned from."""

    state: AutoState
    summary: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {**self.state.to_dict(), **self.summary}


def group_months(m: int) -> list[int]:
    """The months known that share m's group (the hierarchy's calibration learns by group)."""
    return [k for k in range(12) if learning.m_group(k) == learning.m_group(m)]


def first_learning_year(series: MonthlySeries, how: Learning) -> int:
    return how.first_year or (series.start + 36) // 12 + 1


def learning_origins(series: MonthlySeries, now: Origin, how: Learning) -> list[Origin]:
    """The past origins `auto` learns from at `now`: every year before it, at the months
    known whose cases the kernel around now's counts (a window that slides one month at a
    time, so a new month reuses most of the last one's fits)."""
    return origins(series, first_learning_year(series, how), now.year - 1, kernel_months(now.m))


def now_of(series: MonthlySeries) -> Origin:
    return Origin((series.end + 1) // 12, (series.end + 1) % 12)


def fit_backtests(
    series: MonthlySeries,
    members: Sequence[str],
    at: Sequence[Origin],
    factory: ModelFactory,
    how: Learning,
    progress: Progress,
) -> backtest.Backtest:
    """The members' backtest fits at `at`, the way `how` says to make them."""
    return backtest.run(
        series,
        list(members),
        at,
        factory,
        how.n_paths,
        jobs=how.jobs,
        cache_dir=how.cache_dir,
        progress=progress,
        executor=how.executor,
        fit_missing=how.fit_missing,
    )


def fill_now(
    series: MonthlySeries, members: Sequence[str], factory: ModelFactory, how: Learning
) -> int:
    """Fit (into the cache) the backtests `learn_now` learns from at the series' last
    month that are not there yet; how many are still missing then (fits that cannot be
    made, too short a history at an origin). After a version learned from the fits at
    hand, this is what a refined version needs, and fewer missing says it would learn more."""
    at = learning_origins(series, now_of(series), how)
    if len({o.year for o in at}) < 3 or how.cache_dir is None:
        return 0
    full = replace(how, fit_missing=True)
    return len(fit_backtests(series, members, at, factory, full, lambda done, total: None).skipped)


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
    how = replace(how, fit_missing=True)  # made ahead is made, whatever the retrain does
    made = 0

    def count(done: int, total: int) -> None:
        nonlocal made
        made = total

    fit_backtests(series, members, at, factory, how, count)
    return made


def track_points(walk: Walk, from_year: int) -> list[dict[str, Any]]:
    """`auto`'s backtest projections of the year in progress and the next (a track record
    from before the service ran): at each origin from `from_year`, the median, intervals
    and percentiles 1-99 of those years' totals, with the data through the cut-off only."""
    out = []
    for (origin, h), q in sorted(
        walk.percentiles.items(), key=lambda kv: (kv[0][0].cutoff, kv[0][1])
    ):
        if origin.year < from_year:
            continue
        out.append(
            {
                "year": origin.year + h - 1,
                "data_through": format_month(origin.cutoff),
                "months_observed": origin.m if h == 1 else 0,
                "median": round(float(q[49]), 1),
                "intervals": {"80": [round(float(q[9]), 1), round(float(q[89]), 1)]},
                "percentiles": [round(float(x), 1) for x in q],
            }
        )
    return out


TRACK_GROUPS = 4  # months-known groups (m // 3): a full track is made one group at a time


def full_track(
    series: MonthlySeries,
    members: Sequence[str],
    factory: ModelFactory,
    how: Learning,
    group: int = TRACK_GROUPS - 1,
) -> list[dict[str, Any]] | None:
    """The backtest track record at every months-known: `auto` walked through every origin
    (year, m = 0..11) of every complete year, learning at each as the service would have
    then, and its projections of the year in progress and the next (`track_points`).

    `learn_now` fits only the months-known group of now; this fits the others too (cached:
    the same fits later retrains learn from). It is made in steps so that no step holds a
    training slot for long: `group` g fits the origins of that group and returns None,
    until the last group, which reads every group's fits back, walks all origins and
    returns the points ([] without three years to learn from)."""
    first = first_learning_year(series, how)
    how = replace(how, fit_missing=True)  # the track record is made in full, however slowly
    last = group == TRACK_GROUPS - 1
    months = range(12) if last else [m for m in range(12) if learning.m_group(m) == group]
    at = origins(series, first, months=months)
    if len({o.year for o in at}) < 3:
        return []
    results = fit_backtests(
        series, members, at, factory, how, how.progress or (lambda done, total: None)
    )
    if not last:
        return None
    return track_points(learn_auto(series, list(members), results, at), first + 3)


def prior_summary(prior: Prior | None) -> dict[str, Any] | None:
    """What a version says of the prior it learned with."""
    if prior is None:
        return None
    return {"pseudo_cases": prior.pseudo_cases, "sources": list(prior.sources)}


def learn_now(
    series: MonthlySeries,
    fitted: Sequence[FittedModel],
    factory: ModelFactory,
    how: Learning,
) -> Learned | None:
    """Backtest the members on past years at the months known around now, and return
    `auto`'s state for now: the prior updated by those cases. Without backtests (`how`
    says so, or too short a history) the prior alone; None with neither. A member that
    cannot be fitted at some past origins is learned from the others (and the summary
    says which were left out)."""
    now = now_of(series)
    months = kernel_months(now.m)
    first_year = first_learning_year(series, how)
    at = learning_origins(series, now, how)
    prior = resolve_prior(how.prior)
    names = [f.name for f in fitted]
    recent = {f.name: f.recent_errors(3) for f in fitted}
    features = features_of(series)
    if len({o.year for o in at}) < 3:
        if prior is None:
            return None
        state = state_at(now, {n: [] for n in names}, [], recent, features, prior)
        return Learned(state, {"prior": prior_summary(prior), "fits_missing": 0})
    started = time.perf_counter()
    months_label = f"{months[0]}-{months[-1]}"
    label = (
        f"{series.id}: learning from backtests at {min(o.year for o in at)}-"
        f"{max(o.year for o in at)}, m in {months}"
    )
    results = fit_backtests(
        series, names, at, factory, how, how.progress or logged_progress(log, label)
    )
    walk = learn_auto(series, names, results, at, prior=prior)
    horizons = range(1, HORIZONS + 1)
    member_cases = {n: cases_for(series, n, results, at, horizons) for n in names}
    state = state_at(now, member_cases, walk.raw, recent, features, prior)
    # Scored once calibration has had three years to learn from.
    scored = [c for c in walk.cases if c.origin_year >= first_year + 3]
    summary: dict[str, Any] = {
        "prior": prior_summary(prior),
        "fits_missing": results.missing,
        "expected_error": expected_error(scored, now.m),
        "expected_error_by_horizon": [expected_error(scored, now.m, h) for h in horizons],
        "backtest": {
            "origins": f"{min(o.year for o in at)}-{max(o.year for o in at)}, m in {months}",
            "mape_pct_by_m": {
                name: {
                    str(m): round(score(mine, name, str(m)).mape, 3)
                    for m in months
                    if (mine := [c for c in cases if c.m == m and c.horizon == 1])
                }
                for name, cases in {"auto": scored, **member_cases}.items()
            },
            "mape_pct_by_horizon": {
                name: {
                    str(h): round(score(mine, name, months_label).mape, 3)
                    for h in horizons
                    if (mine := [c for c in cases if c.horizon == h])
                }
                for name, cases in {"auto": scored, **member_cases}.items()
            },
        },
    }
    if results.skipped:
        summary["backtest"]["left_out"] = backtest.left_out(results.skipped)
    summary["track"] = track_points(walk, first_year + 3)
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
