"""The multi-year backtest on the three bundled series (Korea's exports, US exports to
Korea, US exports of goods and services): totals of horizons 1-5 from origins at every
months-known, `auto` learned walking forward, its members and the annual baselines in the
same run; per series and pooled; then Korea's 2026-2030 projections and P($1T) with and
without the multi-year calibration. Prints the tables and the issue's goals; writes the
pooled plot (error, coverage, reliability) to benchmarks/multiyear.png.

    .venv/bin/python benchmarks/multiyear.py [--jobs 2] [--paths 500]

About 3 minutes on two cores with a cold fit cache (2,500 fits), seconds when warm.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from exportcast.models import totals
from exportcast.models.core import fit_auto
from exportcast.models.datasets import load_bundled
from exportcast.models.evaluation.auto import Learning
from exportcast.models.evaluation.horizons import (
    ANNUAL_BASELINES,
    HorizonReport,
    horizon_backtest,
    pool,
    reliability,
)
from exportcast.models.registry import AUTO_MEMBERS, get_model
from exportcast.service.cli.backtest import plot_horizons
from exportcast.service.config import get_settings

SERIES = ("kr-exports", "us-exports-to-kr", "us-exports-gs")
HORIZONS = (1, 2, 3, 4, 5)


def table(report: HorizonReport) -> str:
    lines = [
        f"### {report.series}",
        "",
        "| model | " + " | ".join(f"h{h} MAPE / 80% / 95% / Brier" for h in HORIZONS) + " |",
        "|---|" + "---|" * len(HORIZONS),
    ]
    for model in report.models():
        cells = []
        for h in HORIZONS:
            s = report.score(model, h)
            cov = s.score.coverage
            cells.append(f"{s.score.mape:.1f} / {cov[80.0]:.0%} / {cov[95.0]:.0%} / {s.brier:.3f}")
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    n = ", ".join(f"h{h} {report.score('auto', h).score.n}" for h in HORIZONS)
    lines.append(f"\ncases: {n}")
    return "\n".join(lines)


def goals(pooled: HorizonReport, reports: list[HorizonReport]) -> list[str]:
    out = []
    for h in HORIZONS:
        a = pooled.score("auto", h)
        cov80, cov95 = a.score.coverage[80.0], a.score.coverage[95.0]
        base = {b: pooled.score(b, h) for b in ANNUAL_BASELINES}
        best_mape = min(base, key=lambda b: base[b].score.mape)
        best_brier = min(base, key=lambda b: base[b].brier)
        worst = min(reports, key=lambda r: r.score("auto", h).score.coverage[80.0])
        worst95 = min(reports, key=lambda r: r.score("auto", h).score.coverage[95.0])
        out.append(
            f"h{h}: coverage {cov80:.0%} (75-85: {'met' if 0.75 <= cov80 <= 0.85 else 'missed'})"
            f" / {cov95:.0%} (92-98: {'met' if 0.92 <= cov95 <= 0.98 else 'missed'}); lowest "
            f"series {worst.series} {worst.score('auto', h).score.coverage[80.0]:.0%}, "
            f"{worst95.series} {worst95.score('auto', h).score.coverage[95.0]:.0%} (65/85); "
            f"MAPE {a.score.mape:.1f} vs best baseline {best_mape} "
            f"{base[best_mape].score.mape:.1f} "
            f"({'met' if a.score.mape < base[best_mape].score.mape else 'missed'}); "
            f"Brier {a.brier:.3f} vs {best_brier} {base[best_brier].brier:.3f} "
            f"({'met' if a.brier < base[best_brier].brier else 'missed'})"
        )
    return out


def projections(through: int | None, jobs: int) -> list[str]:
    """Korea's next five years and P($1T) with data through `through`, with and without
    the multi-year steps (the same fitted members, weights and first-year calibration)."""
    series = load_bundled()
    if through is not None:
        series = series.through(through)
    cache = get_settings().fit_cache() / "learning" / series.id
    ensemble = fit_auto(series, Learning(jobs=jobs, cache_dir=cache))
    without = ensemble.reweighted(ensemble.weights, ensemble.scale, ensemble.learned, ())
    first = series.end + 1
    horizon = totals.months_needed(first, 5)
    ytd = series.year_to_date(first // 12)[1]
    lines = [f"with data through {series.end // 12}-{series.end % 12 + 1:02d}:"]
    for label, model in (("before", without), ("after", ensemble)):
        paths = model.sample_paths(horizon, 5000, 0)
        years = totals.year_totals(paths, first, ytd, years=5)
        cells = []
        for y in years:
            low, high = np.percentile(y.totals, [10, 90])
            p = float(np.mean(y.totals >= 1_000_000))
            cells.append(
                f"{y.year} {np.median(y.totals) / 1e3:,.0f} ({low / 1e3:,.0f}-{high / 1e3:,.0f}) "
                f"P {p:.0%}"
            )
        lines.append(f"  {label:6}: " + "; ".join(cells))
    steps = ", ".join(
        f"h{h} growth {s.growth:.2f} spread {s.spread:.2f} tail {s.tail:.2f}"
        for h, s in enumerate(ensemble.steps, start=2)
    )
    lines.append(f"  steps: {steps}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--paths", type=int, default=500)
    parser.add_argument("--plot", type=Path, default=Path(__file__).with_name("multiyear.png"))
    args = parser.parse_args()
    reports = []
    for series_id in SERIES:
        series = load_bundled(series_id)
        report = horizon_backtest(
            series,
            list(AUTO_MEMBERS),
            get_model,
            from_year=series.start // 12 + 6,
            n_paths=args.paths,
            jobs=args.jobs,
            cache_dir=get_settings().fit_cache() / "backtest" / series_id,
        )
        print(f"{series_id}: {report.seconds:.0f}s", file=sys.stderr)
        reports.append(report)
        print(table(report), end="\n\n")
    pooled = pool(reports)
    print(table(pooled), end="\n\n")
    print(
        "reliability of auto's target probabilities, pooled, all horizons"
        " (predicted -> observed, n):"
    )
    for b in reliability(pooled.select("auto")):
        print(f"  {b.low:.1f}-{b.high:.1f}: {b.predicted:.0%} -> {b.observed:.0%} ({b.n})")
    print("\ngoals (pooled):")
    for line in goals(pooled, reports):
        print("  " + line)
    print("\nKorea, median $B (80% interval), P(>= $1T), before and after the multi-year steps:")
    for through in (2025 * 12 + 11, None):
        for line in projections(through, args.jobs):
            print("  " + line)
    plot_horizons(pooled, args.plot)
    print(f"\nplot written to {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
