"""A version's sample paths, and every answer read from them without refitting: year
totals, intervals, target probabilities, monthly quantiles."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, TypeVar

import numpy as np

from exportcast.models import totals
from exportcast.models.limits import DEFAULT_LEVELS, DEFAULT_YEARS
from exportcast.models.pace import History, paces
from exportcast.models.recent import Recent
from exportcast.models.references import PERCENTILES
from exportcast.models.results import (
    Forecast,
    MonthlyForecast,
    MonthQuantiles,
    TargetOutlook,
    YearProjection,
    amount_key,
    level_key,
)
from exportcast.models.series import MonthlySeries, format_month

T = TypeVar("T")
_MAKING = threading.Lock()


@dataclass(frozen=True)
class Simulation:
    """Sample paths of one fitted model, with what is needed to turn them into totals.

    `learned` is what `auto` learned (weights, calibration, break, expected error, the
    backtest behind them); empty for a single model.
    """

    series_id: str
    unit: str
    model: str
    members: tuple[str, ...]
    description: str
    data_through: int  # month index of the last published month
    actual_to_date: float  # published months of the year that the paths complete
    paths: np.ndarray = field(repr=False)  # (n_paths, horizon)
    labels: np.ndarray | None = field(default=None, repr=False)  # member index of each path
    fit_seconds: float = 0.0
    learned: dict[str, Any] = field(default_factory=dict)
    # The published months the paths continue (what the pace a target needs is read from);
    # None for a simulation stored before they were kept.
    published: np.ndarray | None = field(default=None, repr=False)

    @property
    def first_month(self) -> int:
        return self.data_through + 1

    @property
    def horizon(self) -> int:
        return self.paths.shape[1]

    @property
    def n_paths(self) -> int:
        return self.paths.shape[0]

    # Sorted once per version, on the first question that needs them: every later question
    # (other levels, years, targets) is lookups into these, not a partition of the paths.
    @cached_property
    def sorted_months(self) -> totals.SortedDraws:
        return totals.SortedDraws(self.paths)

    @cached_property
    def month_table(self) -> MonthTable:
        return MonthTable(self)

    @cached_property
    def year_draws(self) -> list[totals.YearDraws]:
        """Per-path totals of every calendar year the paths cover."""
        return totals.year_totals(self.paths, self.first_month, self.actual_to_date)

    @cached_property
    def sorted_years(self) -> list[totals.SortedDraws]:
        return [totals.SortedDraws(d.totals) for d in self.year_draws]

    @cached_property
    def year_rows(self) -> totals.SortedRows:
        return totals.SortedRows(self.sorted_years)

    @cached_property
    def year_centres(self) -> list[tuple[float, float]]:
        """Each year's (median, mean) of its totals."""
        return [(float(o.median()), float(o.mean)) for o in self.sorted_years]

    @cached_property
    def first_crossings(self) -> totals.FirstCrossings:
        return totals.FirstCrossings(self.year_draws)

    @cached_property
    def published_history(self) -> tuple[MonthlySeries, History] | None:
        """The published months as a series, with the growth history every pace reads."""
        series = published_series(self)
        return None if series is None else (series, History(series))

    @cached_property
    def _members(self) -> dict[str, Simulation]:
        return {}

    @cached_property
    def _kept(self) -> dict[Hashable, Any]:
        return {}

    def kept(self, name: Hashable, make: Callable[[], T]) -> T:
        """What `make` makes of these paths, made once and kept as long as they are (the
        parts a reader of many questions assembles its answers from)."""
        found = self._kept.get(name)
        if found is None:
            found = self._kept.setdefault(name, make())
        return found

    def only(self, member: str) -> Simulation:
        """The paths that one ensemble member drew, as a simulation of its own: made once,
        so its sorted months and years serve every later question about that member."""
        if member == self.model:
            return self
        if member not in self.members or self.labels is None:
            raise KeyError(f"model {member!r} is not part of this version ({self.model})")
        made = self._members.get(member)
        if made is None:
            with _MAKING:  # one thread sorts a member's paths; others asking wait for them
                made = self._members.get(member)
                if made is None:
                    made = self._only(member)
                    made.sorted_months, made.sorted_years, made.first_crossings  # noqa: B018
                    self._members[member] = made  # kept sorted: every question reads them
        return made

    def has_made(self, member: str) -> bool:
        """Whether `only(member)` is made, its paths sorted (tens of milliseconds before)."""
        return member == self.model or member in self._members

    def _only(self, member: str) -> Simulation:
        keep = self.labels == self.members.index(member)
        return replace(
            self,
            model=member,
            members=(member,),
            description=f"{member}'s paths within {self.model}",
            paths=self.paths[keep],
            labels=None,
            learned={},
        )


# No month of a path goes above this (in the series' unit). A path of a boom compounded for
# thirty years can pass float32's 3.4e38, the precision paths are stored and sorted in,
# and turn into inf and then NaN in a served body. Anything near the ceiling is already
# implausible by many orders of magnitude, so pinning it changes no answer anyone reads.
CEILING = 1e30


def pinned(paths: np.ndarray) -> np.ndarray:
    """The paths with every month above `CEILING` pinned to it."""
    return np.minimum(paths, CEILING)


def validate_paths(paths: np.ndarray, n_paths: int, horizon: int) -> None:
    if paths.shape != (n_paths, horizon):
        raise ValueError(f"paths have shape {paths.shape}, expected {(n_paths, horizon)}")
    if not np.all(np.isfinite(paths)) or np.any(paths <= 0):
        raise ValueError("paths must be finite and positive")


def implausibility(sim: Simulation, series: MonthlySeries, factor: float = 4.0) -> str | None:
    """Why these paths should not be served, or None.

    A first-year median more than `factor` times above or below the last complete
    year's total is not a forecast but a symptom (a unit slip in new data, a diverging fit).
    """
    first_year = sim.first_month // 12
    months, last_total = series.year_to_date(first_year - 1)
    if months < 12:
        return None
    (draws,) = totals.year_totals(sim.paths, sim.first_month, sim.actual_to_date, years=1)
    median = float(np.median(draws.totals))
    if not last_total / factor <= median <= last_total * factor:
        return (
            f"implausible projection: {first_year} median {median:,.0f} against "
            f"{last_total:,.0f} in {first_year - 1} (allowed factor {factor:g})"
        )
    return None


def published_series(sim: Simulation) -> MonthlySeries | None:
    if sim.published is None or len(sim.published) < 24:
        return None
    start = sim.data_through - len(sim.published) + 1
    return MonthlySeries(sim.series_id, sim.unit, start, np.asarray(sim.published, float))


def _paces(
    sim: Simulation, year: int, targets: Sequence[float], probabilities: list[float]
) -> dict | None:
    published = sim.published_history if targets else None
    if published is None:
        return None
    series, history = published
    found = paces(series, year, targets, probabilities, history)
    return dict(zip(targets, found, strict=True))


def summarise(
    sim: Simulation,
    years: int = DEFAULT_YEARS,
    levels: Sequence[float] = DEFAULT_LEVELS,
    targets: Sequence[float] = (),
    months: bool = True,
) -> Forecast:
    """Year totals, intervals, target probabilities and monthly quantiles from the paths
    (without the monthly quantiles when `months` is false: a caller that writes them
    from `MonthTable` itself)."""
    levels = tuple(float(level) for level in levels)
    draws, ordered = sim.year_draws[:years], sim.sorted_years[:years]
    if len(draws) < years:
        raise ValueError(f"the paths cover {len(draws)} calendar years, {years} were asked for")
    learned = sim.learned
    by_horizon = learned.get("expected_error_by_horizon") or []
    # every year's interval at a level in one blend, every target's share in one search
    bands = {lv: sim.year_rows.central_interval(lv, years) for lv in levels}
    bounds = {lv: (low.tolist(), high.tolist()) for lv, (low, high) in bands.items()}
    centres = sim.year_centres
    projections = []
    for i, (d, o) in enumerate(zip(draws, ordered, strict=True)):
        shares = o.shares_at_least(targets) if targets else []
        projections.append(
            YearProjection(
                year=d.year,
                months_observed=d.months_observed,
                actual_to_date=d.actual_to_date,
                median=centres[i][0],
                mean=centres[i][1],
                intervals={lv: (low[i], high[i]) for lv, (low, high) in bounds.items()},
                prob_at_least=dict(zip(targets, shares, strict=True)),
                expected_error=by_horizon[i] if i < len(by_horizon) else None,
                pace=_paces(sim, d.year, targets, shares),
            )
        )
    crossings = [sim.first_crossings.distribution(t, len(draws)) for t in targets]
    outlooks = [
        TargetOutlook(
            amount=t,
            first_year_p50=totals.first_year_p50({p.year: p.prob_at_least[t] for p in projections}),
            crossing_year=crossing,
        )
        for t, crossing in zip(targets, crossings, strict=True)
    ]
    return Forecast(
        series=sim.series_id,
        unit=sim.unit,
        model=sim.model,
        members=sim.members,
        description=sim.description,
        data_through=format_month(sim.data_through),
        levels=levels,
        n_paths=sim.n_paths,
        years=projections,
        targets=outlooks,
        monthly=monthly_quantiles(sim, months_of(draws), levels) if months else [],
        weights=learned.get("weights"),
        calibration_scale=learned.get("calibration_scale"),
        horizon_calibration=learned.get("horizon_calibration"),
        break_detected=learned.get("break_detected"),
        expected_error=learned.get("expected_error"),
        flash=learned.get("flash"),
    )


def snapshot(
    sim: Simulation,
    years: int = 5,
    levels: Sequence[float] = DEFAULT_LEVELS,
    targets: Sequence[float] = (),
) -> list[dict[str, Any]]:
    """What a version said of each year, kept with the version for its track record: the
    median, intervals, target probabilities and the percentiles 1-99 of each year's total
    (where an outside forecast of that year fell in this distribution)."""
    out = []
    for d, o in list(zip(sim.year_draws, sim.sorted_years, strict=True))[:years]:
        out.append(
            {
                "year": d.year,
                "months_observed": d.months_observed,
                "median": round(float(o.median()), 3),
                "intervals": {
                    level_key(lv): [round(float(x), 3) for x in o.central_interval(lv)]
                    for lv in levels
                },
                "prob_at_least": {amount_key(t): round(o.share_at_least(t), 4) for t in targets},
                "percentiles": [round(float(o.percentile(q)), 3) for q in PERCENTILES],
            }
        )
    return out


class MonthTable:
    """Every month's median, mean and (per level asked recently) interval, as the response
    gives them (rounded to 3 decimals): made once per version and level, so a question's
    monthly part is slices of lists. Levels are the clients' to choose, so the bands kept
    are bounded, least recently used out."""

    BANDS = 64

    def __init__(self, sim: Simulation):
        self.sorted = sim.sorted_months
        self.months = [format_month(sim.first_month + h) for h in range(sim.horizon)]
        self.median = rounded(self.sorted.median())
        self.mean = rounded(self.sorted.mean)
        self._bands: Recent[float, tuple[list[float], list[float]]] = Recent(self.BANDS)

    def band(self, level: float) -> tuple[list[float], list[float]]:
        def make() -> tuple[list[float], list[float]]:
            low, high = self.sorted.central_interval(level)
            return rounded(low), rounded(high)

        return self._bands.made(level, make)


def months_of(draws: Sequence[totals.YearDraws]) -> int:
    """The months of paths that those years' totals read (the months left in each)."""
    return sum(12 - d.months_observed for d in draws)


def rounded(values: np.ndarray, digits: int = 3) -> list[float]:
    """`[round(v, digits) for v in values]`, the same floats, with the arithmetic in numpy.

    Away from a tie, the nearest integer to `v * 10**digits` is the one Python's decimal
    rounding picks (the product's error is far below the distance to the half), and that
    integer divided by 10**digits is correctly rounded, as Python's result is. The rare
    values near a tie, beyond 2**50 or not finite are rounded by Python itself.
    """
    x = np.asarray(values, dtype=float)
    scale = 10.0**digits
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = x * scale
        out = (np.rint(scaled) / scale).tolist()
        distance = np.abs(scaled - np.floor(scaled) - 0.5)
        doubtful = ~(distance > np.abs(scaled) * 1e-14 + 1e-9) | ~(np.abs(scaled) < 2.0**50)
    for i in np.flatnonzero(doubtful).tolist():
        out[i] = round(float(x[i]), digits)
    return out


def monthly_quantiles(
    sim: Simulation, horizon: int, levels: Sequence[float] = DEFAULT_LEVELS
) -> list[MonthQuantiles]:
    """The first `horizon` months' quantiles (rounded to 3 decimals, as served)."""
    if horizon > sim.horizon:
        raise ValueError(f"the paths cover {sim.horizon} months, {horizon} were asked for")
    table = sim.month_table
    bands = {level: table.band(level) for level in levels}
    return [
        MonthQuantiles(
            month=table.months[h],
            median=table.median[h],
            mean=table.mean[h],
            intervals={lv: (lo[h], hi[h]) for lv, (lo, hi) in bands.items()},
        )
        for h in range(horizon)
    ]


def monthly_forecast(
    sim: Simulation, horizon: int, levels: Sequence[float] = DEFAULT_LEVELS
) -> MonthlyForecast:
    levels = tuple(float(level) for level in levels)
    return MonthlyForecast(
        series=sim.series_id,
        unit=sim.unit,
        model=sim.model,
        members=sim.members,
        data_through=format_month(sim.data_through),
        levels=levels,
        n_paths=sim.n_paths,
        monthly=monthly_quantiles(sim, horizon, levels),
    )


def _floats(pair: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    return float(pair[0]), float(pair[1])
