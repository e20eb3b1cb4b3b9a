"""The one interface every model family implements: fit on a series, then draw sample paths.

Every interval the product reports is computed from these paths, so a model only has to be
good at one thing: simulating plausible futures of the monthly series.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from exportcast.models.families.differencing import Differencing
from exportcast.models.series import MonthlySeries


class ModelError(RuntimeError):
    """A model could not be fitted or simulated on this series."""


class FittedModel(ABC):
    """A model fitted to one series; draws futures of the months after its last month.

    `salt` tells models apart in the random stream, so two models given the same seed still
    draw different shocks.
    """

    name: str
    description: str = ""
    salt: int = 0

    @abstractmethod
    def sample_paths(self, horizon: int, n_paths: int, seed: int) -> np.ndarray:
        """Future monthly values, shape (n_paths, horizon), in the series' unit.

        Same seed, same paths.
        """

    def recent_errors(self, k: int = 3) -> np.ndarray:
        """Standardised one-step errors of the last k published months (log scale).

        How surprised the model was by the latest data: the ensemble leans away from
        members whose recent errors are large. NaN where a model cannot say.
        """
        return np.full(k, np.nan)

    def rng(self, seed: int) -> np.random.Generator:
        return rng_for(seed, self.salt)


class Model(ABC):
    name: str

    @abstractmethod
    def fit(self, series: MonthlySeries) -> FittedModel: ...


def to_levels(log_paths: np.ndarray) -> np.ndarray:
    """Paths on log values back to levels: positivity comes free with exp."""
    with np.errstate(over="ignore"):
        paths = np.exp(log_paths)
    if not np.all(np.isfinite(paths)):
        raise ModelError("simulated paths overflowed")
    return paths


class LogScaleFit(FittedModel):
    """A statsmodels fit on log values (ETS, SARIMA, growth): paths from its `simulate`,
    recent errors from its one-step residuals. Subclasses name the model and its salt.

    A fit made on the differenced series (`differencing`) has its paths integrated back."""

    def __init__(self, results, description: str, differencing: Differencing | None = None):
        self._results = results
        self.description = description
        self._differencing = differencing

    def recent_errors(self, k: int = 3) -> np.ndarray:
        return standardised_tail(np.asarray(self._results.resid), k)

    def simulated_logs(self, horizon: int, n_paths: int, seed: int) -> np.ndarray:
        """Paths of the fitted (possibly differenced) log series, (n_paths, horizon)."""
        sims = self._results.simulate(
            nsimulations=horizon, repetitions=n_paths, anchor="end", rng=self.rng(seed)
        )
        return np.asarray(sims, dtype=float).reshape(horizon, n_paths).T

    def sample_paths(self, horizon: int, n_paths: int, seed: int) -> np.ndarray:
        log_paths = self.simulated_logs(horizon, n_paths, seed)
        if self._differencing is not None:
            log_paths = self._differencing.undo(log_paths)
        return to_levels(log_paths)


def standardised_tail(residuals: np.ndarray, k: int, burn_in: int = 13) -> np.ndarray:
    """The last k residuals divided by the residuals' spread (skipping the start-up months)."""
    resid = np.asarray(residuals, dtype=float)
    body = resid[burn_in:] if len(resid) > burn_in + k else resid
    scale = float(np.sqrt(np.mean(body**2)))
    if not np.isfinite(scale) or scale <= 0:
        return np.full(k, np.nan)
    return resid[-k:] / scale


def rng_for(seed: int, *salt: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *salt]))


def min_length(series: MonthlySeries, months: int, model: str) -> None:
    if len(series.values) < months:
        have = len(series.values)
        raise ModelError(f"{model} needs at least {months} months, the series has {have}")
