"""Does forecasting the items and reconciling beat forecasting the total directly?

Every node (the total with its whole history, each item, other) is backtested as `auto`
would be served on it: its members fitted at every origin, `auto` walked forward learning
from its own past cases only. At each origin the nodes' draws of the year in progress are
coupled and reconciled (bottom-up and MinT) exactly as the service does, and the
reconciled total is scored beside the direct one, from the same run, on the same origins.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from exportcast.models.evaluation.auto import (
    CALIBRATION_LEVEL,
    Learning,
    Walk,
    complete_total,
    group_months,
    learn_auto,
    now_of,
    year_to_date_at,
)
from exportcast.models.evaluation.backtest import ModelFactory, Progress, left_out, run
from exportcast.models.evaluation.learning import calibration_scale, m_group
from exportcast.models.evaluation.origins import Origin, origins
from exportcast.models.evaluation.scoring import Case, Score, case_from_draws, score_table
from exportcast.models.families.base import rng_for
from exportcast.models.hierarchy import reconcile
from exportcast.models.hierarchy.forecast import shared_history
from exportcast.models.hierarchy.spec import OTHER, TOTAL, Hierarchy
from exportcast.models.series import MonthlySeries

DIRECT = "direct"


@dataclass
class HierarchyReport:
    cases: list[Case]  # model: "direct", a method, or "<item>:direct" / "<item>:<method>"
    scores: list[Score]
    path: list[dict]  # the projections of the last, incomplete year at each origin
    seconds: float
    left_out: list[str] = field(default_factory=list)

    def score(self, model: str, months: str) -> Score | None:
        return next((s for s in self.scores if s.model == model and s.months == months), None)


def first_origin_year(series: MonthlySeries) -> int:
    """The first year a node is backtested from: its members need three years of data."""
    return (series.start + 36) // 12


def _origins_of(series: MonthlySeries, first_year: int, last_year: int) -> list[Origin]:
    """Every (year, m) from `first_year` whose cut-off the series has, complete year or not."""
    return [
        Origin(y, m)
        for y in range(first_year, last_year + 1)
        for m in range(12)
        if series.start + 12 <= Origin(y, m).cutoff <= series.end
    ]


def hierarchy_backtest(
    hierarchy: Hierarchy,
    nodes: Mapping[str, MonthlySeries],
    members: Sequence[str],
    factory: ModelFactory,
    from_year: int = 2018,
    to_year: int | None = None,
    methods: Sequence[str] = reconcile.METHODS,
    items_scored: Sequence[str] = ("semiconductors",),
    n_paths: int = 500,
    seed: int = 0,
    jobs: int = 1,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    calibrate: bool = True,
) -> HierarchyReport:
    """The direct and reconciled year-in-progress totals at every (year, m) from
    `from_year` to `to_year` (the last complete year), and at the origins of the year in
    progress after it (`path`)."""
    started = time.perf_counter()
    total = nodes[TOTAL]
    last = (total.end + 1) // 12
    to_year = last - 1 if to_year is None else to_year
    walks, skipped = {}, {}
    for name in hierarchy.nodes:
        series = nodes[name]
        # Each node's auto learns from every origin it has before the scored ones: the
        # total from the start of its history, the items from theirs.
        at = _origins_of(series, first_origin_year(series), last)
        cache = cache_dir / series.id if cache_dir else None
        results = run(series, list(members), at, factory, n_paths, seed, jobs, cache, progress)
        skipped.update({(f"{name}:{m}", o): why for (m, o), why in results.skipped.items()})
        walks[name] = learn_auto(series, list(members), results, at, keep_draws=True)
    cases: list[Case] = []
    path: list[dict] = []
    raw: dict[str, list[Case]] = {m: [] for m in methods}  # reconciled, before calibration
    scored = [o for o in _origins_of(total, from_year, last) if o.year <= to_year or o.year == last]
    for origin in scored:
        if not all(origin in walks[n].draws for n in hierarchy.nodes):
            continue
        ytd, draws = _reconciled(hierarchy, nodes, walks, origin, methods, seed, raw, calibrate)
        draws = {
            DIRECT: ytd[:, None] + draws.pop(DIRECT),
            **{k: v + ytd[:, None] for k, v in draws.items()},
        }
        actual = complete_total(total, origin.year)
        index = {k: i for i, k in enumerate(hierarchy.nodes)}
        if actual is None:
            path.append(_path_point(origin, draws, index, items_scored))
            continue
        for model, d in draws.items():
            cases.append(case_from_draws(model, origin.year, origin.m, actual, ytd[0], d[0]))
            for item in items_scored:
                i = index[item]
                item_actual = complete_total(nodes[item], origin.year)
                if item_actual is not None:
                    cases.append(
                        case_from_draws(
                            f"{item}:{model}", origin.year, origin.m, item_actual, ytd[i], d[i]
                        )
                    )
    return HierarchyReport(
        cases, score_table(cases), path, time.perf_counter() - started, left_out(skipped)
    )


def _reconciled(
    hierarchy: Hierarchy,
    nodes: Mapping[str, MonthlySeries],
    walks: Mapping[str, Walk],
    origin: Origin,
    methods: Sequence[str],
    seed: int,
    raw: dict[str, list[Case]],
    calibrate: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """At `origin`: the nodes' published part of the year, and the unknown part's draws
    (nodes, n), direct and by each method; each method's uncalibrated total case is added
    to `raw` (once its year is complete) after its scale was learned from the earlier ones."""
    ytd = np.array([year_to_date_at(nodes[n], origin) for n in hierarchy.nodes])
    base = np.stack([walks[n].draws[origin][0] for n in hierarchy.nodes]).astype(float)
    unknown = base - ytd[:, None]
    values = shared_history(hierarchy, nodes, origin.cutoff)
    actual = complete_total(nodes[TOTAL], origin.year)
    out = {DIRECT: unknown}
    for method in methods:
        made = reconcile.plan(unknown, values, method, rng_for(seed, origin.cutoff))
        coherent = out[method] = made.apply(unknown)
        if calibrate and method in reconcile.RECOMBINED:
            factor = reconcile.together_factor(coherent[0], reconciled_scale(raw[method], origin))
            out[method] = replace(made, factor=factor).apply(unknown)
        if actual is not None:
            total = coherent[0] + ytd[0]
            raw[method].append(
                case_from_draws(method, origin.year, origin.m, actual, ytd[0], total)
            )
    return ytd, out


def reconciled_scale(raw: Sequence[Case], origin: Origin) -> float:
    """The factor the reconciled total's unknown part is widened by at `origin`, learned as
    `auto` learns its own: from the uncalibrated reconciled cases of years before it in
    the same months-known group."""
    g = m_group(origin.m)
    past = [c for c in raw if c.year < origin.year and m_group(c.m) == g]
    return calibration_scale(past, CALIBRATION_LEVEL)


def _path_point(
    origin: Origin, draws: Mapping[str, np.ndarray], index: Mapping[str, int], items: Sequence[str]
) -> dict:
    def summary(d: np.ndarray) -> dict:
        low, high = np.percentile(d, [10, 90])
        return {"median": float(np.median(d)), "80": [float(low), float(high)]}

    return {
        "year": origin.year,
        "m": origin.m,
        **{model: summary(d[0]) for model, d in draws.items()},
        **{f"{i}:{model}": summary(d[index[i]]) for model, d in draws.items() for i in items},
    }


def scales_now(
    hierarchy: Hierarchy,
    nodes: Mapping[str, MonthlySeries],
    members: Sequence[str],
    factory: ModelFactory,
    how: Learning,
    methods: Sequence[str] = reconcile.RECOMBINED,
) -> dict[str, dict]:
    """For each method whose total is recombined, the factor its paths are widened by now,
    learned from its uncalibrated reconciled cases at the past origins of now's
    months-known group (the fits each node's own `auto` learns from, mostly cached), as
    `hierarchy_backtest` learns it at each of its origins."""
    now = now_of(nodes[OTHER])
    months = group_months(now.m)
    walks = {}
    for name in hierarchy.nodes:
        series = nodes[name]
        at = origins(series, first_origin_year(series), now.year - 1, months)
        cache = how.cache_dir / series.id if how.cache_dir else None
        results = run(
            series, list(members), at, factory, how.n_paths, 0, how.jobs, cache, None, how.executor
        )
        walks[name] = learn_auto(series, list(members), results, at, keep_draws=True)
    shared = set.intersection(*(set(w.draws) for w in walks.values()))
    raw: dict[str, list[Case]] = {m: [] for m in methods}
    for origin in sorted(shared):
        _reconciled(hierarchy, nodes, walks, origin, methods, 0, raw, calibrate=False)
    return {m: {"scale": reconciled_scale(raw[m], now), "cases": len(raw[m])} for m in methods}
