"""Differencing taken out of the state space, and put back on simulated paths.

statsmodels can keep (1-B)^d (1-B^s)^D inside the Kalman filter, which adds d + s*D states
to every step of every likelihood evaluation; on the bundled series that made SARIMA fits
3-10x slower. Fitting the ARMA part on the differenced series instead gives the same
likelihood (the differenced-in-state version treats the first d + s*D months as diffuse, so
they carry no information either way), and simulated paths of the differenced series are
integrated back here with the last months of history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def difference_lags(d: int, seasonal_d: int, period: int) -> np.ndarray:
    """Coefficients c_1..c_n of y_t = w_t + sum_j c_j y_{t-j}, where w is y differenced
    d times at lag 1 and `seasonal_d` times at lag `period`."""
    poly = np.array([1.0])
    for _ in range(d):
        poly = np.convolve(poly, [1.0, -1.0])
    for _ in range(seasonal_d):
        lag = np.zeros(period + 1)
        lag[0], lag[-1] = 1.0, -1.0
        poly = np.convolve(poly, lag)
    return -poly[1:]


def difference(y: np.ndarray, d: int, seasonal_d: int, period: int) -> np.ndarray:
    """y differenced as statsmodels' `simple_differencing` does: len(y) - d - period*D long."""
    out = np.asarray(y, dtype=float)
    for _ in range(d):
        out = out[1:] - out[:-1]
    for _ in range(seasonal_d):
        out = out[period:] - out[:-period]
    return out


def integrate(
    differenced: np.ndarray, history: np.ndarray, d: int, seasonal_d: int, period: int
) -> np.ndarray:
    """Paths of the differenced series (n_paths, horizon) back to levels, continuing
    `history` (the series up to the first simulated month)."""
    lags = difference_lags(d, seasonal_d, period)
    n_lags = len(lags)
    w = np.atleast_2d(np.asarray(differenced, dtype=float))
    n_paths, horizon = w.shape
    if n_lags == 0:
        return w.copy()
    hist = np.asarray(history, dtype=float)
    if len(hist) < n_lags:
        raise ValueError(f"integrating needs the last {n_lags} months of history")
    out = np.empty((n_paths, n_lags + horizon))
    out[:, :n_lags] = hist[-n_lags:]
    reversed_lags = lags[::-1]  # so a window of the last n_lags values dots with them in order
    for h in range(horizon):
        t = n_lags + h
        out[:, t] = w[:, h] + out[:, h:t] @ reversed_lags
    return out[:, n_lags:]


@dataclass(frozen=True)
class Differencing:
    """How a fit's series was differenced, with the last months needed to undo it."""

    d: int
    seasonal_d: int
    period: int
    tail: np.ndarray

    @classmethod
    def of(cls, y: np.ndarray, d: int, seasonal_d: int, period: int) -> Differencing:
        n_lags = len(difference_lags(d, seasonal_d, period))
        return cls(d, seasonal_d, period, np.asarray(y, dtype=float)[len(y) - n_lags :].copy())

    def undo(self, paths: np.ndarray) -> np.ndarray:
        return integrate(paths, self.tail, self.d, self.seasonal_d, self.period)
