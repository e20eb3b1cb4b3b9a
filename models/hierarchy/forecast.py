"""A hierarchy's forecast: its nodes' paths made coherent, and every answer (each node's
year totals and intervals, P(target), items' shares, concentration) read from those same
coherent paths."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from exportcast.models import totals
from exportcast.models.families.base import rng_for
from exportcast.models.hierarchy import concentration, reconcile
from exportcast.models.hierarchy.spec import OTHER, TOTAL, Hierarchy
from exportcast.models.limits import DEFAULT_LEVELS, DEFAULT_YEARS
from exportcast.models.results import Forecast, level_key
from exportcast.models.series import MonthlySeries, format_month
from exportcast.models.simulation import Simulation, summarise


@dataclass(frozen=True)
class Coherent:
    """Every node's simulation with coherent paths: path i of the items and other adds up
    to path i of the total, month by month. `record` says how they were made."""

    hierarchy: Hierarchy
    method: str
    sims: dict[str, Simulation]
    record: dict[str, Any] = field(default_factory=dict)


def shared_history(
    hierarchy: Hierarchy, history: Mapping[str, MonthlySeries], end: int
) -> np.ndarray:
    """The nodes' values (nodes, months) over the months they all have, through `end`."""
    cut = [history[n].through(end).values for n in hierarchy.nodes]
    shared = min(len(v) for v in cut)
    return np.stack([v[-shared:] for v in cut])


def make_coherent(
    hierarchy: Hierarchy,
    sims: Mapping[str, Simulation],
    history: Mapping[str, MonthlySeries],
    method: str = "top_down",
    seed: int = 0,
    scale: float = 1.0,
) -> Coherent:
    """Couple the nodes' paths by their past growth (`history`: each node's series, as
    `spec.node_series` gives them), reconcile them by `method` and widen them together by
    `scale`: the plan is made on the draws of the year in progress and applied to whole
    paths, as the backtest that measured it does on those draws."""
    nodes = hierarchy.nodes
    missing = [n for n in nodes if n not in sims]
    if missing:
        raise ValueError(f"no paths for nodes: {', '.join(missing)}")
    first = {sims[n].first_month for n in nodes}
    if len(first) != 1:
        raise ValueError("the nodes' paths start in different months")
    first_month = first.pop()
    n_paths = min(sims[n].n_paths for n in nodes)
    horizon = min(sims[n].horizon for n in nodes)
    base = np.stack([np.asarray(sims[n].paths[:n_paths, :horizon], dtype=float) for n in nodes])
    rest_of_year = min(12 - first_month % 12, horizon)
    unknown = base[:, :, :rest_of_year].sum(axis=2)  # (nodes, n_paths)
    values = shared_history(hierarchy, history, first_month - 1)
    made = reconcile.plan(unknown, values, method, rng_for(seed, 71), scale)
    coherent = made.apply(base)
    out = {
        name: replace(
            sims[name],
            paths=coherent[i],
            labels=None,
            description=f"{sims[name].description}; reconciled ({method}) with the other nodes",
        )
        for i, name in enumerate(nodes)
    }
    floored = 0
    if made.g is not None:  # how often the linear map had to be floored at zero
        coupled = np.take_along_axis(base, made.order[:, :, None], axis=1)
        floored = int(np.sum(np.tensordot(made.g, coupled, axes=1) < 0))
    return Coherent(hierarchy, method, out, {**made.record, "floored_values": floored})


@dataclass(frozen=True)
class Spread:
    """The median and central intervals of a quantity over the paths."""

    median: float
    intervals: dict[float, tuple[float, float]]

    @classmethod
    def of(cls, draws: np.ndarray, levels: Sequence[float]) -> Spread:
        return cls(float(np.median(draws)), totals.intervals(draws, levels))

    def to_dict(self, digits: int = 4) -> dict[str, Any]:
        return {
            "median": round(self.median, digits),
            "intervals": {
                level_key(k): [round(lo, digits), round(hi, digits)]
                for k, (lo, hi) in self.intervals.items()
            },
        }


@dataclass(frozen=True)
class Concentration:
    """One year's concentration over the items: the top item's share (whichever item is
    largest on each path), the top three's, the items' together, and the Herfindahl index."""

    year: int
    top_item: str  # the item largest on most paths
    top_item_paths: float  # the share of paths on which it is the largest
    top_share: Spread
    top3_share: Spread
    items_share: Spread
    herfindahl: Spread

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "top_item": self.top_item,
            "top_item_paths": round(self.top_item_paths, 4),
            "top_share": self.top_share.to_dict(),
            "top3_share": self.top3_share.to_dict(),
            "items_share": self.items_share.to_dict(),
            "herfindahl": self.herfindahl.to_dict(),
        }


@dataclass(frozen=True)
class HierarchyForecast:
    hierarchy: Hierarchy
    method: str
    unit: str
    data_through: str
    n_paths: int
    levels: tuple[float, ...]
    nodes: dict[str, Forecast]
    shares: dict[str, list[dict[str, Any]]]  # item -> per year {"year", "median", "intervals"}
    concentration: list[Concentration]
    history: list[dict[str, Any]]  # concentration in the complete years published
    coherence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "hierarchy": self.hierarchy.to_dict(),
            "method": self.method,
            "unit": self.unit,
            "data_through": self.data_through,
            "n_paths": self.n_paths,
            "levels": list(self.levels),
            "nodes": {name: f.to_dict() for name, f in self.nodes.items()},
            "shares": self.shares,
            "concentration": [c.to_dict() for c in self.concentration],
            "history": self.history,
            "coherence": self.coherence,
        }


# The year totals in the body are rounded to this many decimals (`results`), and so is
# the coherence gap: sums in another order differ in their last bits, not in the body.
GAP_DIGITS = 3


def _year_totals(sim: Simulation, years: int) -> np.ndarray:
    return np.stack([d.totals for d in sim.year_draws[:years]])  # (years, n_paths)


def concentration_in(items: Sequence[str], item_totals: np.ndarray, total: np.ndarray) -> dict:
    """Concentration of one set of totals: item_totals (items, n), total (n)."""
    share = concentration.shares(item_totals, total)
    largest = np.argmax(share, axis=0)
    counts = np.bincount(largest, minlength=len(items))
    return {
        "top_item": items[int(np.argmax(counts))],
        "top_item_paths": float(counts.max() / share.shape[1]),
        "top_share": concentration.top_share(share, 1),
        "top3_share": concentration.top_share(share, 3),
        "items_share": share.sum(axis=0),
        "herfindahl": concentration.herfindahl(share),
    }


def history_of(hierarchy: Hierarchy, history: Mapping[str, MonthlySeries]) -> list[dict]:
    """Concentration in each complete calendar year of the nodes' published months."""
    first = max(history[i].start for i in hierarchy.items)
    out = []
    for year in range((first + 11) // 12, (history[TOTAL].end + 1) // 12):
        sums = {n: history[n].year_to_date(year)[1] for n in (TOTAL, *hierarchy.items)}
        items = np.array([[sums[i]] for i in hierarchy.items])
        c = concentration_in(hierarchy.items, items, np.array([sums[TOTAL]]))
        out.append(
            {
                "year": year,
                "total": round(sums[TOTAL], 3),
                "top_item": c["top_item"],
                **{
                    k: round(float(c[k][0]), 4)
                    for k in ("top_share", "top3_share", "items_share", "herfindahl")
                },
            }
        )
    return out


def summarise_hierarchy(
    coherent: Coherent,
    history: Mapping[str, MonthlySeries],
    years: int = DEFAULT_YEARS,
    levels: Sequence[float] = DEFAULT_LEVELS,
    targets: Mapping[str, Sequence[float]] | None = None,
) -> HierarchyForecast:
    """Each node's forecast, the items' shares and concentration by year, all from the
    coherent paths; `targets` maps a node to the amounts to give P(at least) for."""
    h = coherent.hierarchy
    targets = targets or {}
    unknown = sorted(set(targets) - set(h.nodes))
    if unknown:
        raise ValueError(f"targets for nodes not in the hierarchy: {', '.join(unknown)}")
    levels = tuple(float(v) for v in levels)
    sims = coherent.sims
    nodes = {n: summarise(sims[n], years, levels, targets.get(n, ())) for n in h.nodes}
    total = _year_totals(sims[TOTAL], years)
    item_totals = np.stack([_year_totals(sims[i], years) for i in h.items])  # (items, years, n)
    year_list = [d.year for d in sims[TOTAL].year_draws[:years]]
    shares: dict[str, list[dict[str, Any]]] = {}
    for k, item in enumerate((*h.items, OTHER)):
        node_totals = item_totals[k] if item != OTHER else _year_totals(sims[OTHER], years)
        shares[item] = [
            {"year": y, **Spread.of(node_totals[j] / total[j], levels).to_dict()}
            for j, y in enumerate(year_list)
        ]
    by_year = []
    for j, year in enumerate(year_list):
        c = concentration_in(h.items, item_totals[:, j], total[j])
        by_year.append(
            Concentration(
                year,
                c["top_item"],
                c["top_item_paths"],
                *(
                    Spread.of(c[k], levels)
                    for k in ("top_share", "top3_share", "items_share", "herfindahl")
                ),
            )
        )
    # Coherence, checked on what the body answers from: each path's year totals, every
    # node's own published months of the year (each from its own series) plus its path.
    # Not the paths month by month: `reconcile` builds the total as the sum of its nodes'
    # paths, so a gap there is zero by construction and would check nothing.
    bottom = np.sum([_year_totals(sims[n], years) for n in h.bottom], axis=0)
    gap = round(float(np.max(np.abs(total - bottom))), GAP_DIGITS)
    return HierarchyForecast(
        hierarchy=h,
        method=coherent.method,
        unit=sims[TOTAL].unit,
        data_through=format_month(sims[TOTAL].data_through),
        n_paths=sims[TOTAL].n_paths,
        levels=levels,
        nodes=nodes,
        shares=shares,
        concentration=by_year,
        history=history_of(h, history),
        coherence={**coherent.record, "largest_gap": gap},
    )
