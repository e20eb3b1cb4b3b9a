"""`auto`: a mixture of members' sample paths.

A mixture (not an average of paths) keeps each member's own uncertainty: the ensemble's
spread includes the members' disagreement. Members that fail to fit are left out and
the result says which members it used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from models.base import FittedModel, Model, ModelError, rng_for
from models.series import MonthlySeries


def allocate(n_paths: int, weights: Sequence[float]) -> list[int]:
    """Split n_paths among members in proportion to weights (largest remainders)."""
    w = np.asarray(weights, dtype=float)
    if len(w) == 0 or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be non-negative and not all zero")
    exact = n_paths * w / w.sum()
    counts = np.floor(exact).astype(int)
    short = n_paths - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:short]] += 1
    return counts.tolist()


class FittedEnsemble(FittedModel):
    name = "auto"

    def __init__(self, fitted: Sequence[FittedModel], weights: Sequence[float], skipped: Mapping):
        self._fitted = list(fitted)
        self._weights = list(weights)
        self.skipped = dict(skipped)
        parts = ", ".join(
            f"{m.name} {w:.2f}" for m, w in zip(self._fitted, self._weights, strict=True)
        )
        self.description = f"mixture of sample paths ({parts})"

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(m.name for m in self._fitted)

    @property
    def weights(self) -> dict[str, float]:
        total = sum(self._weights)
        return {m.name: w / total for m, w in zip(self._fitted, self._weights, strict=True)}

    def member(self, name: str) -> FittedModel:
        return next(m for m in self._fitted if m.name == name)

    def sample_paths(self, horizon: int, n_paths: int, seed: int) -> np.ndarray:
        return self.sample_labelled(horizon, n_paths, seed)[0]

    def sample_labelled(
        self, horizon: int, n_paths: int, seed: int
    ) -> tuple[np.ndarray, np.ndarray]:
        counts = allocate(n_paths, self._weights)
        blocks, labels = [], []
        for i, (member, count) in enumerate(zip(self._fitted, counts, strict=True)):
            if count > 0:
                blocks.append(member.sample_paths(horizon, count, seed + 7919 * (i + 1)))
                labels.append(np.full(count, i, dtype=np.int8))
        paths, label = np.vstack(blocks), np.concatenate(labels)
        # Interleave so any prefix of the paths is itself a fair mixture.
        order = rng_for(seed, 99).permutation(len(paths))
        return paths[order], label[order]


class Ensemble(Model):
    name = "auto"

    def __init__(self, members: Sequence[Model], weights: Sequence[float] | None = None):
        if not members:
            raise ValueError("an ensemble needs members")
        self.members = list(members)
        self.weights = list(weights) if weights is not None else [1.0] * len(members)

    def fit(self, series: MonthlySeries) -> FittedEnsemble:
        fitted: list[FittedModel] = []
        weights: list[float] = []
        skipped: dict[str, str] = {}
        for model, weight in zip(self.members, self.weights, strict=True):
            try:
                fitted.append(model.fit(series))
                weights.append(weight)
            except ModelError as exc:
                skipped[model.name] = str(exc)
        if not fitted:
            reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items())
            raise ModelError(f"no ensemble member could be fitted ({reasons})")
        return FittedEnsemble(fitted, weights, skipped)
