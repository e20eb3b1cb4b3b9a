"""Are the projected shares better than last year's shares, or than a straight drift?

Annual origins, each fitted on the complete years up to it and nothing after (the model
learns its momentum and noise from those years alone), scored at horizons 1..5 on
the years the data have, beside the two baselines computed in the same run on the same
cases: mean absolute error in share points over the regions, and how often each region's
central 80% and 95% intervals held the share that came.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from exportcast.models.families.base import rng_for
from exportcast.models.markets.composition import fit_composition, simulate_shares
from exportcast.models.markets.destinations import Composition
from exportcast.models.markets.regions import REGION_IDS

METHODS = ("model", "last_shares", "drift")


def last_shares(history: np.ndarray, h: int) -> np.ndarray:
    return history[-1]


def drift(history: np.ndarray, h: int) -> np.ndarray:
    """The shares' mean yearly change over the whole history, continued (floored at zero
    and renormalised, so it is a composition too)."""
    step = (history[-1] - history[0]) / max(len(history) - 1, 1)
    out = np.maximum(history[-1] + h * step, 0.0)
    return out / out.sum()


@dataclass(frozen=True)
class HorizonScore:
    horizon: int
    cases: int  # origin-years scored (each over every region)
    mae: dict[str, float]  # method -> mean absolute error, share points
    coverage: dict[float, float]  # level -> share of region-cases inside the interval

    def to_dict(self) -> dict[str, object]:
        return {
            "horizon": self.horizon,
            "cases": self.cases,
            "mae_points": {k: round(v, 3) for k, v in self.mae.items()},
            "coverage": {f"{k:g}": round(v, 3) for k, v in self.coverage.items()},
        }


@dataclass(frozen=True)
class MarketsBacktest:
    origins: tuple[int, ...]
    by_horizon: list[HorizonScore]
    pooled_coverage: dict[float, float]
    chosen: list[dict[str, object]]  # what the model learned at each origin

    def to_dict(self) -> dict[str, object]:
        return {
            "origins": list(self.origins),
            "by_horizon": [s.to_dict() for s in self.by_horizon],
            "pooled_coverage": {f"{k:g}": round(v, 3) for k, v in self.pooled_coverage.items()},
            "chosen": self.chosen,
        }


def backtest_markets(
    compositions: Sequence[Composition],
    origins: Sequence[int] = tuple(range(2008, 2023)),
    horizons: int = 5,
    levels: Sequence[float] = (80.0, 95.0),
    n_paths: int = 2000,
    seed: int = 0,
) -> MarketsBacktest:
    years = [c for c in compositions if c.basis == "year"]
    at = np.array([c.at for c in years])
    shares = np.array([[c.shares[r] for r in REGION_IDS] for c in years], dtype=float)
    by_year = {int(c.at): i for i, c in enumerate(years)}
    errors: dict[int, dict[str, list[float]]] = {
        h: {m: [] for m in METHODS} for h in range(1, horizons + 1)
    }
    inside: dict[int, dict[float, list[bool]]] = {
        h: {lv: [] for lv in levels} for h in range(1, horizons + 1)
    }
    chosen = []
    for origin in origins:
        if origin not in by_year:
            continue
        end = by_year[origin] + 1
        fitted = fit_composition(shares[:end], at[:end], horizons)
        chosen.append({"origin": origin, **fitted.record(REGION_IDS)})
        targets = [origin + h for h in range(1, horizons + 1) if origin + h in by_year]
        if not targets:
            continue
        paths = simulate_shares(fitted, targets, n_paths, rng_for(seed, origin))
        for j, year in enumerate(targets):
            h = year - origin
            actual = shares[by_year[year]]
            centre = fitted.centre(year)  # the shares served as the median
            made = {
                "model": centre,
                "last_shares": last_shares(shares[:end], h),
                "drift": drift(shares[:end], h),
            }
            for method, forecast in made.items():
                errors[h][method].append(float(np.mean(np.abs(forecast - actual))) * 100)
            for lv in levels:
                lo, hi = np.percentile(paths[j], [50 - lv / 2, 50 + lv / 2], axis=0)
                inside[h][lv].extend(((actual >= lo) & (actual <= hi)).tolist())
    scores = [
        HorizonScore(
            h,
            len(errors[h]["model"]),
            {m: float(np.mean(v)) for m, v in errors[h].items()},
            {lv: float(np.mean(v)) for lv, v in inside[h].items()},
        )
        for h in range(1, horizons + 1)
        if errors[h]["model"]
    ]
    pooled = {lv: float(np.mean([x for h in inside for x in inside[h][lv]])) for lv in levels}
    return MarketsBacktest(tuple(origins), scores, pooled, chosen)
