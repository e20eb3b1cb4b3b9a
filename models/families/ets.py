"""Exponential smoothing on log values, trend form chosen by AICc.

Additive errors on the log scale are multiplicative errors on the original scale, and the
simulated paths stay positive.
"""

from __future__ import annotations

import warnings

import numpy as np

from exportcast.models.families.base import LogScaleFit, Model, ModelError, min_length
from exportcast.models.series import MonthlySeries

# (trend, damped): no trend, additive trend, damped additive trend.
CANDIDATES: tuple[tuple[str | None, bool], ...] = ((None, False), ("add", False), ("add", True))


class FittedETS(LogScaleFit):
    name = "ets"
    salt = 1


class ETS(Model):
    name = "ets"

    def __init__(self, candidates: tuple[tuple[str | None, bool], ...] = CANDIDATES):
        self.candidates = candidates

    def fit(self, series: MonthlySeries) -> FittedETS:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        min_length(series, 36, "ets")
        y = np.log(series.values)
        best = None
        for trend, damped in self.candidates:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    results = ETSModel(
                        y,
                        error="add",
                        trend=trend,
                        damped_trend=damped,
                        seasonal="add",
                        seasonal_periods=12,
                    ).fit(disp=False)
                except (ValueError, np.linalg.LinAlgError):
                    continue
            if not np.isfinite(results.aicc):
                continue
            if best is None or results.aicc < best[0]:
                best = (results.aicc, results, trend, damped)
        if best is None:
            raise ModelError("no ETS candidate could be fitted")
        _, results, trend, damped = best
        form = "N" if trend is None else ("Ad" if damped else "A")
        return FittedETS(results, f"ETS(A,{form},A) on log values")
