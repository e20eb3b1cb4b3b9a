"""Seasonal ARIMA on log values; a few airline-like orders, chosen by AICc."""

from __future__ import annotations

import warnings

import numpy as np

from exportcast.models.families.base import LogScaleFit, Model, ModelError, min_length
from exportcast.models.series import MonthlySeries

# All share d = 1 and D = 1, so their likelihoods are comparable.
ORDERS: tuple[tuple[int, int, int], ...] = ((0, 1, 1), (1, 1, 1), (2, 1, 0))
SEASONAL: tuple[int, int, int, int] = (0, 1, 1, 12)


class FittedSARIMA(LogScaleFit):
    name = "sarima"
    salt = 2


class SARIMA(Model):
    name = "sarima"

    def __init__(self, orders: tuple[tuple[int, int, int], ...] = ORDERS):
        self.orders = orders

    def fit(self, series: MonthlySeries) -> FittedSARIMA:
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        min_length(series, 48, "sarima")
        y = np.log(series.values)
        best = None
        for order in self.orders:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    results = SARIMAX(y, order=order, seasonal_order=SEASONAL).fit(disp=False)
                except (ValueError, np.linalg.LinAlgError):
                    continue
            if not np.isfinite(results.aicc):
                continue
            if best is None or results.aicc < best[0]:
                best = (results.aicc, results, order)
        if best is None:
            raise ModelError("no SARIMA order could be fitted")
        _, results, order = best
        return FittedSARIMA(results, f"SARIMA{order}{SEASONAL[:3]}[12] on log values")
