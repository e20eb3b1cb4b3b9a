"""Prophet on log values (so its additive yearly seasonality is multiplicative in levels).

Prophet is optional at run time: `available()` says whether it imports, and the ensemble
leaves it out when it does not.
"""

from __future__ import annotations

import logging
from functools import cache

import numpy as np
import pandas as pd

from models.base import FittedModel, LogPaths, Model, ModelError, min_length
from models.series import MonthlySeries, format_month


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
    name = "prophet"
    description = "Prophet, yearly seasonality on log values"

    def __init__(self, model, next_month: int):
        self._model = model
        self._next_month = next_month

    def sample_paths(self, horizon: int, n_paths: int, seed: int) -> np.ndarray:
        future = pd.DataFrame({"ds": _month_starts(self._next_month, horizon)})
        # Prophet draws from numpy's global generator; seed it and put it back as it was.
        state = np.random.get_state()
        np.random.seed(seed % (2**32))
        try:
            self._model.uncertainty_samples = n_paths
            samples = self._model.predictive_samples(future)["yhat"]
        finally:
            np.random.set_state(state)
        return LogPaths.to_levels(np.asarray(samples, dtype=float).T)


class ProphetModel(Model):
    name = "prophet"

    def __init__(self, **prophet_args):
        self.prophet_args = prophet_args

    def fit(self, series: MonthlySeries) -> FittedProphet:
        if not available():
            raise ModelError("prophet is not installed")
        from prophet import Prophet

        _quiet()
        min_length(series, 24, "prophet")
        frame = pd.DataFrame(
            {"ds": _month_starts(series.start, len(series.values)), "y": np.log(series.values)}
        )
        args = {
            "yearly_seasonality": True,
            "weekly_seasonality": False,
            "daily_seasonality": False,
            "seasonality_mode": "additive",
        } | self.prophet_args
        model = Prophet(**args)
        try:
            model.fit(frame, seed=0)
        except TypeError:  # older Prophet without a seed argument
            model.fit(frame)
        except Exception as exc:
            raise ModelError(f"prophet failed to fit: {exc}") from exc
        return FittedProphet(model, series.end + 1)
