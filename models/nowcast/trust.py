"""How far the model's own forecast of a month is trusted against a flash.

A Gaussian update weighs the flash against the model's paths as if the model's spread were
the whole truth about its error. In a break (the 2026 chip boom) the model is not noisy, it
is wrong: its month sits far from the flash with a narrow spread, and the update keeps most
of the model. So the model's forecast of the month is taken as a mixture of two regimes:
usually right, with its own spread, and now and then wrong, with `widen` times its variance.
A flash close to the model says "usually right" and the update is the Gaussian one; a flash
far from it (in units of that spread) makes "wrong" the likelier regime, and there the
model's month is widened and the flash dominates. Which regime a path takes is drawn from
the posterior probability of each given the flash.

`wrong` and `widen` are learned by maximum likelihood from past months that had a flash:
the mixture under which the months as published were likeliest given what the model and
the flash said of them (`fit_trust`, on each member's `Read` of each month; the flash
backtest learns it from the months before each one, `benchmarks/nowcast.py` prints it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Trust:
    """The model's month is right with its spread with probability 1 - `wrong`; wrong, with
    `widen` times its variance, with probability `wrong`."""

    wrong: float = 0.0
    widen: float = 1.0

    def regime_wrong(self, distance: float, model_var: float, flash_var: float) -> float:
        """P(the model is wrong | the flash's reading sits `distance` (log) from the model's
        mean), the model's variance `model_var` and the reading's `flash_var`."""
        if self.wrong <= 0 or self.widen <= 1 or model_var <= 0:
            return 0.0
        # In logs: a flash far from the model (a unit slip) underflows both densities.
        right = math.log(1 - self.wrong) + _log_density(distance, model_var + flash_var)
        wrong = math.log(self.wrong) + _log_density(distance, self.widen * model_var + flash_var)
        return 1.0 / (1.0 + math.exp(min(right - wrong, 700.0)))


def _log_density(x: float, var: float) -> float:
    return -0.5 * x * x / var - 0.5 * math.log(2 * math.pi * var)


@dataclass(frozen=True)
class Read:
    """One member's month and its flash, on the log scale: the member's mean and variance,
    the flash's reading and its variance, and the month as published."""

    mean: float
    var: float
    reading: float
    reading_var: float
    actual: float


GAUSSIAN = Trust()  # the model's spread trusted as it is: the plain Gaussian update


def _density(x: np.ndarray, var: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x / var) / np.sqrt(2 * np.pi * var)


def _log_likelihoods(reads: Sequence[Read], wrongs: np.ndarray, widen: float) -> np.ndarray:
    """log P(the months as published | model and flash) under each `wrongs` with `widen`."""
    m, v, r, s2, y = (np.array([getattr(x, f) for x in reads]) for f in Read.__dataclass_fields__)
    parts = []
    for factor in (1.0, widen):
        var = factor * v
        gain = var / (var + s2)
        mean, spread = m + gain * (r - m), var * s2 / (var + s2)
        parts.append((_density(r - m, var + s2), _density(y - mean, spread)))
    (ev_right, pred_right), (ev_wrong, pred_wrong) = parts
    w = np.asarray(wrongs)[:, None]
    joint = (1 - w) * ev_right * pred_right + w * ev_wrong * pred_wrong
    evidence = (1 - w) * ev_right + w * ev_wrong
    return np.log(np.maximum(joint, 1e-300) / np.maximum(evidence, 1e-300)).sum(axis=1)


def log_likelihood(reads: Sequence[Read], trust: Trust) -> float:
    """Of the months as published, given what the model and the flash said of each."""
    return float(_log_likelihoods(reads, np.array([trust.wrong]), max(trust.widen, 1.0))[0])


def fit_trust(reads: Sequence[Read]) -> Trust:
    """The mixture under which the months as published were likeliest, given each member's
    month and the flash (maximum likelihood on a grid); plain trust in the model's spread
    when a wider regime does not explain them better (or there is nothing to learn from)."""
    reads = [x for x in reads if x.var > 0 and x.reading_var > 0]
    best, best_ll = Trust(), log_likelihood(reads, Trust()) if reads else 0.0
    if not reads:
        return best
    wrongs = np.linspace(0.01, 0.6, 60)
    for widen in np.geomspace(1.5, 200.0, 60):
        ll = _log_likelihoods(reads, wrongs, float(widen))
        i = int(np.argmax(ll))
        if ll[i] > best_ll:
            best, best_ll = Trust(float(wrongs[i]), float(widen)), float(ll[i])
    return best


# The flash periods read with a learned trust. A 1-10 flash says too little of its month to
# overrule the model: read with two regimes it made the month's error worse in the flash
# backtest (3.72% -> 3.81%) and covered fewer break months (48% -> 43%), so it keeps the
# Gaussian update.
LEARNS = ("d1_20",)

# Learned by `fit_trust` from every month with a 1-20 flash in the flash backtest of the
# bundled series, 2017-2026 (`benchmarks/nowcast.py` prints the fit through each year).
LEARNED: dict[str, Trust] = {"d1_20": Trust(wrong=0.37, widen=38.1)}


def trust_for(period: str) -> Trust:
    """The trust a live forecast reads a flash of `period` with."""
    return LEARNED.get(period, GAUSSIAN)
