"""Learning across series: `auto` updating the pooled prior against `auto` learning from
each series alone, on the three bundled series (none of them is in the prior: it is
pooled from M1, M3 and Tourism only, so every figure here is out of sample for it).

For each series and seed, the members are fitted at every (year, m) from the series' third
year, and `auto` is walked forward through them (no look-ahead), once per variant:
- `pooled`: the shipped prior updated by the series' own past cases (what the service runs);
- `alone`: the series' own cases only, on the same sliding window of months known;
- `main`: whatever `learn_auto` did before the prior existed (run this same script on an
  older checkout: it falls back to that signature).
Printed, mean over the seeds: year-end MAPE by m against the best member and the best
naive baseline; coverage of the year-end intervals, overall and by months-known range;
multi-year MAPE, coverage and Brier by horizon against the flat, cagr10 and rw_drift
baselines; and how far the h = 2..5 medians move when one month is added, in the months
where the old groups started (data through December, March, June, September) and the
others.

    .venv/bin/python benchmarks/across_series.py [--seeds 0-3] [--jobs 2] [--series kr-exports]
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import sys
import time
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from exportcast.models.datasets import load_bundled
from exportcast.models.evaluation import backtest
from exportcast.models.evaluation.auto import cases_for, learn_auto
from exportcast.models.evaluation.baselines import BASELINES
from exportcast.models.evaluation.horizons import ANNUAL_BASELINES, baseline_cases, brier
from exportcast.models.evaluation.origins import Origin, origins
from exportcast.models.evaluation.scoring import Case, score
from exportcast.models.registry import AUTO_MEMBERS, get_model
from exportcast.service.config import get_settings

SERIES = ("kr-exports", "us-exports-to-kr", "us-exports-gs")
GROUP_STARTS = (0, 3, 6, 9)  # months known at which the old groups began
RANGES = ((0, 2), (3, 5), (6, 8), (9, 11))
HAS_PRIOR = "prior" in inspect.signature(learn_auto).parameters


def scored_from(series_id: str, series) -> int:
    return 2010 if series_id == "kr-exports" else series.start // 12 + 6


def walks(series, results, at, variants: Sequence[str]):
    out = {}
    for variant in variants:
        if variant == "main":
            out[variant] = learn_auto(series, list(AUTO_MEMBERS), results, at, keep_draws=True)
        else:
            prior = "shipped" if variant == "pooled" else None
            out[variant] = learn_auto(
                series, list(AUTO_MEMBERS), results, at, keep_draws=True, prior=prior
            )
    return out


def steadiness(walk, first: int) -> dict[tuple[int, bool], list[float]]:
    """|change| in % of the median of each fixed later year when one month is added, by
    the horizon at the earlier origin and whether the new origin starts an old group."""
    out: dict[tuple[int, bool], list[float]] = defaultdict(list)
    ordered = sorted((o for o in walk.draws if o.year >= first), key=lambda o: o.cutoff)
    for old, new in itertools.pairwise(ordered):
        if new.cutoff != old.cutoff + 1:
            continue
        for h in range(2, 6):
            year = old.year + h - 1
            k_new = year - new.year
            if h - 1 >= len(walk.draws[old]) or k_new >= len(walk.draws[new]):
                continue
            before = np.median(walk.draws[old][h - 1])
            after = np.median(walk.draws[new][k_new])
            out[(h, new.m in GROUP_STARTS)].append(100 * abs(after / before - 1))
    return out


def member_steadiness(results, name: str, first: int) -> dict[tuple[int, bool], list[float]]:
    """The same measure for one member's own draws: what the data alone does to the medians
    in those months, with nothing learned."""
    out: dict[tuple[int, bool], list[float]] = defaultdict(list)
    mine = sorted(
        (o for (n, o) in results if n == name and o.year >= first), key=lambda o: o.cutoff
    )
    for old, new in itertools.pairwise(mine):
        if new.cutoff != old.cutoff + 1:
            continue
        for h in range(2, 6):
            before = results[(name, old)].horizon(h)
            after = results[(name, new)].horizon(h - (new.year - old.year))
            if before is None or after is None:
                continue
            change = 100 * abs(np.median(after) / np.median(before) - 1)
            out[(h, new.m in GROUP_STARTS)].append(change)
    return out


def run_one(series_id: str, seed: int, jobs: int, variants: Sequence[str], paths: int):
    series = load_bundled(series_id)
    first = scored_from(series_id, series)
    learn_at = origins(series, max(first - 6, (series.start + 36) // 12))
    scored_at = [o for o in learn_at if o.year >= first]
    cache = get_settings().fit_cache() / "backtest" / series_id
    started = time.perf_counter()
    results = backtest.run(
        series, list(AUTO_MEMBERS), learn_at, get_model, paths, seed, jobs=jobs, cache_dir=cache
    )
    naive = backtest.run(series, list(BASELINES), scored_at, get_model)
    fit_seconds = time.perf_counter() - started
    scored = set(scored_at)
    cases: list[Case] = []
    steady = {}
    learn_seconds = {}
    for variant, walk in walks_timed(series, results, learn_at, variants, learn_seconds).items():
        cases += [_renamed(c, variant) for c in walk.cases if Origin(c.origin_year, c.m) in scored]
        steady[variant] = steadiness(walk, first)
    for name in AUTO_MEMBERS:
        steady[name] = member_steadiness(results, name, first)
    horizons = range(1, 6)
    for name in AUTO_MEMBERS:
        cases += cases_for(series, name, results, scored_at, horizons)
    for name in BASELINES:
        cases += cases_for(series, name, naive, scored_at)
    cases += baseline_cases(series, scored_at, list(horizons))
    return cases, steady, fit_seconds, learn_seconds


def walks_timed(series, results, at, variants, seconds):
    out = {}
    for variant in variants:
        started = time.perf_counter()
        out.update(walks(series, results, at, [variant]))
        seconds[variant] = time.perf_counter() - started
    return out


def _renamed(case: Case, name: str) -> Case:
    from dataclasses import replace

    return replace(case, model=name)


def mean(values) -> float:
    values = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def year_end(runs, variants, goal_share: float) -> dict:
    """Year-end figures by m, mean over the seeds' runs."""
    rows = {}
    for m in range(12):
        row = {}
        for name in [*variants, *AUTO_MEMBERS, *BASELINES]:
            row[name] = mean(
                score(mine, name, str(m)).mape
                for cases in runs
                if (mine := [c for c in cases if c.model == name and c.m == m and c.horizon == 1])
            )
        rows[m] = row
    return rows


def coverage(runs, name, horizon, low=0, high=11) -> tuple[float, float]:
    out = []
    for level in (80.0, 95.0):
        out.append(
            mean(
                score(mine, name, "x").coverage[level]
                for cases in runs
                if (
                    mine := [
                        c
                        for c in cases
                        if c.model == name and c.horizon == horizon and low <= c.m <= high
                    ]
                )
            )
        )
    return out[0], out[1]


def report(series_id: str, runs, steady_runs, variants: Sequence[str], share: float) -> dict:
    print(f"\n## {series_id} (mean of {len(runs)} seed(s))")
    rows = year_end(runs, variants, share)
    print("year-end MAPE % by months known: " + ", ".join(variants))
    head = "  m " + "".join(f"{v:>9}" for v in variants)
    print(head + f"{'best member':>18}{'best naive':>18}{'x naive':>9}")
    summary: dict = {"year_end": {}, "multi_year": {}, "steady": {}}
    for m, row in rows.items():
        best_member = min(AUTO_MEMBERS, key=lambda n: row[n])
        best_naive = min(BASELINES, key=lambda n: row[n])
        ratio = row[variants[0]] / row[best_naive]
        print(
            f"{m:>3} "
            + "".join(f"{row[v]:9.2f}" for v in variants)
            + f"{row[best_member]:9.2f} {best_member:<8}{row[best_naive]:9.2f} "
            f"{best_naive:<8}{ratio:9.2f}"
        )
        summary["year_end"][m] = {
            **{v: row[v] for v in variants},
            "best_member": row[best_member],
            "best_naive": row[best_naive],
        }
    for v in variants:
        c80, c95 = coverage(runs, v, 1)
        by_range = [coverage(runs, v, 1, lo, hi) for lo, hi in RANGES]
        print(
            f"coverage {v}: {c80:.0%} / {c95:.0%}; by m range "
            + ", ".join(
                f"{lo}-{hi} {a:.0%}/{b:.0%}"
                for (lo, hi), (a, b) in zip(RANGES, by_range, strict=True)
            )
        )
        summary["year_end"][f"coverage_{v}"] = [c80, c95, by_range]
    print("multi-year, by horizon: MAPE, coverage 80/95, Brier (auto variants, then baselines)")
    for h in range(1, 6):
        parts = []
        for name in [*variants, *ANNUAL_BASELINES]:
            mine = [[c for c in cases if c.model == name and c.horizon == h] for cases in runs]
            if not all(mine):
                continue
            mape = mean(score(x, name, "h").mape for x in mine)
            b = mean(brier(x) for x in mine)
            c80, c95 = coverage(runs, name, h)
            parts.append(f"{name} {mape:.1f} {c80:.0%}/{c95:.0%} {b:.3f}")
            summary["multi_year"].setdefault(h, {})[name] = [mape, c80, c95, b]
        print(f"  h{h}: " + "; ".join(parts))
    print("steadiness: mean |change| % of the h-year-ahead median when a month is added")
    for v in [*variants, *AUTO_MEMBERS]:
        cells = []
        for h in range(2, 6):
            starts = mean(x for s in steady_runs for x in s[v][(h, True)])
            others = mean(x for s in steady_runs for x in s[v][(h, False)])
            cells.append(f"h{h} {starts:.2f} vs {others:.2f} (x{starts / others:.2f})")
            summary["steady"].setdefault(v, {})[h] = [starts, others]
        print(f"  {v}: " + "; ".join(cells))
    return summary


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0", help="e.g. 0-3")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--paths", type=int, default=500)
    parser.add_argument("--series", default=",".join(SERIES))
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    low, _, high = args.seeds.partition("-")
    seeds = range(int(low), int(high or low) + 1)
    variants = ["pooled", "alone"] if HAS_PRIOR else ["main"]
    out = {}
    for series_id in args.series.split(","):
        runs, steady_runs = [], []
        for seed in seeds:
            cases, steady, fit_s, learn_s = run_one(
                series_id, seed, args.jobs, variants, args.paths
            )
            print(
                f"{series_id} seed {seed}: fits {fit_s:.0f}s, walks "
                + ", ".join(f"{k} {v:.1f}s" for k, v in learn_s.items()),
                file=sys.stderr,
            )
            runs.append(cases)
            steady_runs.append(steady)
        share = 0.6 if series_id == "kr-exports" else 0.75
        out[series_id] = report(series_id, runs, steady_runs, variants, share)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
