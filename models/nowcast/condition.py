"""Sample paths conditioned on what a flash says of their first month.

Within each member's paths (each close to Gaussian on the log scale) an ensemble Kalman
update: the first month moves towards the flash's reading in proportion to how much surer
the flash is than the model (with the reading's own noise drawn per path, so the spread
that remains is honest), and every later month of a path moves by its regression on the
first month across the member's paths, so a path that learns its level is higher stays
higher. No path is dropped or duplicated, so a surprising flash cannot collapse the sample
as reweighting would. How well each member foresaw the reading (its evidence) is returned
too, for the caller to weigh members by.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from exportcast.models.nowcast.ratio import MonthBelief


@dataclass(frozen=True)
class Conditioned:
    paths: np.ndarray  # (n_paths, horizon), the first month conditioned on the flash
    log_evidence: dict[int, float]  # label -> log density of the reading under that member


def condition_paths(
    paths: np.ndarray,
    labels: np.ndarray | None,
    belief: MonthBelief,
    rng: np.random.Generator,
) -> Conditioned:
    paths = np.asarray(paths, dtype=float)
    logs = np.log(paths)
    groups = np.zeros(len(paths), dtype=int) if labels is None else np.asarray(labels)
    out = logs.copy()
    evidence: dict[int, float] = {}
    noise_var = belief.log_sd**2
    for label in np.unique(groups):
        rows = np.flatnonzero(groups == label)
        block = logs[rows]
        first = block[:, 0]
        mean = float(first.mean())
        var = float(first.var(ddof=1)) if len(rows) > 1 else 0.0
        evidence[int(label)] = _log_normal_density(belief.log_mean, mean, var + noise_var)
        gain = var / (var + noise_var) if var + noise_var > 0 else 1.0
        reading = belief.draw(rng, len(rows))
        moved = first + gain * (reading - first) if var > 0 else reading
        shift = moved - first
        if var > 0:
            centred = block - block.mean(axis=0)
            slopes = centred.T @ (first - mean) / ((len(rows) - 1) * var)
        else:
            slopes = np.ones(block.shape[1])
        out[rows] = block + shift[:, None] * slopes[None, :]
    return Conditioned(np.exp(out), evidence)


def _log_normal_density(x: float, mean: float, var: float) -> float:
    return -0.5 * (math.log(2 * math.pi * var) + (x - mean) ** 2 / var)


def reweigh(
    weights: dict[str, float], evidence: dict[str, float], temper: float = 1.0
) -> dict[str, float]:
    """Member weights times how well each foresaw the reading (to the power `temper`)."""
    names = [n for n in weights if n in evidence]
    if not names:
        return dict(weights)
    top = max(evidence[n] for n in names)
    raw = {n: weights[n] * math.exp(temper * (evidence[n] - top)) for n in names}
    total = sum(raw.values())
    return {n: raw.get(n, 0.0) / total for n in weights} if total > 0 else dict(weights)
