"""Korea's exports by item, reconciled to the total: the year-end backtest 2018-2025 of the
direct total against the items reconciled (bottom-up and MinT), semiconductors alone both
ways, and the 2026 path (data through Dec..May) both ways. Prints the tables and the goals.

    .venv/bin/python benchmarks/hierarchy.py [--jobs 2] [--paths 500]

About 15 minutes on two cores with a cold fit cache (~4,000 fits), seconds when warm.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from exportcast.models.datasets import load_bundled, load_bundled_items
from exportcast.models.evaluation.hierarchy import DIRECT, HierarchyReport, hierarchy_backtest
from exportcast.models.hierarchy.items import hierarchy_of
from exportcast.models.hierarchy.reconcile import METHODS
from exportcast.models.hierarchy.spec import node_series
from exportcast.models.registry import AUTO_MEMBERS, get_model
from exportcast.service.config import get_settings

MODELS = (DIRECT, *METHODS)
# A total that is the direct one up to rounding (top-down rescales the items to it and
# adds them up again: the last bits move) is a tie, not a loss: half the printed precision.
TIE = 0.005


def table(report: HierarchyReport, prefix: str = "") -> str:
    lines = [
        "| m | " + " | ".join(f"{prefix}{m} MAPE / 80% / 95%" for m in MODELS) + " |",
        "|---|" + "---|" * len(MODELS),
    ]
    for months in [*(str(m) for m in range(12)), "all"]:
        cells = []
        for model in MODELS:
            s = report.score(prefix + model, months)
            cells.append(
                "-"
                if s is None
                else f"{s.mape:.2f} / {s.coverage[80.0]:.0%} / {s.coverage[95.0]:.0%}"
            )
        lines.append(f"| {months} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def path_table(report: HierarchyReport, prefix: str = "") -> str:
    lines = [
        "| data through | " + " | ".join(f"{prefix}{m} median [80%]" for m in MODELS) + " |",
        "|---|" + "---|" * len(MODELS),
    ]
    for point in report.path:
        through = "Dec" if point["m"] == 0 else f"{point['year']}-{point['m']:02d}"
        cells = []
        for model in MODELS:
            p = point[prefix + model]
            cells.append(
                f"{p['median'] / 1000:,.1f} [{p['80'][0] / 1000:,.1f}, {p['80'][1] / 1000:,.1f}]"
            )
        lines.append(f"| {through} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--paths", type=int, default=500)
    parser.add_argument("--from-year", type=int, default=2018)
    parser.add_argument("--cache", type=Path, default=None, help="fit cache (default: settings)")
    args = parser.parse_args(argv)
    cache = args.cache or get_settings().fit_cache()
    hierarchy, items = hierarchy_of("kr-exports-items", "kr-exports", load_bundled_items())
    nodes = node_series(hierarchy, load_bundled(), items)
    report = hierarchy_backtest(
        hierarchy,
        nodes,
        AUTO_MEMBERS,
        get_model,
        args.from_year,
        n_paths=args.paths,
        jobs=args.jobs,
        cache_dir=cache,
    )
    took = f"{report.seconds:.0f} s"
    years = sorted({c.year for c in report.cases})
    print(f"## Year-end totals {years[0]}-{years[-1]}: direct against reconciled ({took})\n")
    print(f"cases: {len(years)} years x 12 months known; items start 2016-01 and the members")
    print("need 36 months, so the first year the items can be scored is 2019\n")
    print(table(report))
    print("\n## Semiconductors alone\n")
    print(table(report, "semiconductors:"))
    print("\n## 2026, as the year went (USD billions)\n")
    print(path_table(report))
    print()
    print(path_table(report, "semiconductors:"))
    if report.left_out:
        print("left out: " + "; ".join(report.left_out))
    print("\n## Goals\n")
    worse = [
        (method, m)
        for method in METHODS
        for m in range(12)
        if (r := report.score(method, str(m)))
        and (d := report.score(DIRECT, str(m)))
        and r.mape > d.mape + TIE
    ]
    for method in METHODS:
        s = report.score(method, "all")
        bad = [m for meth, m in worse if meth == method]
        print(
            f"- {method}: at least as accurate as direct at every m (within {TIE} points): "
            f"{'yes' if not bad else 'no, worse at m=' + ','.join(map(str, bad))}; "
            f"coverage 80% {s.coverage[80.0]:.0%} (goal 75-85%), "
            f"95% {s.coverage[95.0]:.0%} (goal 92-98%)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
