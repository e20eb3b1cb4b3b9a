"""Multi-year totals backtested: from each origin, the totals of the years in progress and
after it (horizons 1-5), for `auto`, its members and annual baselines in the same run.

The fits are the yardstick's own (each backtest fit draws five calendar years), so this
costs no fit beyond the year-end backtest. Scores: error, bias, coverage and interval score
by horizon; the Brier score of P(total >= ratio x the last complete year's total) for the
threshold ratios in `scoring.THRESHOLD_RATIOS`; and a reliability table of those
probabilities.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy.stats import norm

from exportcast.models.evaluation import backtest
from exportcast.models.evaluation.auto import cases_for, complete_total, learn_auto
from exportcast.models.evaluation.backtest import ModelFactory, Progress, Skipped
from exportcast.models.evaluation.origins import HORIZONS, Origin, origins
from exportcast.models.evaluation.scoring import Case, Score, case_from_draws, score
from exportcast.models.series import MonthlySeries

# Points of a lognormal baseline read as draws: evenly spaced quantiles, so that intervals
# and probabilities come out of the same code as the models' draws.
BASELINE_DRAWS = 2000
_GRID = norm.ppf((np.arange(BASELINE_DRAWS) + 0.5) / BASELINE_DRAWS)

ANNUAL_BASELINES = ("flat", "cagr10", "rw_drift")


def annual_totals(series: MonthlySeries, through: int) -> np.ndarray:
    """Totals of the complete years up to `through`, oldest first."""
    out = []
    for year in range(series.start // 12, through + 1):
        total = complete_total(series, year)
        if total is not None:
            out.append(total)
    return np.array(out)


def baseline_draws(series: MonthlySeries, origin: Origin, h: int) -> dict[str, np.ndarray]:
    """The annual baselines' draws of horizon h's total at `origin`, from the complete years
    before the origin's year (none of the year in progress: they are annual models).

    Each is lognormal: `flat` repeats the last year's total with the past years' growth as
    a driftless random walk's spread; `cagr10` grows it by the compound growth of the ten
    years before, spread by their growth's deviation; `rw_drift` is a random walk with
    drift on the log totals, with the drift's own uncertainty. Empty with fewer than four
    complete years."""
    annual = annual_totals(series, origin.year - 1)
    if len(annual) < 4:
        return {}
    growth = np.diff(np.log(annual))
    last = annual[-1]
    n = len(growth)
    recent = growth[-10:]
    centres = {
        "flat": (0.0, float(np.sqrt(np.mean(growth**2))) * np.sqrt(h)),
        "cagr10": (float(recent.mean()) * h, float(recent.std(ddof=1)) * np.sqrt(h)),
        "rw_drift": (float(growth.mean()) * h, float(growth.std(ddof=1)) * np.sqrt(h + h * h / n)),
    }
    return {name: last * np.exp(mu + sd * _GRID) for name, (mu, sd) in centres.items()}


def baseline_cases(
    series: MonthlySeries, at: Sequence[Origin], horizons: Sequence[int]
) -> list[Case]:
    out = []
    for origin in at:
        last_total = complete_total(series, origin.year - 1)
        for h in horizons:
            year = origin.year + h - 1
            actual = complete_total(series, year)
            if actual is None:
                continue
            for name, draws in baseline_draws(series, origin, h).items():
                out.append(
                    case_from_draws(
                        name, year, origin.m, actual, 0.0, draws, horizon=h, last_total=last_total
                    )
                )
    return out


def brier(cases: Sequence[Case]) -> float:
    """Mean squared error of P(total >= threshold) over cases and thresholds."""
    errors = [
        (p - float(c.actual >= ratio * c.last_total)) ** 2
        for c in cases
        if c.last_total
        for ratio, p in c.probabilities.items()
    ]
    return float(np.mean(errors)) if errors else float("nan")


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    n: int
    predicted: float  # mean predicted probability in the bin
    observed: float  # share of those thresholds reached


def reliability(cases: Sequence[Case], bins: int = 10) -> list[ReliabilityBin]:
    """Predicted probability in bins against how often the threshold was reached."""
    pairs = np.array(
        [
            (p, float(c.actual >= ratio * c.last_total))
            for c in cases
            if c.last_total
            for ratio, p in c.probabilities.items()
        ]
    ).reshape(-1, 2)
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for i in range(bins):
        low, high = edges[i], edges[i + 1]
        inside = (pairs[:, 0] >= low) & ((pairs[:, 0] < high) | (i == bins - 1))
        if inside.any():
            p, hit = pairs[inside].T
            out.append(
                ReliabilityBin(low, high, int(inside.sum()), float(p.mean()), float(hit.mean()))
            )
    return out


@dataclass(frozen=True)
class HorizonScore:
    """One model's score at one horizon, pooled over the origins' months known."""

    score: Score
    horizon: int
    brier: float

    def to_dict(self) -> dict:
        return {**self.score.to_dict(), "horizon": self.horizon, "brier": round(self.brier, 4)}


@dataclass
class HorizonReport:
    series: str
    cases: list[Case]
    seconds: float
    skipped: Skipped = field(default_factory=dict)

    def models(self) -> list[str]:
        return list(dict.fromkeys(c.model for c in self.cases))

    def horizons(self) -> list[int]:
        return sorted({c.horizon for c in self.cases})

    def select(self, model: str, horizon: int | None = None) -> list[Case]:
        return [
            c for c in self.cases if c.model == model and (horizon is None or c.horizon == horizon)
        ]

    def score(self, model: str, horizon: int) -> HorizonScore | None:
        mine = self.select(model, horizon)
        if not mine:
            return None
        return HorizonScore(score(mine, model, "all"), horizon, brier(mine))

    def scores(self) -> list[HorizonScore]:
        return [
            s
            for model in self.models()
            for h in self.horizons()
            if (s := self.score(model, h)) is not None
        ]


def pool(reports: Sequence[HorizonReport], name: str = "pooled") -> HorizonReport:
    """One report of every series' cases, scored together (the same models in each)."""
    cases = [c for r in reports for c in r.cases]
    skipped = {k: v for r in reports for k, v in r.skipped.items()}
    return HorizonReport(name, cases, sum(r.seconds for r in reports), skipped)


def parse_horizons(text: str) -> list[int]:
    """ "1-5" or "1,2,5" -> [1, 2, 3, 4, 5] / [1, 2, 5], each within 1..HORIZONS."""
    out: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise ValueError(f"horizons {text!r}: use a range such as 1-5 or a list such as 1,3")
        out.update(range(int(low), int(high or low) + 1))
    if not out or min(out) < 1 or max(out) > HORIZONS:
        raise ValueError(f"horizons {text!r}: each must be between 1 and {HORIZONS}")
    return sorted(out)


def horizon_backtest(
    series: MonthlySeries,
    members: Sequence[str],
    factory: ModelFactory,
    from_year: int = 2004,
    to_year: int | None = None,
    months: Sequence[int] = range(12),
    horizons: Sequence[int] = tuple(range(1, HORIZONS + 1)),
    learn_years: int = 4,
    n_paths: int = 1000,
    seed: int = 0,
    jobs: int = 1,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> HorizonReport:
    """`auto` (learned as the service learns it, walking forward), each member and the
    annual baselines, scored on the totals of `horizons` from origins at `months` of each
    year from `from_year` whose horizon year is complete. Members also run on the
    `learn_years` before, so `auto` has a past to learn from at the first scored origin."""
    started = time.perf_counter()
    horizons = [h for h in horizons if 1 <= h <= HORIZONS]
    first = max(from_year - learn_years, (series.start + 36) // 12)
    # Origins up to the last whose year in progress is complete; later horizons are scored
    # where theirs is.
    learn_at = origins(series, first, to_year, months)
    scored_at = [o for o in learn_at if o.year >= from_year]
    results = backtest.run(
        series,
        list(members),
        learn_at,
        factory,
        n_paths,
        seed,
        jobs=jobs,
        cache_dir=cache_dir,
        progress=progress,
    )
    walk = learn_auto(series, members, results, learn_at)
    scored = set(scored_at)
    # "auto_raw" is the mixture before calibration (what the factors learn from), to show
    # what calibration changed.
    raw = [replace(c, model="auto_raw") for c in walk.raw]
    cases = [
        c
        for c in [*walk.cases, *raw]
        if c.horizon in horizons and Origin(c.origin_year, c.m) in scored
    ]
    for name in members:
        cases.extend(cases_for(series, name, results, scored_at, horizons))
    cases.extend(baseline_cases(series, scored_at, horizons))
    return HorizonReport(series.id, cases, time.perf_counter() - started, results.skipped)
