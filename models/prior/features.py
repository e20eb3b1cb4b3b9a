"""Features of a series that say which members to trust on it (FFORMA's idea, kept small).

Each is cheap, scale-free and defined for any series of two years or more:
- `log_length`: log of the months seen (short histories favour simple members);
- `trend` and `seasonal`: strength of trend and of seasonality in the log series, as in
  Wang, Smith and Hyndman (2006): 1 - var(remainder) / var(component + remainder);
- `volatility`: standard deviation of the 12-month log growth (how far a year can move).
"""

from __future__ import annotations

import numpy as np

from exportcast.models.series import MonthlySeries

NAMES: tuple[str, ...] = ("log_length", "trend", "seasonal", "volatility")


def _strength(component: np.ndarray, remainder: np.ndarray) -> float:
    total = np.var(component + remainder)
    if total <= 0:
        return 0.0
    return float(np.clip(1 - np.var(remainder) / total, 0.0, 1.0))


def features(series: MonthlySeries) -> np.ndarray:
    """The series' features, in the order of `NAMES` (from the last ten years at most)."""
    logs = np.log(np.asarray(series.values, dtype=float)[-120:])
    n = len(logs)
    if n < 25:
        return np.array([np.log(max(n, 1)), 0.0, 0.0, 0.0])
    # Classical decomposition: a 2x12 moving average for the trend, monthly means of the
    # detrended series for the seasonal part.
    weights = np.r_[0.5, np.ones(11), 0.5] / 12
    trend = np.convolve(logs, weights, mode="valid")  # centred: loses 6 months each end
    inner = logs[6:-6]
    detrended = inner - trend
    phase = (np.arange(len(inner)) + series.start + 6) % 12
    means = np.array([detrended[phase == k].mean() for k in range(12)])
    seasonal = means[phase] - means.mean()
    remainder = detrended - seasonal
    growth = logs[12:] - logs[:-12]
    return np.array(
        [
            np.log(len(series.values)),
            _strength(trend - trend.mean(), remainder),
            _strength(seasonal, remainder),
            float(np.std(growth)),
        ]
    )
