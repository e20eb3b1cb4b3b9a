"""A model of the composition: shares that stay positive and add to one.

The shares are carried as additive log-ratios against the last region ("rest"). Each
log-ratio moves with a damped drift, the recent slope continued by phi + phi^2 + ... (phi = 0
is last period's shares, phi = 1 a straight drift), and Gaussian noise whose covariance grows
with the horizon as h^power. phi, the slope's window, the noise and its power are all
learned from the compositions given (rolling origins inside them, so the backtest that
judges the model never lets it see its own test years). Any horizon may be fractional: the
newest composition may be twelve months that are not a calendar year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DAMPINGS = (0.0, 0.15, 0.3, 0.5, 0.8, 1.0)
WINDOWS = (3, 5, 8)
CHOSEN_ON = 3  # phi and the window are chosen on in-sample errors up to this many years
MIN_ORIGINS = 4  # in-sample one-step errors needed to choose phi and the window


def alr(shares: np.ndarray) -> np.ndarray:
    """Log-ratios of every share but the last to the last, along the last axis."""
    s = np.asarray(shares, dtype=float)
    return np.log(s[..., :-1]) - np.log(s[..., -1:])


def from_alr(y: np.ndarray) -> np.ndarray:
    """Shares from log-ratios: positive, adding to one along the last axis."""
    full = np.concatenate([y, np.zeros((*y.shape[:-1], 1))], axis=-1)
    full -= full.max(axis=-1, keepdims=True)
    e = np.exp(full)
    return e / e.sum(axis=-1, keepdims=True)


def damped(phi: float, h: float) -> float:
    """phi + phi^2 + ... + phi^h, continued to a fractional h."""
    if phi >= 1.0:
        return float(h)
    if phi <= 0.0:
        return 0.0
    return phi * (1.0 - phi**h) / (1.0 - phi)


@dataclass(frozen=True)
class FittedComposition:
    phi: float
    window: int
    last: np.ndarray  # log-ratios of the newest composition
    at: float  # when the newest composition is
    slope: np.ndarray  # log-ratio change a year
    noise: np.ndarray  # one-year covariance of the log-ratios' errors
    power: float  # the covariance at horizon h is noise * h ** power
    origins: int  # in-sample origins the noise was learned from

    def mean(self, at: float) -> np.ndarray:
        return self.last + self.slope * damped(self.phi, at - self.at)

    def record(self) -> dict[str, float | int]:
        return {
            "damping": self.phi,
            "window_years": self.window,
            "noise_power": round(self.power, 3),
            "origins": self.origins,
        }


def _slope(y: np.ndarray, at: np.ndarray, end: int, window: int) -> np.ndarray:
    """The log-ratios' change a year over about the last `window` years before `end`."""
    earlier = [j for j in range(end) if at[j] <= at[end] - window + 1e-9]
    j = earlier[-1] if earlier else 0
    if j == end:
        return np.zeros(y.shape[1])
    return (y[end] - y[j]) / (at[end] - at[j])


def _forecasts(
    y: np.ndarray, at: np.ndarray, phi: float, window: int, horizon: int
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """(h, forecast, actual) log-ratios of every in-sample forecast up to `horizon` years
    ahead."""
    out = []
    for origin in range(1, len(y) - 1):
        slope = _slope(y, at, origin, window)
        for target in range(origin + 1, len(y)):
            h = at[target] - at[origin]
            if h > horizon + 1e-9:
                break
            out.append((h, y[origin] + slope * damped(phi, h), y[target]))
    return out


def _share_error(made: list[tuple[float, np.ndarray, np.ndarray]]) -> float:
    """Mean absolute error in shares: the backtest's measure, on which big regions weigh
    as they do in the exports (log-ratios would weigh the small ones as much)."""
    forecast = from_alr(np.array([f for _, f, _ in made]))
    actual = from_alr(np.array([a for _, _, a in made]))
    return float(np.abs(forecast - actual).mean())


def _shrunk(errors: np.ndarray) -> np.ndarray:
    """Second moments of the errors (not centred: a bias is an error too), shrunk toward
    their diagonal as much as few errors in many dimensions need."""
    n, k = errors.shape
    s = errors.T @ errors / n
    lam = min(1.0, k / (n + k))
    return (1 - lam) * s + lam * np.diag(np.diag(s))


def fit_composition(shares: np.ndarray, at: Sequence[float], horizon: int = 5) -> FittedComposition:
    """Fit on compositions (n, regions), oldest first, at times `at`; the last region is the
    reference. With too few compositions to choose, phi and the window fall back to the
    plain last shares and a three-year window."""
    y = alr(shares)
    t = np.asarray(at, dtype=float)
    if len(y) < 3:
        raise ValueError(f"{len(y)} compositions; at least 3 are needed")
    best = (0.0, WINDOWS[0])
    scored = []
    for p in DAMPINGS:
        for w in WINDOWS:
            made = _forecasts(y, t, p, w, CHOSEN_ON)
            if len(made) >= MIN_ORIGINS:
                scored.append((_share_error(made), p, w))
    if scored:
        _, phi, window = min(scored)
        best = (phi, window)
    phi, window = best
    errs = [(h, a - f) for h, f, a in _forecasts(y, t, phi, window, horizon)]
    ones = np.array([e / np.sqrt(h) for h, e in errs if h <= 1.0 + 1e-9])
    noise = _shrunk(ones if len(ones) else np.diff(y, axis=0))
    # How the errors grow with the horizon: their mean square against h, on logs.
    hs = np.array([h for h, _ in errs])
    sq = np.array([float(e @ e) for _, e in errs])
    power = 1.0
    if len(set(np.round(hs))) >= 2:
        by_h = {h: sq[np.round(hs) == h].mean() for h in sorted(set(np.round(hs)))}
        keys = np.array(list(by_h), dtype=float)
        vals = np.log(np.maximum(np.array(list(by_h.values())), 1e-12))
        power = float(np.clip(np.polyfit(np.log(keys), vals, 1)[0], 1.0, 2.0))
    last = len(y) - 1
    return FittedComposition(
        phi=phi,
        window=window,
        last=y[last],
        at=float(t[last]),
        slope=_slope(y, t, last, window),
        noise=noise,
        power=power,
        origins=len(ones),
    )


def simulate_shares(
    fitted: FittedComposition, years: Sequence[float], n_paths: int, rng: np.random.Generator
) -> np.ndarray:
    """Share paths (years, n_paths, regions): each path's log-ratios walk from year to
    year, so a path is one future, not a draw per year."""
    k = len(fitted.last)
    chol = np.linalg.cholesky(fitted.noise + 1e-12 * np.eye(k))
    out = np.empty((len(years), n_paths, k + 1))
    y = np.tile(fitted.last, (n_paths, 1))
    before_var, before_mean = 0.0, fitted.last
    for j, year in enumerate(years):
        h = max(float(year) - fitted.at, 0.0)
        var = h**fitted.power
        mean = fitted.mean(float(year))
        step = max(var - before_var, 0.0)
        y = y + (mean - before_mean) + np.sqrt(step) * rng.standard_normal((n_paths, k)) @ chol.T
        before_var, before_mean = var, mean
        out[j] = _centred(y, from_alr(mean[None])[0])
    return out


def _centred(y: np.ndarray, point: np.ndarray, rounds: int = 30, tol: float = 1e-4) -> np.ndarray:
    """Shares of the log-ratio paths `y`, shifted together so the regions' medians over the
    paths stand to one another as the point forecast's shares do: the noise's curvature (a
    share is a ratio of exponentials) would otherwise pull the medians of the widely spread
    regions off it, further the longer the horizon. (They cannot all equal the point's
    shares: medians need not add to one.) Each path still adds up to one, and the shift is
    the same on every path, so their order is kept."""
    shift = np.zeros(y.shape[1])
    target = alr(point[None])[0]
    for _ in range(rounds):
        off = target - alr(np.median(from_alr(y + shift), axis=0)[None])[0]
        if np.max(np.abs(off)) < tol:
            break
        shift += off
    return from_alr(y + shift)
