"""Local growth: next year's month is this year's same month times exp(growth), where the
year-on-year log growth follows the latest changes and reverts to its long-run mean.

This is ARMA(1,1) with a constant on the year-on-year log change, i.e.
SARIMA(1,0,1)(0,1,0)[12] on log values. No seasonal smoothing holds it back, so after a
break (a chip boom) it follows the new growth within a few months; the mean reversion keeps
later years from compounding a boom's growth forever (a random walk in growth projected
$5.4T for 2030 from data through May 2026).
"""

from __future__ import annotations

import numpy as np

from exportcast.models.families.base import Model, ModelError, min_length
from exportcast.models.families.sarima import fit_sarimax
from exportcast.models.families.statespace import StateSpaceFit
from exportcast.models.series import MonthlySeries


class FittedGrowth(StateSpaceFit):
    name = "growth"
    salt = 4


class Growth(Model):
    name = "growth"

    def fit(self, series: MonthlySeries) -> FittedGrowth:
        min_length(series, 36, "growth")
        try:
            results, differencing = fit_sarimax(
                np.log(series.values), (1, 0, 1), (0, 1, 0, 12), trend="c"
            )
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise ModelError(f"growth model failed to fit: {exc}") from exc
        return FittedGrowth(
            results,
            "mean-reverting year-on-year growth, SARIMA(1,0,1)(0,1,0)[12] on log values",
            differencing,
        )
