"""How the 2026 projection moved as Jan..May 2026 were published: auto, its members, the
naive baselines, beside the official outlooks. Shows whether auto adapts to the chip boom
at least as fast as its most adaptive member.

    .venv/bin/python benchmarks/break_2026.py
"""

from __future__ import annotations

import sys

import numpy as np

from exportcast.models import totals
from exportcast.models.core import simulate
from exportcast.models.datasets import (
    load_bundled,
    load_bundled_flashes,
    load_bundled_references,
)
from exportcast.models.evaluation.auto import Learning
from exportcast.models.evaluation.baselines import run_rate, ytd_growth
from exportcast.models.references import Reference
from exportcast.models.registry import AUTO_MEMBERS
from exportcast.models.series import parse_month
from exportcast.service.config import get_settings

MONTHS = ("2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05")


def outlooks_for(year: int, series_id: str = "kr-exports") -> dict[str, Reference]:
    """Each forecaster's latest published outlook for `year`, from the series' bundled
    outside forecasts (models/datasets), in the order they were published."""
    latest: dict[str, Reference] = {}
    for ref in sorted(load_bundled_references(series_id)):  # oldest first: later ones win
        if ref.year == year:
            latest.pop(ref.forecaster, None)
            latest[ref.forecaster] = ref
    return latest


def main() -> int:
    series = load_bundled()
    flashes = load_bundled_flashes()
    learning = Learning(cache_dir=get_settings().fit_cache() / series.id)
    names = ["auto", *AUTO_MEMBERS, "prophet"]
    print("2026 year-end median ($B) with data through:")
    print(f"{'':22}" + "".join(f"{m:>15}" for m in MONTHS))
    rows: dict[str, list[str]] = {}
    for month in MONTHS:
        cut = series.through(parse_month(month))
        for name in names:
            sim = simulate(cut, name, years=1, n_paths=2000, learning=learning)
            (year,) = totals.year_totals(sim.paths, sim.first_month, sim.actual_to_date, 1)
            lo, hi = np.percentile(year.totals, [10, 90])
            label = name
            if name == "auto":
                flag = " (break)" if sim.learned.get("break_detected") else ""
                weights = sim.learned.get("weights", {})
                rows.setdefault("auto weights", []).append(
                    "/".join(f"{weights.get(m, 0):.2f}" for m in AUTO_MEMBERS) + flag
                )
                rows.setdefault("auto 80% interval", []).append(f"{lo / 1e3:.0f}-{hi / 1e3:.0f}")
            rows.setdefault(label, []).append(f"{np.median(year.totals) / 1e3:.1f}")
        # With the next month's flashes (published before its full figure): 1-10, then 1-20.
        upcoming = cut.end + 1
        for period in ("d1_10", "d1_20"):
            known = [
                f
                for f in flashes
                if f.month < upcoming or (f.month == upcoming and f.day <= int(period[-2:]))
            ]
            label = f"auto + next {period}"
            if not any(f.month == upcoming for f in known):
                rows.setdefault(label, []).append("-")
                continue
            sim = simulate(
                cut, "auto", years=1, n_paths=2000, learning=learning, flashes=known, country="KR"
            )
            (year,) = totals.year_totals(sim.paths, sim.first_month, sim.actual_to_date, 1)
            rows.setdefault(label, []).append(f"{np.median(year.totals) / 1e3:.1f}")
        rows.setdefault("run_rate", []).append(f"{run_rate(cut) / 1e3:.1f}")
        rows.setdefault("ytd_growth", []).append(f"{ytd_growth(cut) / 1e3:.1f}")
    for name, cells in rows.items():
        print(f"{name:22}" + "".join(f"{c:>15}" for c in cells))
    outlooks = outlooks_for(2026, series.id)
    print(
        "\nofficial outlooks for 2026 (bundled with the series): "
        + (
            ", ".join(
                f"{name} ${ref.value / 1e3:.1f}B ({ref.published:%Y-%m-%d})"
                for name, ref in outlooks.items()
            )
            or "none bundled"
        )
    )
    print(f"weights are {'/'.join(AUTO_MEMBERS)}")
    print("'auto + next d1_20': data through the column's month and the next month's flashes")

    return 0


if __name__ == "__main__":
    sys.exit(main())
