"""`auto`: a mixture of members' sample paths, with learned weights and calibration.

A mixture (not an average of paths) keeps each member's own uncertainty: the ensemble's
spread includes the members' disagreement. How much each member contributes, and how much
the mixture is widened or narrowed, is learned from the members' backtests on this series
(`models.accuracy`), ending before the data's last month. Members that fail to fit are left
out, and the result says which members it used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

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


def calibrate_paths(paths: np.ndarray, months_left: int, scale: float) -> np.ndarray:
    """Scale each path so that the unknown part of the current year's total spreads `scale`
    times as far (on the log scale) around its median; later months move with their path,
    so a path's level stays continuous."""
    if scale == 1.0:
        return paths
    k = max(1, min(months_left, paths.shape[1]))
    rest = paths[:, :k].sum(axis=1)
    log_rest = np.log(rest)
    centre = np.median(log_rest)
    factor = np.exp((scale - 1.0) * (log_rest - centre))
    return paths * factor[:, None]


@dataclass(frozen=True)
class Learning:
    """How `auto` learns: from which year, with how many paths per backtest fit, where fits
    are cached, and on how many processes."""

    first_year: int | None = None
    n_paths: int = 500
    cache_dir: Path | None = None
    jobs: int = 1


class FittedEnsemble(FittedModel):
    name = "auto"

    def __init__(
        self,
        fitted: Sequence[FittedModel],
        weights: Sequence[float],
        skipped: Mapping[str, str],
        scale: float = 1.0,
        months_left: int = 12,
        learned: Mapping | None = None,
    ):
        self._fitted = list(fitted)
        self._weights = list(weights)
        self.skipped = dict(skipped)
        self.scale = scale
        self.months_left = months_left
        self.learned = dict(learned or {})
        parts = ", ".join(f"{n} {w:.2f}" for n, w in self.weights.items())
        self.description = f"mixture of sample paths ({parts}), calibration x{scale:.2f}"

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
        paths = calibrate_paths(paths, self.months_left, self.scale)
        # Interleave so any prefix of the paths is itself a fair mixture.
        order = rng_for(seed, 99).permutation(len(paths))
        return paths[order], label[order]


class Ensemble(Model):
    name = "auto"

    def __init__(
        self,
        members: Sequence[Model],
        learning: Learning | None = None,
    ):
        if not members:
            raise ValueError("an ensemble needs members")
        self.members = list(members)
        self.learning = learning

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
        equal = [1.0] * len(fitted)
        learned = None if self.learning is None else learn_now(series, fitted, self.learning)
        if learned is None:
            return FittedEnsemble(fitted, equal, skipped, months_left=months_left)
        state, summary = learned
        return FittedEnsemble(
            fitted,
            [state.weights.get(f.name, 0.0) for f in fitted],
            skipped,
            scale=state.scale,
            months_left=months_left,
            learned={**state.to_dict(), **summary},
        )


def learn_now(series: MonthlySeries, fitted: Sequence[FittedModel], how: Learning):
    """Backtest the members on past years at the same months-known group as now, and
    return `auto`'s state for now with a summary of the evidence; None without history."""
    from models import backtest
    from models.accuracy import cases_for, expected_error, learn_auto, state_at
    from models.learning import m_group
    from models.scoring import score

    now = backtest.Origin((series.end + 1) // 12, (series.end + 1) % 12)
    months = [m for m in range(12) if m_group(m) == m_group(now.m)]
    first_year = how.first_year or (series.start + 36) // 12 + 1
    at = backtest.origins(series, first_year, now.year - 1, months)
    if len({o.year for o in at}) < 3:
        return None
    names = [f.name for f in fitted]
    results = backtest.run(series, names, at, how.n_paths, jobs=how.jobs, cache_dir=how.cache_dir)
    auto_cases, _ = learn_auto(series, names, results, at)
    member_cases = {n: cases_for(series, n, results, at) for n in names}
    state = state_at(now, member_cases, auto_cases, {f.name: f.recent_errors(3) for f in fitted})
    scored = [c for c in auto_cases if c.year >= first_year + 3]
    summary = {
        "expected_error": expected_error(scored, now.m),
        "backtest": {
            "origins": f"{min(o.year for o in at)}-{max(o.year for o in at)}, m in {months}",
            "mape_pct_by_m": {
                name: {
                    str(m): round(score([c for c in cases if c.m == m], name, str(m)).mape, 3)
                    for m in months
                    if any(c.m == m for c in cases)
                }
                for name, cases in {"auto": scored, **member_cases}.items()
            },
        },
    }
    return state, summary
