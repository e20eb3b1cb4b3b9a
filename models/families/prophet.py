"""Prophet on log values (so its additive yearly seasonality is multiplicative in levels).

Prophet is optional at run time: `available()` says whether it imports, and the ensemble
leaves it out when it does not.
"""

from __future__ import annotations

import logging
from functools import cache

import numpy as np
import pandas as pd

from exportcast.models.families.base import (
    FittedModel,
    Model,
    ModelError,
    min_length,
    standardised_tail,
    to_levels,
)
from exportcast.models.series import MonthlySeries, format_month


@cache
def available() -> bool:
    # Prophet announces at import that plotly is missing; plots are not used here.
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    try:
        import prophet  # noqa: F401
    except Exception:  # a broken compiled backend raises more than ImportError
        return False
    return True


def _quiet() -> None:
    # cmdstanpy resets its own level on use; disabling the logger is what sticks.
    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.WARNING)


def _month_starts(first: int, n: int) -> pd.DatetimeIndex:
    return pd.date_range(format_month(first) + "-01", periods=n, freq="MS")


class FittedProphet(FittedModel):
    salt = 5

    def __init__(
        self,
        model,
        next_month: int,
        residuals: np.ndarray,
        log_scale: bool = True,
        name: str = "prophet",
    ):
        self.name = name
        self.description = (
            "Prophet, yearly seasonality on log values"
            if log_scale
            else "Prophet with its default settings, on raw values"
        )
        self._model = model
        self._next_month = next_month
        self._residuals = residuals
        self._log_scale = log_scale

    def recent_errors(self, k: int = 3) -> np.ndarray:
        return standardised_tail(self._residuals, k, burn_in=0)

    def sample_paths(self, horizon: int, n_paths: int, seed: int) -> np.ndarray:
        future = pd.DataFrame({"ds": _month_starts(self._next_month, horizon)})
        # Prophet draws from numpy's global generator; seed it and put it back as it was.
        state = np.random.get_state()
        np.random.seed(int(self.rng(seed).integers(2**32)))
        try:
            self._model.uncertainty_samples = n_paths
            samples = self._model.predictive_samples(future)["yhat"]
        finally:
            np.random.set_state(state)
        samples = np.asarray(samples, dtype=float).T
        if not self._log_scale:
            # Prophet on raw values can dip below zero; a floor keeps totals meaningful.
            return np.maximum(samples, 1e-9)
        return to_levels(samples)


class ProphetModel(Model):
    name = "prophet"

    def __init__(self, log_scale: bool = True, name: str = "prophet", **prophet_args):
        self.log_scale = log_scale
        self.name = name
        self.prophet_args = prophet_args

    def fit(self, series: MonthlySeries) -> FittedProphet:
        if not available():
            raise ModelError("prophet is not installed")
        from prophet import Prophet

        _quiet()
        min_length(series, 24, "prophet")
        y = np.log(series.values) if self.log_scale else series.values
        frame = pd.DataFrame({"ds": _month_starts(series.start, len(series.values)), "y": y})
        args = (
            {
                "yearly_seasonality": True,
                "weekly_seasonality": False,
                "daily_seasonality": False,
                "seasonality_mode": "additive",
            }
            if self.log_scale
            else {}
        ) | self.prophet_args
        model = Prophet(**args)
        try:
            model.fit(frame, seed=0)
        except TypeError:  # older Prophet without a seed argument
            model.fit(frame)
        except Exception as exc:
            raise ModelError(f"prophet failed to fit: {exc}") from exc
        fitted = model.predict(frame[["ds"]])["yhat"].to_numpy()
        resid = np.log(series.values) - (
            fitted if self.log_scale else np.log(np.maximum(fitted, 1e-9))
        )
        return FittedProphet(model, series.end + 1, resid, self.log_scale, self.name)
