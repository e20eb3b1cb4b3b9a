"""Members that earn their place: `auto` with today's members, with each naive member
added (`snaive`, `level` = run rate, `yoy` = year-to-date growth, as sample-path models),
`theta` (statsmodels' Theta method with simulated paths), with each of today's members left
out, and with theta in place of ets, on the three bundled series.

Every variant is walked forward through the same fits (no look-ahead), learning from the
pooled prior (`--prior`, default the shipped one; none of the bundled series is in it) and
the series' own past cases. When statsforecast imports (the bench environment: it caps
pandas below 3, so it cannot be a member of the service), its AutoETS, AutoARIMA,
AutoTheta and AutoCES are scored beside them as point forecasts of the months left (they
draw no sample paths, which every answer here is made of), with their seconds per fit
against ours measured in the same run.

Printed, mean over the seeds: year-end MAPE by months known for every variant, the best
naive baseline and the references; the mean over m and the share of the best naive at
m = 0, 3, 6, 9, 11; year-end coverage; multi-year MAPE and 80% coverage by horizon.

    .venv/bin/python benchmarks/members.py [--seeds 0-3] [--prior FILE] [--series kr-exports]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from across_series import SERIES, _renamed, mean, scored_from

from exportcast.models.datasets import load_bundled
from exportcast.models.evaluation import backtest
from exportcast.models.evaluation.auto import learn_auto
from exportcast.models.evaluation.baselines import BASELINES
from exportcast.models.evaluation.origins import Origin, origins
from exportcast.models.evaluation.scoring import Case, score
from exportcast.models.prior.pooled import load, shipped
from exportcast.models.registry import AUTO_MEMBERS, get_model
from exportcast.service.config import get_settings

NAIVE_MEMBERS = ("snaive", "level", "yoy")
NEW_MEMBERS = (*NAIVE_MEMBERS, "theta")
VARIANTS: dict[str, tuple[str, ...]] = {
    "auto": AUTO_MEMBERS,
    **{f"+{n}": (*AUTO_MEMBERS, n) for n in NEW_MEMBERS},
    "+naive": (*AUTO_MEMBERS, *NAIVE_MEMBERS),
    "+th+lev": (*AUTO_MEMBERS, "theta", "level"),
    **{f"-{n}": tuple(x for x in AUTO_MEMBERS if x != n) for n in AUTO_MEMBERS},
    "th-for-ets": tuple("theta" if x == "ets" else x for x in AUTO_MEMBERS),
}
REFERENCES = ("AutoETS", "AutoARIMA", "AutoTheta", "AutoCES")
SHOWN_M = (0, 3, 6, 9, 11)


def reference_cases(series, at: Sequence[Origin]) -> tuple[list[Case], dict[str, float]]:
    """statsforecast's models at every origin (none when it does not import), and their
    seconds per fit."""
    try:
        from statsforecast import models as sf
    except ImportError:
        return [], {}
    made = {
        "AutoETS": lambda: sf.AutoETS(season_length=12),
        "AutoARIMA": lambda: sf.AutoARIMA(season_length=12),
        "AutoTheta": lambda: sf.AutoTheta(season_length=12),
        "AutoCES": lambda: sf.AutoCES(season_length=12),
    }
    warm = series.through(at[0].cutoff).values
    out, seconds = [], {}
    for name, make in made.items():
        make().forecast(y=warm, h=12)  # numba compiles outside the timing
        started = time.perf_counter()
        for o in at:
            cut = series.through(o.cutoff)
            ytd = cut.year_to_date(o.year)[1]
            f = make().forecast(y=cut.values, h=12 - o.m)["mean"]
            total = ytd + float(np.sum(f))
            actual = series.year_to_date(o.year)[1]
            out.append(Case(f"sf_{name}", o.year, o.m, actual, ytd, total, total))
        seconds[name] = (time.perf_counter() - started) / len(at)
    return out, seconds


def member_seconds(series, at: Sequence[Origin], names: Sequence[str]) -> dict[str, float]:
    """Our members' seconds per fit (and 500 paths), cold, on a sample of the origins."""
    sample = list(at)[:: max(1, len(at) // 24)]
    out = {}
    for name in names:
        started = time.perf_counter()
        for o in sample:
            get_model(name).fit(series.through(o.cutoff)).sample_paths(60, 500, 0)
        out[name] = (time.perf_counter() - started) / len(sample)
    return out


def run_one(series_id: str, seed: int, jobs: int, paths: int, prior) -> list[Case]:
    series = load_bundled(series_id)
    first = scored_from(series_id, series)
    learn_at = origins(series, max(first - 6, (series.start + 36) // 12))
    scored = {o for o in learn_at if o.year >= first}
    cache = get_settings().fit_cache() / "backtest" / series_id
    names = sorted({n for members in VARIANTS.values() for n in members})
    results = backtest.run(
        series, names, learn_at, get_model, paths, seed, jobs=jobs, cache_dir=cache
    )
    naive = backtest.run(series, list(BASELINES), sorted(scored, key=lambda o: o.cutoff), get_model)
    cases: list[Case] = []
    for variant, members in VARIANTS.items():
        walk = learn_auto(series, list(members), results, learn_at, prior=prior)
        cases += [_renamed(c, variant) for c in walk.cases if Origin(c.origin_year, c.m) in scored]
    from exportcast.models.evaluation.auto import cases_for

    for name in BASELINES:
        cases += cases_for(series, name, naive, sorted(scored, key=lambda o: o.cutoff))
    return cases


def mape(runs, name: str, m: int | None = None, h: int = 1) -> float:
    return mean(
        score(mine, name, "x").mape
        for cases in runs
        if (
            mine := [
                c for c in cases if c.model == name and c.horizon == h and (m is None or c.m == m)
            ]
        )
    )


def coverage(runs, name: str, h: int = 1) -> tuple[float, float]:
    found = [
        score(mine, name, "x").coverage
        for cases in runs
        if (mine := [c for c in cases if c.model == name and c.horizon == h])
    ]
    return mean(c.get(80.0) for c in found), mean(c.get(95.0) for c in found)


def report(series_id: str, runs, refs: list[Case], seconds: dict[str, float]) -> dict:
    print(f"\n## {series_id} (mean of {len(runs)} seed(s))")
    names = list(VARIANTS)
    ref_names = sorted({c.model for c in refs})
    print("year-end MAPE % by months known")
    print("  m" + "".join(f"{n:>11}" for n in [*names, *ref_names, "naive"]))
    by_m = {}
    for m in range(12):
        row = {n: mape(runs, n, m) for n in names}
        row |= {n: mape([refs], n, m) for n in ref_names}
        row["naive"] = min(mape(runs, b, m) for b in BASELINES)
        by_m[m] = row
        print(f"{m:>3}" + "".join(f"{row[n]:11.2f}" for n in [*names, *ref_names, "naive"]))
    print(
        "mean"
        + "".join(
            f"{mean(by_m[m][n] for m in range(12)):11.2f}" for n in [*names, *ref_names, "naive"]
        )
    )
    summary: dict = {"by_m": by_m, "variants": {}}
    print(
        "variant: x best naive at m = 0,3,6,9,11; year-end coverage 80/95; h1-5 MAPE; h1-5 cover 80"
    )
    for n in names:
        shares = [by_m[m][n] / by_m[m]["naive"] for m in SHOWN_M]
        c80, c95 = coverage(runs, n)
        later = [mape(runs, n, None, h) for h in range(1, 6)]
        cover = [coverage(runs, n, h)[0] for h in range(1, 6)]
        summary["variants"][n] = {
            "x_naive": shares,
            "coverage": [c80, c95],
            "mape_h": later,
            "cover80_h": cover,
        }
        print(
            f"  {n:<10} "
            + " ".join(f"{s:.2f}" for s in shares)
            + f"; {c80:.0%}/{c95:.0%}; "
            + " ".join(f"{x:.1f}" for x in later)
            + "; "
            + " ".join(f"{x:.0%}" for x in cover)
        )
    if seconds:
        print(
            "seconds per fit (ours with 500 paths of 60 months): "
            + ", ".join(f"{k} {v:.3f}" for k, v in seconds.items())
        )
    summary["seconds"] = seconds
    return summary


def references_only(series_ids: Sequence[str]) -> int:
    """statsforecast's models beside the best naive baseline and our members' fit times."""
    for series_id in series_ids:
        series = load_bundled(series_id)
        at = origins(series, scored_from(series_id, series))
        refs, seconds = reference_cases(series, at)
        if not refs:
            print("statsforecast does not import: use the bench environment", file=sys.stderr)
            return 1
        naive = backtest.run(series, list(BASELINES), at, get_model)
        from exportcast.models.evaluation.auto import cases_for

        cases = refs + [c for b in BASELINES for c in cases_for(series, b, naive, at)]
        seconds = member_seconds(series, at, [*AUTO_MEMBERS, *NEW_MEMBERS]) | seconds
        names = sorted({c.model for c in refs})
        print(f"\n## {series_id}: year-end MAPE % by months known")
        print("  m" + "".join(f"{n:>13}" for n in [*names, "naive"]))
        for m in range(12):
            row = [mape([cases], n, m) for n in names]
            row.append(min(mape([cases], b, m) for b in BASELINES))
            print(f"{m:>3}" + "".join(f"{x:13.2f}" for x in row))
        print("seconds per fit: " + ", ".join(f"{k} {v:.3f}" for k, v in seconds.items()))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0", help="e.g. 0-3")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--paths", type=int, default=500)
    parser.add_argument("--series", default=",".join(SERIES))
    parser.add_argument("--prior", type=Path, help="a prior file (default: the shipped one)")
    parser.add_argument("--json", help="write the figures here too")
    parser.add_argument(
        "--references-only", action="store_true", help="statsforecast's models and the seconds"
    )
    args = parser.parse_args()
    if args.references_only:
        return references_only(args.series.split(","))
    prior = load(args.prior) if args.prior else shipped()
    missing = {n for v in VARIANTS.values() for n in v} - set(prior.members)
    if missing:
        print(f"the prior has no cases of {sorted(missing)}: those learn alone", file=sys.stderr)
    low, _, high = args.seeds.partition("-")
    seeds = range(int(low), int(high or low) + 1)
    out = {}
    for series_id in args.series.split(","):
        started = time.perf_counter()
        runs = [run_one(series_id, seed, args.jobs, args.paths, prior) for seed in seeds]
        series = load_bundled(series_id)
        scored_at = origins(series, scored_from(series_id, series))
        refs, seconds = reference_cases(series, scored_at)
        seconds = member_seconds(series, scored_at, [*AUTO_MEMBERS, *NEW_MEMBERS]) | seconds
        out[series_id] = report(series_id, runs, refs, seconds)
        print(f"({time.perf_counter() - started:.0f}s)", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
