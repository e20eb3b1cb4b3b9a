"""Naive year-end projections, the yardstick every model must beat.

Each takes the series as published up to a cut-off and returns the projected total of the
year in progress (or of the next year, when the cut-off is a December). Point forecasts
only: they carry no intervals.
"""

from __future__ import annotations

from collections.abc import Callable

from exportcast.models.series import MonthlySeries


def _year_and_known(series: MonthlySeries) -> tuple[int, int, float]:
    year = (series.end + 1) // 12
    m, ytd = series.year_to_date(year)
    return year, m, ytd


def run_rate(series: MonthlySeries) -> float:
    """Year-to-date x 12 / m; with nothing of the year published, last year's total."""
    year, m, ytd = _year_and_known(series)
    if m == 0:
        return series.year_to_date(year - 1)[1]
    return ytd * 12 / m


def ytd_growth(series: MonthlySeries) -> float:
    """Last year's total grown by the year-to-date change on the same months a year earlier."""
    year, m, ytd = _year_and_known(series)
    last_total = series.year_to_date(year - 1)[1]
    if m == 0:
        return last_total
    start = year * 12 - 12 - series.start
    same_months = float(series.values[start : start + m].sum())
    return last_total * ytd / same_months


def seasonal_naive(series: MonthlySeries) -> float:
    """Year-to-date plus the remaining months as they were last year."""
    year, m, ytd = _year_and_known(series)
    start = year * 12 - 12 - series.start
    return ytd + float(series.values[start + m : start + 12].sum())


BASELINES: dict[str, Callable[[MonthlySeries], float]] = {
    "run_rate": run_rate,
    "ytd_growth": ytd_growth,
    "seasonal_naive": seasonal_naive,
}
