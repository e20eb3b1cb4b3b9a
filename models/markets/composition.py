"""A model of the composition: shares that stay positive and add to one.

Each region's log-share (centred: less the mean of the regions' log-shares, since only
ratios of shares mean anything) keeps part of its last yearly change: rho_r of it the next year,
rho_r^2 the year after, and so on (rho_r < 0 is a swing that tends to reverse). rho_r is the
lag-1 autocorrelation of the region's yearly changes, partially pooled toward the regions'
common one (each region's own pairs of changes weigh against `POOLING` pairs of the pooled
value): the large markets' shares have moved in runs (China, the US, the EU: 0.4-0.5), the
small and volatile ones swing back. Around that point the log-ratios of the shares to the
last region ("rest") get Gaussian noise whose covariance grows with the horizon as h^power,
learned from the model's own in-sample errors. Everything is learned from the compositions
given, with each in-sample forecast made from the compositions before it only, so the
backtest that judges the model never lets it see its own test years. A horizon may be
fractional: the newest composition may be twelve months that are not a calendar year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

POOLING = 10.0  # pairs of changes the pooled autocorrelation counts as, for each region
RHO_RANGE = (-0.5, 0.8)
MIN_PAIRS = 3  # pairs of yearly changes needed before any momentum is used
MIN_SHARE = 1e-6


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


def kept(rho: np.ndarray, h: float) -> np.ndarray:
    """rho + rho^2 + ... + rho^h for each region, a fractional last year taken in part."""
    rho = np.asarray(rho, dtype=float)
    whole = int(np.floor(h + 1e-12))
    total = np.zeros_like(rho)
    power = np.ones_like(rho)
    for _ in range(whole):
        power = power * rho
        total = total + power
    return total + (h - whole) * power * rho


def momentum(logs: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, float]:
    """Each region's rho and the pooled one, from the yearly changes of its log-shares
    (logs (n, regions), at (n)): pairs of successive changes one year apart."""
    gaps = np.diff(at)
    changes = np.diff(logs, axis=0) / gaps[:, None]
    pairs = [
        (changes[i], changes[i + 1])
        for i in range(len(changes) - 1)
        if abs(gaps[i] - 1) < 1e-9 and abs(gaps[i + 1] - 1) < 1e-9
    ]
    k = logs.shape[1]
    if len(pairs) < MIN_PAIRS:
        return np.zeros(k), 0.0
    centred = np.array([c for pair in pairs for c in pair]).mean(axis=0)
    before = np.array([a - centred for a, _ in pairs])
    after = np.array([b - centred for _, b in pairs])
    num, den = (before * after).sum(axis=0), (before**2).sum(axis=0)
    pooled = float(num.sum() / max(den.sum(), 1e-12))
    own = num / np.maximum(den, 1e-12)
    n = len(pairs)
    rho = (n * own + POOLING * pooled) / (n + POOLING)
    return np.clip(rho, *RHO_RANGE), pooled


def _point(logs: np.ndarray, at: np.ndarray, rho: np.ndarray, h: float) -> np.ndarray:
    """Log-ratios expected h years after the last of `logs`: its last yearly change kept
    as `rho` says."""
    step = (logs[-1] - logs[-2]) / (at[-1] - at[-2])
    expected = logs[-1] + step * kept(rho, h)
    return expected[:-1] - expected[-1]


@dataclass(frozen=True)
class FittedComposition:
    last_logs: np.ndarray  # centred log-shares of the newest composition (regions)
    step: np.ndarray  # their last yearly change
    rho: np.ndarray  # the part of it each region keeps a year
    pooled: float  # the regions' common autocorrelation, before pooling
    at: float  # when the newest composition is
    noise: np.ndarray  # one-year covariance of the log-ratios' errors
    power: float  # the covariance at horizon h is noise * h ** power
    origins: int  # in-sample one-year errors the noise was learned from

    @property
    def last(self) -> np.ndarray:
        return self.last_logs[:-1] - self.last_logs[-1]

    def mean(self, at: float) -> np.ndarray:
        expected = self.last_logs + self.step * kept(self.rho, at - self.at)
        return expected[:-1] - expected[-1]

    def centre(self, at: float) -> np.ndarray:
        """The composition's centre at `at`: the median in log-ratio space, where the noise
        is Gaussian, as shares adding to one (the regions' own medians add to less)."""
        return from_alr(self.mean(at)[None])[0]

    def record(self, names: Sequence[str]) -> dict[str, object]:
        return {
            "momentum": {n: round(float(r), 3) for n, r in zip(names, self.rho, strict=True)},
            "pooled_momentum": round(self.pooled, 3),
            "noise_power": round(self.power, 3),
            "origins": self.origins,
        }


def _errors(logs: np.ndarray, at: np.ndarray, horizon: int) -> list[tuple[float, np.ndarray]]:
    """(h, log-ratio error) of every in-sample forecast up to `horizon` years ahead, each
    made with the momentum learned from the compositions up to its origin only."""
    out = []
    for origin in range(1, len(logs) - 1):
        rho, _ = momentum(logs[: origin + 1], at[: origin + 1])
        for target in range(origin + 1, len(logs)):
            h = at[target] - at[origin]
            if h > horizon + 1e-9:
                break
            actual = logs[target][:-1] - logs[target][-1]
            out.append((h, actual - _point(logs[: origin + 1], at[: origin + 1], rho, h)))
    return out


def _shrunk(errors: np.ndarray) -> np.ndarray:
    """Second moments of the errors (not centred: a bias is an error too), shrunk toward
    their diagonal as much as few errors in many dimensions need."""
    n, k = errors.shape
    s = errors.T @ errors / n
    lam = min(1.0, k / (n + k))
    return (1 - lam) * s + lam * np.diag(np.diag(s))


def fit_composition(shares: np.ndarray, at: Sequence[float], horizon: int = 5) -> FittedComposition:
    """Fit on compositions (n, regions), oldest first, at times `at`; the last region is
    the reference of the log-ratios."""
    # A region with no exports in some year (a partner list without it) is floored at a
    # millionth: its log-ratios stay finite, and it stays next to nothing.
    floored = np.maximum(np.asarray(shares, dtype=float), MIN_SHARE)
    shares = floored / floored.sum(axis=1, keepdims=True)
    logs = np.log(shares)
    logs = logs - logs.mean(axis=1, keepdims=True)  # centred: only ratios mean anything
    t = np.asarray(at, dtype=float)
    if len(logs) < 3:
        raise ValueError(f"{len(logs)} compositions; at least 3 are needed")
    rho, pooled = momentum(logs, t)
    errs = _errors(logs, t, horizon)
    ones = np.array([e / np.sqrt(h) for h, e in errs if h <= 1.0 + 1e-9])
    noise = _shrunk(ones if len(ones) else np.diff(alr(shares), axis=0))
    # How the errors grow with the horizon: their mean square against h, on logs.
    hs = np.array([h for h, _ in errs])
    sq = np.array([float(e @ e) for _, e in errs])
    power = 1.0
    if len(set(np.round(hs))) >= 2:
        by_h = {h: sq[np.round(hs) == h].mean() for h in sorted(set(np.round(hs)))}
        keys = np.array(list(by_h), dtype=float)
        vals = np.log(np.maximum(np.array(list(by_h.values())), 1e-12))
        power = float(np.clip(np.polyfit(np.log(keys), vals, 1)[0], 1.0, 2.0))
    step = (logs[-1] - logs[-2]) / (t[-1] - t[-2])
    return FittedComposition(
        last_logs=logs[-1],
        step=step,
        rho=rho,
        pooled=pooled,
        at=float(t[-1]),
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
