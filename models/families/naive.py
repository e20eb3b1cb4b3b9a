"""The naive year-end baselines as members with sample paths, so `auto` can admit them.

`baselines.run_rate` and `baselines.ytd_growth` give one number; a member must simulate
futures. Each model here carries its baseline's point forecast for the months left in the
year in progress, with errors drawn by a circular block bootstrap of its own past
residuals: one block per path keeps the months' errors as correlated as they were, which
is what the interval of a twelve-month sum depends on.

- `level` (the run rate): every month left is the year-to-date average month.
- `yoy` (year-to-date growth): every month left is the same month a year earlier, grown
  by the year-to-date change on the same months a year earlier.

Later years grow at the mean yearly log change, each path and year shifted by one past
deviation of a twelve-month total's growth from that mean: the spread the annual totals
have shown, compounding as years pass.

With a December as the last month, the "year in progress" is the coming year, known from
none of its months: the run rate then starts from the last twelve months' average month,
and year-to-date growth from the last twelve months' change on the twelve before.
"""

from __future__ import annotations

import numpy as np

from exportcast.models.families.base import (
    FittedModel,
    Model,
    min_length,
    standardised_tail,
    to_levels,
)
from exportcast.models.series import MonthlySeries


def months_known(series: MonthlySeries) -> int:
    """Months of the year in progress the series holds (0 after a December)."""
    return (series.end + 1) % 12


def block_shocks(
    residuals: np.ndarray, horizon: int, n_paths: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_paths, horizon) errors: each path a run of consecutive residuals from a random
    start, wrapping around the end (a circular block bootstrap, one block per path)."""
    start = rng.integers(0, len(residuals), size=n_paths)
    index = (start[:, None] + np.arange(horizon)[None, :]) % len(residuals)
    return residuals[index]


class FittedNaive(FittedModel):
    """A baseline's log levels for the months left in the year, with errors by block
    bootstrap; then each later year the year before grown by the mean yearly log change
    plus one past deviation of a twelve-month total's growth from that mean, drawn per
    path and year, so later years widen as the annual totals did."""

    def __init__(
        self,
        last_year: np.ndarray,
        rest_of_year: np.ndarray,
        drift: float,
        residuals: np.ndarray,
        yearly: np.ndarray,
    ):
        self._last_year = last_year  # the last 12 log values
        self._rest = rest_of_year  # log values of the months left in the year
        self._drift = drift
        self._residuals = residuals
        self._yearly = yearly  # past deviations of the 12-month total's log growth

    def recent_errors(self, k: int = 3) -> np.ndarray:
        return standardised_tail(self._residuals, k, burn_in=0)

    def sample_paths(self, horizon: int, n_paths: int, seed: int) -> np.ndarray:
        rng = self.rng(seed)
        shocks = block_shocks(self._residuals, horizon, n_paths, rng)
        rest = len(self._rest)
        years = rng.choice(self._yearly, size=(n_paths, max(0, horizon - rest) // 12 + 1))
        logs = np.empty((n_paths, horizon + 12))
        logs[:, :12] = self._last_year
        for h in range(horizon):
            if h < rest:
                logs[:, h + 12] = self._rest[h] + shocks[:, h]
            else:
                logs[:, h + 12] = logs[:, h] + self._drift + years[:, (h - rest) // 12]
        return to_levels(logs[:, 12:])


def _centred(values: np.ndarray) -> np.ndarray:
    values = values[np.isfinite(values)]
    return values - values.mean()


class FittedLevel(FittedNaive):
    name = "level"
    description = "run rate: the year-to-date average month, then the mean yearly change"
    salt = 6


class FittedYoY(FittedNaive):
    name = "yoy"
    description = "year-to-date growth on last year's same months, then the mean yearly change"
    salt = 7


class Level(Model):
    name = "level"

    def fit(self, series: MonthlySeries) -> FittedLevel:
        min_length(series, 25, "level")
        y = np.log(series.values)
        m = months_known(series)
        known = series.values[-m:] if m else series.values[-12:]
        level = float(np.log(known.mean()))
        # each month against the average month of the twelve before it
        trailing = np.convolve(series.values, np.ones(12) / 12, mode="valid")[:-1]
        residuals = _centred(y[12:] - np.log(trailing))
        return FittedLevel(
            y[-12:].copy(), np.full(12 - m, level), _drift(y), residuals, _yearly(series)
        )


class YoY(Model):
    name = "yoy"

    def fit(self, series: MonthlySeries) -> FittedYoY:
        min_length(series, 25, "yoy")
        y = np.log(series.values)
        m = months_known(series)
        span = m or 12
        v = series.values
        growth = float(np.log(v[-span:].sum() / v[-span - 12 : -12].sum()))
        rest = y[-12:][: 12 - m] + growth  # the same months a year earlier, grown
        # the year-on-year change of each month against the mean of the six before it
        changes = y[12:] - y[:-12]
        local = np.convolve(changes, np.ones(6) / 6, mode="valid")[:-1]
        residuals = _centred(changes[6:] - local)
        return FittedYoY(y[-12:].copy(), rest, _drift(y), residuals, _yearly(series))


def _drift(y: np.ndarray) -> float:
    return float(np.mean(y[12:] - y[:-12]))


def _yearly(series: MonthlySeries) -> np.ndarray:
    """The log growth of every twelve-month total on the twelve months before it, centred."""
    totals = np.convolve(series.values, np.ones(12), mode="valid")
    return _centred(np.log(totals[12:] / totals[:-12]))
