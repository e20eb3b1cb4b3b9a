"""Seasonal naive with drift: each month is the same month a year earlier, grown by the
average yearly log change, with errors bootstrapped from past yearly changes."""

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


class FittedSeasonalNaive(FittedModel):
    name = "snaive"
    description = "seasonal naive with drift on log values"
    salt = 3

    def __init__(self, last_year: np.ndarray, drift: float, residuals: np.ndarray):
        self._last_year = last_year
        self._drift = drift
        self._residuals = residuals

    def recent_errors(self, k: int = 3) -> np.ndarray:
        return standardised_tail(self._residuals, k, burn_in=0)

    def sample_paths(self, horizon: int, n_paths: int, seed: int) -> np.ndarray:
        rng = self.rng(seed)
        shocks = rng.choice(self._residuals, size=(n_paths, horizon), replace=True)
        log_paths = np.empty((n_paths, horizon + 12))
        log_paths[:, :12] = self._last_year
        for h in range(horizon):
            log_paths[:, h + 12] = log_paths[:, h] + self._drift + shocks[:, h]
        return to_levels(log_paths[:, 12:])


class SeasonalNaive(Model):
    name = "snaive"

    def fit(self, series: MonthlySeries) -> FittedSeasonalNaive:
        min_length(series, 25, "snaive")
        y = np.log(series.values)
        changes = y[12:] - y[:-12]
        drift = float(changes.mean())
        return FittedSeasonalNaive(y[-12:].copy(), drift, changes - drift)
