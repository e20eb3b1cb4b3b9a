"""The full yardstick on the bundled series, with the issue's goals checked and printed.

Backtests auto (learned, no look-ahead), every member, Prophet as a member and with its
default settings, the seasonal naive model and the three naive baselines on every
(year, m) from 2010 to 2025; statsforecast's AutoETS too when it is importable (point
forecasts of the remaining months, summed). Prints the table, the goals with their
figures, the run time, and writes a plot; exits 1 when any goal is missed (each missed
goal named on stderr), 0 when all are met.

    .venv/bin/python benchmarks/accuracy.py [--plot backtest.png] [--jobs 2] [--no-cache]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from exportcast.models.datasets import load_bundled
from exportcast.models.evaluation.origins import Origin, origins
from exportcast.models.evaluation.scoring import Case, score_table
from exportcast.models.evaluation.yardstick import Report, yardstick
from exportcast.models.registry import AUTO_MEMBERS, get_model
from exportcast.service.cli.backtest import plot, table
from exportcast.service.cli.progress import progress_bar
from exportcast.service.config import get_settings

NAIVE = ("run_rate", "ytd_growth", "seasonal_naive")
# The goals the benchmark prints, and exits 1 when any is missed.
NAIVE_SHARE = 0.6  # auto's MAPE at each m: at most this share of the best naive baseline's
COVERAGE_ALL = {80.0: (0.75, 0.85), 95.0: (0.92, 0.98)}  # over every origin
COVERAGE_FLOOR = {80.0: 0.70, 95.0: 0.88}  # in each months-known group
M_GROUPS = ("0-2", "3-5", "6-8", "9-11")
SECONDS = 600.0  # a cold run on 2 cores


def accuracy_met(auto: float, naive: float, best_member: float) -> bool:
    """auto at one m: within NAIVE_SHARE of the best naive baseline, and better than its
    best member (a NaN, a model without cases there, is never met)."""
    return bool(auto <= NAIVE_SHARE * naive and auto < best_member)


def missed_goals(report: Report, seconds: float, timed: bool = True) -> list[str]:
    """Every goal the report misses, one line each ([] when all are met). The run time is
    a goal of a cold run only (`timed`): a run reading cached fits says nothing of it."""
    missed = []
    for m in range(12):
        auto = report.mape("auto", m)
        naive = min(report.mape(b, m) for b in NAIVE)
        best = min(report.mape(n, m) for n in AUTO_MEMBERS)
        if not accuracy_met(auto, naive, best):
            missed.append(
                f"m={m}: auto MAPE {auto:.2f} against {NAIVE_SHARE:g} x naive "
                f"{NAIVE_SHARE * naive:.2f} and best member {best:.2f}"
            )

    def coverage(months: str) -> dict[float, float | None]:
        found = report.score("auto", months)
        return found.coverage if found is not None else {}

    for level, (low, high) in COVERAGE_ALL.items():
        c = coverage("all").get(level)
        if c is None or not low <= c <= high:
            missed.append(f"coverage {level:g}%: {c} (goal {low:.0%}-{high:.0%})")
    for months in M_GROUPS:
        for level, floor in COVERAGE_FLOOR.items():
            c = coverage(months).get(level)
            if c is None or c < floor:
                missed.append(f"coverage {level:g}% at m {months}: {c} (floor {floor:.0%})")
    if timed and seconds >= SECONDS:
        missed.append(f"run time {seconds:.0f}s (goal under {SECONDS:.0f}s)")
    return missed


def autoets_cases(series, at: list[Origin]) -> list[Case]:
    from statsforecast.models import AutoETS

    out = []
    for o in at:
        cut = series.through(o.cutoff)
        ytd = cut.year_to_date(o.year)[1]
        f = AutoETS(season_length=12).forecast(y=cut.values, h=12 - o.m)["mean"]
        total = ytd + float(np.sum(f))
        out.append(
            Case("sf_autoets", o.year, o.m, series.year_to_date(o.year)[1], ytd, total, total)
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plot", type=Path, default=Path("benchmarks/backtest.png"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-cache", action="store_true", help="time a cold run")
    parser.add_argument("--cache-dir", type=Path, default=get_settings().fit_cache() / "backtest")
    args = parser.parse_args()
    series = load_bundled()
    cache = Path(tempfile.mkdtemp()) if args.no_cache else args.cache_dir / series.id
    started = time.perf_counter()
    report = yardstick(
        series,
        AUTO_MEMBERS,
        get_model,
        ["prophet", "snaive", "prophet_default"],
        from_year=2010,
        jobs=args.jobs,
        cache_dir=cache,
        progress=progress_bar("fitting"),
    )
    try:
        import statsforecast  # noqa: F401

        report.cases.extend(autoets_cases(series, origins(series, 2010)))
        report.scores = score_table(report.cases)
    except ImportError:
        print("statsforecast not importable: AutoETS left out", file=sys.stderr)
    elapsed = time.perf_counter() - started
    if args.no_cache:
        shutil.rmtree(cache, ignore_errors=True)
    print(table(report))
    print(f"\nwhole benchmark: {elapsed:.0f}s ({'cold' if args.no_cache else 'cache allowed'})")

    print("\nGoals")
    members = list(AUTO_MEMBERS)
    print(f"{'m':>3}{'auto':>7}{'0.6xnaive':>10}{'best member':>13}   verdict")
    for m in range(12):
        auto = report.mape("auto", m)
        naive = min(report.mape(b, m) for b in NAIVE)
        best_name = min(members, key=lambda n: report.mape(n, m))
        best = report.mape(best_name, m)
        print(
            f"{m:>3}{auto:7.2f}{0.6 * naive:10.2f}{best:8.2f} {best_name:<6}  "
            f"{'met' if accuracy_met(auto, naive, best) else 'missed'} (x{auto / naive:.2f} naive)"
        )
    total = next(s for s in report.scores if s.model == "auto" and s.months == "all")
    c80, c95 = total.coverage[80.0], total.coverage[95.0]
    print(f"coverage 80%: {c80:.0%} (goal 75-85%), 95%: {c95:.0%} (goal 92-98%)")
    for grp in ("0-2", "3-5", "6-8", "9-11"):
        s = next(x for x in report.scores if x.model == "auto" and x.months == grp)
        print(f"  m {grp}: {s.coverage[80.0]:.0%} / {s.coverage[95.0]:.0%} (floor 70% / 88%)")
    print(f"run time {elapsed:.0f}s (goal under 600s on 2 cores)")
    if args.plot:
        plot(report, args.plot)
        print(f"plot: {args.plot}")
    missed = missed_goals(report, elapsed, timed=args.no_cache)
    for goal in missed:
        print(f"MISSED: {goal}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
