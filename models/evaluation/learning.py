"""How `auto` leans away from members after a break, mixes their draws, and how far a
set of cases says an interval must widen (the hierarchy's calibration learns with it; what
`auto` itself learns is in `models.prior`).

Everything here looks only at cases whose outcome was known at the origin: members'
projections of years that ended before it. The same functions serve the backtest (where
the origin moves through history) and a live fit (where the origin is now), so what the
backtest measures is what the service runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from exportcast.models.ensemble import allocate
from exportcast.models.evaluation.scoring import Case
from exportcast.models.prior.evidence import rest_ratio

# A break: the members' recent one-step errors, weighted as in the ensemble, add up to more
# than the 99th percentile of chi-square with 3 degrees of freedom.
BREAK_THRESHOLD = 11.34
MIN_CASES = 6


def m_group(m: int) -> int:
    return m // 3


@dataclass(frozen=True)
class Blend:
    weights: dict[str, float]
    surprise: float  # weighted sum of squared recent errors
    break_detected: bool


def blend(prior: Mapping[str, float], recent_errors: Mapping[str, np.ndarray]) -> Blend:
    """Keep the skill weights in ordinary times; after a break, lean on the members that the
    latest months surprised least (weights times each member's likelihood of them)."""
    names = list(prior)
    sq = {}
    for n in names:
        errors = np.asarray(recent_errors.get(n, np.array([])), dtype=float)
        errors = errors[np.isfinite(errors)]
        sq[n] = float(np.sum(errors**2)) if len(errors) else np.nan
    known = [n for n in names if np.isfinite(sq[n])]
    if not known:
        return Blend(dict(prior), 0.0, False)
    total = sum(prior[n] for n in known)
    surprise = sum(prior[n] * sq[n] for n in known) / total if total > 0 else 0.0
    if surprise <= BREAK_THRESHOLD:
        return Blend(dict(prior), surprise, False)
    least = min(sq[n] for n in known)
    raw = {n: prior[n] * (np.exp(-0.5 * (sq[n] - least)) if n in known else 0.0) for n in names}
    norm = sum(raw.values())
    return Blend({n: w / norm for n, w in raw.items()}, surprise, True)


def mixture(draws: Mapping[str, np.ndarray], weights: Mapping[str, float], n: int) -> np.ndarray:
    """A mixture of the members' draws with the given weights (draws are exchangeable).

    Draws are along the last axis: given (years, n_draws) arrays, draw i of every year
    stays from one path."""
    names = [k for k in draws if weights.get(k, 0) > 0]
    counts = allocate(n, [weights[k] for k in names])
    parts = []
    for name, count in zip(names, counts, strict=True):
        d = np.asarray(draws[name])
        parts.append(np.take(d, np.arange(count) % d.shape[-1], axis=-1))
    return np.concatenate(parts, axis=-1)


def calibration_scale(past: Sequence[Case], level: float) -> float:
    """Conformal factor for the unknown part of the year (log scale) at `level`.

    For each past case, how many half-widths of its `level` interval the outcome fell from
    the median; the factor is the finite-sample-corrected `level` quantile of that ratio.
    1.0 (no change) without enough history.
    """
    ratios = [r for c in past if (r := rest_ratio(c, level)) is not None]
    n = len(ratios)
    if n < MIN_CASES:
        return 1.0
    q = min(1.0, np.ceil((n + 1) * level / 100) / n)
    return float(np.quantile(ratios, q, method="higher"))
