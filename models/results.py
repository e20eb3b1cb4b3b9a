"""Typed results of the engine, each with a JSON-ready `to_dict`.

Map keys are strings in JSON: interval levels as "80", targets as "700000", crossing years
as "2027" or "later". The service's response schemas (`service/schemas.py`) validate every
body built from these with no extra fields allowed, so a field added here without the schema
fails the service's contract tests instead of reaching clients undocumented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def level_key(level: float) -> str:
    return f"{level:g}"


def amount_key(amount: float) -> str:
    return f"{amount:.0f}" if float(amount).is_integer() else f"{amount:g}"


@dataclass(frozen=True)
class YearProjection:
    year: int
    months_observed: int
    actual_to_date: float
    median: float
    mean: float
    intervals: dict[float, tuple[float, float]]
    prob_at_least: dict[float, float]
    # How far `auto` was off on this year's horizon in its backtest (None: not learned).
    expected_error: dict[str, Any] | None = None
    # target -> the pace it needs (None: no targets asked, or the months were not kept)
    pace: dict[float, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "months_observed": self.months_observed,
            "actual_to_date": round(self.actual_to_date, 3),
            "median": round(self.median, 3),
            "mean": round(self.mean, 3),
            "intervals": {
                level_key(k): [round(lo, 3), round(hi, 3)] for k, (lo, hi) in self.intervals.items()
            },
            "prob_at_least": {amount_key(k): round(p, 4) for k, p in self.prob_at_least.items()},
            "expected_error": self.expected_error,
            "pace": None
            if self.pace is None
            else {amount_key(k): pace_dict(p) for k, p in self.pace.items()},
        }


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def pace_dict(p: Any) -> dict[str, Any]:
    """A `pace.Pace` as JSON: amounts to 3 decimals, growth rates and shares to 4."""
    return {
        "months_left": p.months_left,
        "needed": round(p.needed, 3),
        "per_month": round(p.per_month, 3),
        "growth_same_months": _rounded(p.growth_same_months, 4),
        "growth_per_year": round(p.growth_per_year, 4),
        "history_share": _rounded(p.history_share, 4),
        "history_windows": p.history_windows,
    }


@dataclass(frozen=True)
class TargetOutlook:
    amount: float
    first_year_p50: int | None
    crossing_year: dict[int | str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "amount": self.amount,
            "first_year_p50": self.first_year_p50,
            "crossing_year": {str(k): round(p, 4) for k, p in self.crossing_year.items()},
        }


@dataclass(frozen=True)
class MonthQuantiles:
    month: str
    median: float
    mean: float
    intervals: dict[float, tuple[float, float]]

    def to_dict(self) -> dict[str, Any]:
        # Made rounded to 3 decimals (`simulation.MonthTable`), as they are served.
        return {
            "month": self.month,
            "median": self.median,
            "mean": self.mean,
            "intervals": {level_key(k): [lo, hi] for k, (lo, hi) in self.intervals.items()},
        }


@dataclass(frozen=True)
class Forecast:
    """Year totals, target outlooks and monthly quantiles, with what `auto` learned (None
    for a single model, or an `auto` that had too little history to learn from)."""

    series: str
    unit: str
    model: str
    members: tuple[str, ...]
    description: str
    data_through: str
    levels: tuple[float, ...]
    n_paths: int
    years: list[YearProjection]
    targets: list[TargetOutlook]
    monthly: list[MonthQuantiles]
    weights: dict[str, float] | None = None
    calibration_scale: float | None = None
    break_detected: bool | None = None
    expected_error: dict[str, Any] | None = None
    flash: dict[str, Any] | None = None  # the partial-month figure the paths were conditioned on
    # horizon -> {"growth", "spread"}: how the years after the current one were corrected
    horizon_calibration: dict[str, dict[str, float]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **_about(self),
            "description": self.description,
            "years": [y.to_dict() for y in self.years],
            "targets": [t.to_dict() for t in self.targets],
            "monthly": [m.to_dict() for m in self.monthly],
            "weights": self.weights,
            "calibration_scale": self.calibration_scale,
            "horizon_calibration": self.horizon_calibration,
            "break_detected": self.break_detected,
            "expected_error": self.expected_error,
            "flash": self.flash,
        }


@dataclass(frozen=True)
class MonthlyForecast:
    """Monthly quantiles of the paths alone, for a horizon in months."""

    series: str
    unit: str
    model: str
    members: tuple[str, ...]
    data_through: str
    levels: tuple[float, ...]
    n_paths: int
    monthly: list[MonthQuantiles]

    def to_dict(self) -> dict[str, Any]:
        return {**_about(self), "monthly": [m.to_dict() for m in self.monthly]}


def _about(result: Forecast | MonthlyForecast) -> dict[str, Any]:
    """What every forecast body opens with: which series, model and paths it comes from."""
    return {
        "series": result.series,
        "unit": result.unit,
        "model": result.model,
        "members": list(result.members),
        "data_through": result.data_through,
        "levels": list(result.levels),
        "n_paths": result.n_paths,
    }
