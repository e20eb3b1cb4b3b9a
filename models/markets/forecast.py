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
from exportcast.models.markets.destinations import (
    Composition,
    DestinationRow,
    KnownMonths,
    known_months,
)
from exportcast.models.markets.regions import REGION_IDS, REST, regions_dict
from exportcast.models.markets.targets import ShareTarget
from exportcast.models.series import format_month
from exportcast.models.simulation import Simulation
from exportcast.models.totals import intervals

METHOD = (
    "each region's last yearly change kept in part (momentum partially pooled across "
    "regions), logistic-normal noise growing with the horizon"
)
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


def year_in_progress(rows: Sequence[DestinationRow], sim: Simulation) -> KnownMonths | None:
    """The published months by region of the year the total's paths complete, up to the
    months of it the total has."""
    first = sim.year_draws[0]
    if first.months_observed == 0:
        return None
    return known_months(rows, first.year, first.months_observed)


def with_known(shares: np.ndarray, total: np.ndarray, known: KnownMonths) -> np.ndarray:
    """One year's regions' exports (n_paths, regions) when its first months are published:
    each named region's published months plus its share of the rest of the year's total
    on that path; "rest" is what the total leaves, so the regions add up to it exactly."""
    named = np.array([known.regions[r] for r in NAMED])
    remaining = total - known.world
    exports = np.empty_like(shares)
    exports[:, : len(NAMED)] = named[None, :] + shares[:, : len(NAMED)] * remaining[:, None]
    exports[:, -1] = total - exports[:, : len(NAMED)].sum(axis=1)
    return exports


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
    known: KnownMonths | None = None,
) -> MarketsForecast:
    """`known`: the year in progress's published months by region, taken as facts (when
    the total's own published months cover them)."""
    fitted = fitted or fit_markets(compositions)
    draws = sim.year_draws[:years]
    year_list = [d.year for d in draws]
    totals = np.stack([np.asarray(d.totals, dtype=float) for d in draws])
    first = draws[0]
    usable = (
        known is not None
        and known.year == first.year
        and known.months <= first.months_observed
        and bool(np.all(totals[0] > known.world))
    )
    # The rest of a year whose first months are known is centred later: its shares are
    # read where a twelve-month window with the same centre would be.
    at = [float(y) for y in year_list]
    if usable:
        at[0] += known.months / 24
    shares = simulate_shares(fitted, at, totals.shape[1], rng_for(seed, 83))
    exports = region_totals(shares, totals)
    # The shares' median is the composition's centre, adding to one (`centre`).
    centres = np.array([fitted.centre(a) for a in at])
    if usable:
        exports[0] = with_known(shares[0], totals[0], known)
        shares[0] = exports[0] / totals[0][:, None]
        middle = np.median(totals[0])  # the centre of the year: its months at the median total
        centres[0] = with_known(centres[0][None], np.array([middle]), known)[0] / middle
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
                        "share": Spread(
                            float(centres[j, k]), intervals(shares[j][:, k], levels)
                        ).to_dict(5),
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
        "year_to_date": known.to_dict() if usable else None,
        "n_paths": int(totals.shape[1]),
        "levels": list(levels),
        "regions": regions_dict(),
        "model": {
            "method": METHOD,
            "fitted_on": [c.label for c in complete],
            **fitted.record(REGION_IDS),
        },
        "published": published(compositions),
        "years": out_years,
        "coherence": {"largest_relative_gap": gap},
    }
    return MarketsForecast(body, shares, totals)
