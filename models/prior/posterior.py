"""The prior updated by a series' own cases: what `auto` uses at a months-known `m`.

Each quantity is a posterior under a Dirichlet-process-like update: the prior counts as
`k` cases (its `pseudo_cases`, learned by empirical Bayes across the pool) and the series'
own cases, weighted by the kernel in m, count as themselves. With no cases of its own a
series gets the prior; with many, its own evidence. Quantiles (the calibration factors)
come from the mixture of the two distributions of ratios, the growth share from pooled
least squares, the members' errors from the mixture of the two means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from exportcast.models.calibration import YearStep
from exportcast.models.prior.evidence import LEVEL, TAIL, Evidence
from exportcast.models.prior.pooled import PERCENTILES, Prior, kernel


def mixed_quantile(
    prior: Sequence[float] | None, k: float, own: np.ndarray, weights: np.ndarray, level: float
) -> float:
    """The `level` quantile of (k x the prior's distribution + the own cases, weighted),
    the prior given by its percentiles 1-99 (None: the own cases alone)."""
    own = np.asarray(own, dtype=float)
    weights = np.asarray(weights, dtype=float)
    n = float(weights.sum())
    if prior is None:
        k = 0.0
    if n <= 0 and k <= 0:
        return 1.0
    grid_p = np.asarray(prior if prior is not None and k > 0 else [], dtype=float)
    candidates = np.unique(np.r_[grid_p, own[weights > 0]])
    prior_cdf = (
        np.interp(candidates, grid_p, PERCENTILES / 100.0, left=0.0, right=1.0)
        if len(grid_p)
        else np.zeros(len(candidates))
    )
    own_cdf = np.array([weights[own <= q].sum() for q in candidates])
    cdf = (k * prior_cdf + own_cdf) / (k + n)
    at = np.searchsorted(cdf, level / 100.0 - 1e-12)
    return float(candidates[min(at, len(candidates) - 1)])


def member_errors(
    prior: Prior | None,
    own: Evidence,
    features: np.ndarray,
    m: int,
    members: Sequence[str] | None = None,
) -> dict[str, float] | None:
    """Each member's expected error, its own (kernel-weighted) mean absolute error mixed
    with the prior's relative error scaled to the series' own error level; relative
    errors only (the weights depend on their ratios), None with neither."""
    names = tuple(members or own.members or (prior.members if prior else ()))
    if own.members and tuple(own.members) != names:
        own = _only(own, names)
    w = kernel(own.member_m, m) if len(own.member_m) else np.zeros(0)
    n = float(w.sum())
    if prior is None or not set(names) <= set(prior.members):
        if n <= 0:
            return None
        return {name: float(w @ own.member_errors[:, i] / n) for i, name in enumerate(own.members)}
    relative = prior.relative_errors(features, m)
    if n <= 0:
        return {name: relative[name] for name in names}
    k = prior.pseudo_cases["weights"]
    own_mean = {name: float(w @ own.member_errors[:, i] / n) for i, name in enumerate(names)}
    level = float(np.mean(list(own_mean.values())))
    return {name: (n * own_mean[name] + k * level * relative[name]) / (n + k) for name in names}


def _only(own: Evidence, names: Sequence[str]) -> Evidence:
    """The evidence of these members only (none if one of them has no cases)."""
    if not set(names) <= set(own.members):
        return Evidence(members=tuple(names))
    index = [own.members.index(n) for n in names]
    return Evidence(
        members=tuple(names),
        member_m=own.member_m,
        member_errors=own.member_errors[:, index],
        member_features=own.member_features,
    )


def weights_from_errors(errors: dict[str, float], power: float = 2.0) -> dict[str, float]:
    raw = {k: max(v, 1e-6) ** -power for k, v in errors.items()}
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()}


def current_scale(prior: Prior | None, own: Evidence, m: int) -> float:
    w = kernel(own.now_m, m)
    if prior is None:
        return _own_conformal(own.now_ratio, w, LEVEL)
    return mixed_quantile(prior.now_ratios[m], prior.pseudo_cases["scale"], own.now_ratio, w, LEVEL)


def _own_conformal(
    ratios: np.ndarray, weights: np.ndarray, level: float, min_cases: float = 6.0
) -> float:
    """Without a prior: the weighted `level` quantile with the finite-sample correction of
    split conformal prediction, 1.0 with too few cases."""
    n = float(weights.sum())
    if n < min_cases:
        return 1.0
    corrected = min(100.0, 100 * np.ceil((n + 1) * level / 100) / n)
    return mixed_quantile(None, 0.0, ratios, weights, corrected)


def growth_share(prior: Prior | None, own: Evidence, m: int) -> float:
    w = kernel(own.later_m, m)
    sxx = float(w @ own.later_x**2)
    n = float(w.sum())
    g0 = prior.growth[m] if prior else 1.0
    k = prior.pseudo_cases["growth"] if prior else 0.0
    if sxx <= 0 or n <= 0:
        return g0 if prior else 1.0
    own_g = float(w @ (own.later_x * own.later_y)) / sxx
    return float(np.clip((n * own_g + k * g0) / (n + k), 0.0, 1.0))


def later_steps(prior: Prior | None, own: Evidence, m: int, growth: float) -> tuple[YearStep, ...]:
    """The step of each horizon 2..5: the growth share, and the 80% and 95% conformal
    factors of the cases with that share applied, mixed with the prior's."""
    steps = []
    for h in range(2, 6):
        mine = own.later_h == h
        w = kernel(own.later_m[mine], m)
        miss = np.abs(own.later_y[mine] - growth * own.later_x[mine])
        halves = own.later_half[mine]
        factors = []
        for j, level in enumerate((LEVEL, TAIL)):
            ratios = miss / np.where(halves[:, j] > 0, halves[:, j], np.inf)
            if prior is None:
                factors.append(_own_conformal(ratios, w, level))
                continue
            factors.append(
                mixed_quantile(
                    prior.later_ratios[h - 2][m][j], prior.pseudo_cases["spread"], ratios, w, level
                )
            )
        steps.append(YearStep(growth, factors[0], factors[1]))
    return tuple(steps)


@dataclass(frozen=True)
class Posterior:
    weights: dict[str, float]
    scale: float
    growth: float
    steps: tuple[YearStep, ...]
    own_cases: float  # the kernel-weighted count of the series' own year-in-progress cases


def posterior(
    prior: Prior | None, own: Evidence, features: np.ndarray, m: int, members: Sequence[str]
) -> Posterior:
    """Everything `auto` learns at `m`, from the prior and the series' own evidence."""
    errors = member_errors(prior, own, features, m, members)
    if errors is None or set(errors) != set(members):
        weights = dict.fromkeys(members, 1 / len(members))
    else:
        weights = weights_from_errors(errors)
    growth = growth_share(prior, own, m)
    return Posterior(
        weights,
        current_scale(prior, own, m),
        growth,
        later_steps(prior, own, m, growth),
        float(kernel(own.member_m, m).sum()) if len(own.member_m) else 0.0,
    )
