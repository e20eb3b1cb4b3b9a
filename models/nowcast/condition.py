"""Sample paths conditioned on what a flash says of their first month.

Within each member's paths (each close to Gaussian on the log scale) an ensemble Kalman
update: the first month moves towards the flash's reading in proportion to how much surer
the flash is than the model (with the reading's own noise drawn per path, so the spread
that remains is honest), and every later month of a path moves by its regression on the
first month across the member's paths, so a path that learns its level is higher stays
higher. No path is dropped or duplicated, so a surprising flash cannot collapse the sample
as reweighting would.

Members keep their weights: weighing them also by how well each foresaw the flash (Bayes'
rule on the reading) was measured in the flash backtest and changed little (year-end error
with the 1-20 flash 2.43% -> 2.39%, its month's 80% coverage 81% -> 76%), so it is not done.
"""

from __future__ import annotations

import numpy as np

from exportcast.models.nowcast.ratio import MonthBelief
from exportcast.models.nowcast.trust import GAUSSIAN, Trust


def condition_paths(
    paths: np.ndarray,
    labels: np.ndarray | None,
    belief: MonthBelief,
    rng: np.random.Generator,
    trust: Trust = GAUSSIAN,
) -> np.ndarray:
    """`paths` (n_paths, horizon) with the first month conditioned on `belief`, within
    each member's paths (`labels`; all one group when None). With a `trust` of two
    regimes (the default is the plain Gaussian update), a path takes
    the "model wrong" regime with its posterior probability given the flash: its month is
    widened around the member's mean and updated with the gain of the wider variance."""
    paths = np.asarray(paths, dtype=float)
    logs = np.log(paths)
    groups = np.zeros(len(paths), dtype=int) if labels is None else np.asarray(labels)
    out = logs.copy()
    noise_var = belief.log_sd**2
    for label in np.unique(groups):
        rows = np.flatnonzero(groups == label)
        block = logs[rows]
        first = block[:, 0]
        mean = float(first.mean())
        var = float(first.var(ddof=1)) if len(rows) > 1 else 0.0
        reading = belief.draw(rng, len(rows))
        p_wrong = trust.regime_wrong(belief.log_mean - mean, var, noise_var)
        wrong = rng.random(len(rows)) < p_wrong if p_wrong > 0 else np.zeros(len(rows), bool)
        widen = np.where(wrong, trust.widen, 1.0)
        prior = mean + np.sqrt(widen) * (first - mean)
        var_each = widen * var
        gain = np.where(var_each + noise_var > 0, var_each / (var_each + noise_var), 1.0)
        moved = prior + gain * (reading - prior) if var > 0 else reading
        shift = moved - first
        if var > 0:
            centred = block - block.mean(axis=0)
            slopes = centred.T @ (first - mean) / ((len(rows) - 1) * var)
        else:
            slopes = np.ones(block.shape[1])
        out[rows] = block + shift[:, None] * slopes[None, :]
    return np.exp(out)
