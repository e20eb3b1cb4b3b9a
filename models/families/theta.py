"""The Theta method on log values (statsmodels' `ThetaModel`), with sample paths.

Theta won M3 and stays one of the strongest simple forecasters; on Korea's year-end total
statsforecast's AutoTheta beat every member of `auto` with 0-5 months of a year known
(`benchmarks/members.py`). statsforecast cannot be installed beside pandas 3, so this is
statsmodels' implementation: the series deseasonalised (additively on logs, i.e.
multiplicatively), simple exponential smoothing with drift (theta = 2), reseasonalised.

statsmodels gives its forecast and intervals, not paths. Its forecast errors are those of
the simple exponential smoothing underneath, so paths are the forecast plus simulated
SES errors: the error h steps ahead is e_h + alpha x (e_1 + ... + e_(h-1)), with e drawn
from N(0, sigma2) of the fit, so the variance is sigma2 x (1 + alpha^2 (h - 1)), that of
simple exponential smoothing. (statsmodels' own intervals agree one step ahead and widen
faster after, with 1 + (alpha - 1)^2 in place of alpha^2; `auto` calibrates the spread of
its mixture from its backtest either way.)
"""

from __future__ import annotations

import warnings

import numpy as np

from exportcast.models.families.base import FittedModel, Model, ModelError, min_length, to_levels
from exportcast.models.series import MonthlySeries


class FittedTheta(FittedModel):
    name = "theta"
    description = "Theta method (SES with drift, theta = 2) on deseasonalised log values"
    salt = 8

    def __init__(self, results):
        self._results = results
        self._alpha = float(results.params["alpha"])
        self._sigma = float(np.sqrt(results.sigma2))

    def sample_paths(self, horizon: int, n_paths: int, seed: int) -> np.ndarray:
        point = np.asarray(self._results.forecast(horizon, theta=2), dtype=float)
        shocks = self.rng(seed).normal(0.0, self._sigma, size=(n_paths, horizon))
        before = np.cumsum(shocks, axis=1) - shocks  # e_1 + ... + e_(h-1)
        return to_levels(point[None, :] + shocks + self._alpha * before)


class Theta(Model):
    name = "theta"

    def fit(self, series: MonthlySeries) -> FittedTheta:
        min_length(series, 36, "theta")
        from statsmodels.tsa.forecasting.theta import ThetaModel

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results = ThetaModel(
                    np.log(series.values),
                    period=12,
                    deseasonalize=True,
                    use_test=False,
                    method="additive",
                ).fit()
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise ModelError(f"theta failed to fit: {exc}") from exc
        if not np.isfinite(results.sigma2) or results.sigma2 <= 0:
            raise ModelError("theta fitted no spread")
        return FittedTheta(results)
