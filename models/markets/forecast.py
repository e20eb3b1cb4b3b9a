"""Markets' forecast: share paths times the total's year paths, path by path, so the
regions add up to the total on every path and every interval and probability (a region's
exports, its share, the concentration, a share crossing a threshold) comes from paths."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from exportcast.models.families.base import rng_for
from exportcast.models.hierarchy import concentration
from exportcast.models.hierarchy.forecast import Spread
from exportcast.models.limits import DEFAULT_LEVELS, DEFAULT_YEARS
from exportcast.models.markets.composition import (
    FittedComposition,
    fit_composition,
    simulate_shares,
)
from exportcast.models.markets.destinations import Composition
from exportcast.models.markets.regions import REGION_IDS, REST, regions_dict
from exportcast.models.markets.targets import ShareTarget
from exportcast.models.series import format_month
from exportcast.models.simulation import Simulation

METHOD = "damped drift of additive log-ratios, Gaussian noise growing with the horizon"
NAMED = [r for r in REGION_IDS if r != REST]  # concentration is over these ("rest" is many)


def fit_markets(compositions: Sequence[Composition]) -> FittedComposition:
    """The composition model fitted on every complete composition (calendar years and the
    latest twelve months); partial years are published, not fitted."""
    complete = [c for c in compositions if c.complete]
    shares = np.array([[c.shares[r] for r in REGION_IDS] for c in complete], dtype=float)
    return fit_composition(shares, [c.at for c in complete])


def region_totals(shares: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Each region's exports on each path: shares (years, n_paths, regions) times the
    total's year paths (years, n_paths)."""
    return shares * totals[:, :, None]


def concentration_of(shares: np.ndarray) -> dict[str, np.ndarray]:
    """Herfindahl index, top region's and top three's shares over the named regions,
    path by path: shares (n_paths, regions) -> each (n_paths,)."""
    named = shares[:, : len(NAMED)].T
    return {
        "herfindahl": concentration.herfindahl(named),
        "top_share": concentration.top_share(named, 1),
        "top3_share": concentration.top_share(named, 3),
    }


def published(compositions: Sequence[Composition]) -> list[dict[str, Any]]:
    out = []
    for c in compositions:
        row: dict[str, Any] = c.to_dict()
        if c.complete:
            shares = np.array([[c.shares[r] for r in REGION_IDS]], dtype=float)
            row.update({k: round(float(v[0]), 5) for k, v in concentration_of(shares).items()})
        out.append(row)
    return out


@dataclass(frozen=True)
class MarketsForecast:
    body: dict[str, Any]
    shares: np.ndarray  # (years, n_paths, regions)
    totals: np.ndarray  # (years, n_paths)

    def to_dict(self) -> dict[str, Any]:
        return self.body


def forecast_markets(
    compositions: Sequence[Composition],
    sim: Simulation,
    years: int = DEFAULT_YEARS,
    levels: Sequence[float] = DEFAULT_LEVELS,
    targets: Sequence[ShareTarget] = (),
    seed: int = 0,
    fitted: FittedComposition | None = None,
) -> MarketsForecast:
    fitted = fitted or fit_markets(compositions)
    draws = sim.year_draws[:years]
    year_list = [d.year for d in draws]
    totals = np.stack([np.asarray(d.totals, dtype=float) for d in draws])
    shares = simulate_shares(fitted, year_list, totals.shape[1], rng_for(seed, 83))
    exports = region_totals(shares, totals)
    levels = tuple(float(v) for v in levels)
    out_years = []
    for j, year in enumerate(year_list):
        conc = concentration_of(shares[j])
        top = np.bincount(np.argmax(shares[j][:, : len(NAMED)], axis=1), minlength=len(NAMED))
        out_years.append(
            {
                "year": year,
                "months_observed": draws[j].months_observed,
                "total": Spread.of(totals[j], levels).to_dict(3),
                "regions": {
                    r: {
                        "share": Spread.of(shares[j][:, k], levels).to_dict(5),
                        "exports": Spread.of(exports[j][:, k], levels).to_dict(3),
                    }
                    for k, r in enumerate(REGION_IDS)
                },
                "concentration": {
                    "top_region": NAMED[int(np.argmax(top))],
                    "top_region_paths": round(float(top.max() / top.sum()), 4),
                    **{k: Spread.of(v, levels).to_dict(5) for k, v in conc.items()},
                },
                "targets": [
                    {"target": str(t), "probability": round(t.probability(shares[j]), 4)}
                    for t in targets
                ],
            }
        )
    gap = float(np.max(np.abs(exports.sum(axis=2) - totals) / totals))
    complete = [c for c in compositions if c.complete]
    body = {
        "unit": sim.unit,
        "data_through": format_month(sim.data_through),
        "newest_composition": complete[-1].label,
        "n_paths": int(totals.shape[1]),
        "levels": list(levels),
        "regions": regions_dict(),
        "model": {
            "method": METHOD,
            "fitted_on": [c.label for c in complete],
            **fitted.record(),
        },
        "published": published(compositions),
        "years": out_years,
        "coherence": {"largest_relative_gap": gap},
    }
    return MarketsForecast(body, shares, totals)
