"""`auto`: a mixture of its members' sample paths.

A mixture (not an average of paths) keeps each member's own uncertainty: the ensemble's
spread includes the members' disagreement. How much each member contributes, and how much
the mixture is widened or narrowed, is learned from backtests by `evaluation.auto` and handed
in with `reweighted`; fitted on its own, the ensemble mixes its members equally. Members
that fail to fit are left out, and `skipped` says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from exportcast.models.calibration import YearStep, calibrate_paths
from exportcast.models.families.base import FittedModel, Model, ModelError, rng_for
from exportcast.models.series import MonthlySeries


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


@dataclass(frozen=True)
class Mixture:
    paths: np.ndarray  # (n_paths, horizon)
    labels: np.ndarray  # index into the ensemble's members of the member that drew each path


class FittedEnsemble(FittedModel):
    name = "auto"

    def __init__(
        self,
        fitted: Sequence[FittedModel],
        weights: Sequence[float],
        skipped: Mapping[str, str],
        months_left: int,
        scale: float = 1.0,
        learned: Mapping[str, Any] | None = None,
        steps: Sequence[YearStep] = (),
        year_to_date: float = 0.0,
    ):
        self.fitted = list(fitted)
        self._weights = list(weights)
        self.skipped = dict(skipped)
        self.months_left = months_left
        self.scale = scale
        self.steps = tuple(steps)
        self.year_to_date = year_to_date  # published months of the year in progress
        self.learned = dict(learned or {})
        parts = ", ".join(f"{n} {w:.2f}" for n, w in self.weights.items())
        self.description = f"mixture of sample paths ({parts}), calibration x{scale:.2f}"
        if self.steps:
            self.description += f", growth after this year x{self.steps[0].growth:.2f}"

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.fitted)

    @property
    def weights(self) -> dict[str, float]:
        total = sum(self._weights)
        return {m.name: w / total for m, w in zip(self.fitted, self._weights, strict=True)}

    def reweighted(
        self,
        weights: Mapping[str, float],
        scale: float,
        learned: Mapping[str, Any],
        steps: Sequence[YearStep] = (),
    ) -> FittedEnsemble:
        """The same fitted members, mixed with learned weights and calibration."""
        return FittedEnsemble(
            self.fitted,
            [weights.get(m.name, 0.0) for m in self.fitted],
            self.skipped,
            self.months_left,
            scale,
            learned,
            steps,
            self.year_to_date,
        )

    def as_recorded(self, learned: Mapping[str, Any]) -> FittedEnsemble:
        """The members mixed as a version's record says (its weights, calibration and later
        years' steps): how a version is made, so it can be made again from its record to
        tell why the next one moved."""
        weights = learned.get("weights") or {m.name: 1.0 for m in self.fitted}
        return self.reweighted(
            weights,
            float(learned.get("calibration_scale", 1.0)),
            learned,
            recorded_steps(learned.get("horizon_calibration") or {}),
        )

    def sample_paths(self, horizon: int, n_paths: int, seed: int) -> np.ndarray:
        return self.mixture(horizon, n_paths, seed).paths

    def calibrate(self, paths: np.ndarray) -> np.ndarray:
        """The mixture's paths with what was learned of the current and later years."""
        return calibrate_paths(paths, self.months_left, self.scale, self.steps, self.year_to_date)

    def mixture(self, horizon: int, n_paths: int, seed: int, calibrated: bool = True) -> Mixture:
        """Paths, and which member drew each, so one member's paths can be served alone.

        `calibrated=False` leaves the calibration to the caller (`calibrate`): a flash is
        read into the members' own paths first, as the nowcast backtest measured it."""
        counts = allocate(n_paths, self._weights)
        blocks, labels = [], []
        for i, (member, count) in enumerate(zip(self.fitted, counts, strict=True)):
            if count > 0:
                blocks.append(member.sample_paths(horizon, count, seed + 7919 * (i + 1)))
                labels.append(np.full(count, i, dtype=np.int8))
        paths, label = np.vstack(blocks), np.concatenate(labels)
        if calibrated:
            paths = self.calibrate(paths)
        # Interleave so any prefix of the paths is itself a fair mixture.
        order = rng_for(seed, 99).permutation(len(paths))
        return Mixture(paths[order], label[order])


def recorded_steps(by_horizon: Mapping[str, Mapping[str, float]]) -> tuple[YearStep, ...]:
    """The later years' steps from a record's `horizon_calibration` ({"2": {...}, ...})."""
    return tuple(
        YearStep(float(s["growth"]), float(s["spread"]), float(s.get("tail", 0.0)))
        for _, s in sorted(by_horizon.items(), key=lambda kv: int(kv[0]))
    )


class Ensemble(Model):
    name = "auto"

    def __init__(self, members: Sequence[Model]):
        if not members:
            raise ValueError("an ensemble needs members")
        self.members = list(members)

    def fit(self, series: MonthlySeries) -> FittedEnsemble:
        fitted: list[FittedModel] = []
        skipped: dict[str, str] = {}
        for model in self.members:
            try:
                fitted.append(model.fit(series))
            except ModelError as exc:
                skipped[model.name] = str(exc)
        if not fitted:
            reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items())
            raise ModelError(f"no ensemble member could be fitted ({reasons})")
        months_left = 12 - (series.end + 1) % 12
        return FittedEnsemble(
            fitted,
            [1.0] * len(fitted),
            skipped,
            months_left,
            year_to_date=series.year_to_date((series.end + 1) // 12)[1],
        )
