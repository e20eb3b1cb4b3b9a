"""The flash backtest on the bundled series: each month 2017-01 .. 2026-05 nowcast without
a flash, with the 1-10 flash and with the 1-20 flash, and the year-end total with each;
the monthly fan's one-month-ahead coverage over 2010-2025 without flashes. Everything at a
month is learned from data before it. Prints the tables and the issue's goals.

    .venv/bin/python benchmarks/nowcast.py [--jobs 2] [--paths 1000]
"""

from __future__ import annotations

import argparse
import sys
import time

from exportcast.models.datasets import BUNDLED, load_bundled, load_bundled_flashes
from exportcast.models.evaluation.nowcast import VARIANTS, flash_backtest, summary
from exportcast.models.nowcast.flashes import history_pairs
from exportcast.models.nowcast.ratio import fit_ratio
from exportcast.models.nowcast.trust import LEARNED, Trust, fit_trust, log_likelihood
from exportcast.models.registry import AUTO_MEMBERS, get_model
from exportcast.models.series import format_month
from exportcast.service.config import get_settings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--from-year", type=int, default=2010)
    parser.add_argument(
        "--trust",
        default=None,
        help="wrong,widen: read the flashes with this trust in the model (0,1 is the plain "
        "Gaussian update); default: learned as the walk goes, from the months before",
    )

    args = parser.parse_args()
    trust = None
    if args.trust:
        wrong, widen = (float(x) for x in args.trust.split(","))
        trust = Trust(wrong, widen)
    series = load_bundled()
    flashes = load_bundled_flashes()
    first_flash = min(f.month for f in flashes)
    months = list(range(args.from_year * 12, series.end + 1))
    started = time.perf_counter()
    cases = flash_backtest(
        series,
        flashes,
        BUNDLED[series.id].country,
        AUTO_MEMBERS,
        get_model,
        months,
        n_paths=args.paths,
        jobs=args.jobs,
        cache_dir=get_settings().fit_cache() / series.id,
        trust=trust,
    )
    print(
        f"{len(cases)} cases in {time.perf_counter() - started:.0f}s, flashes read with {trust}\n"
    )
    with_flash = range(first_flash // 12 + 1, series.end // 12 + 1)
    print(
        f"months {with_flash.start}-{with_flash.stop - 1} with flashes "
        "(first year of flashes only learns the ratio)"
    )
    print(
        f"{'variant':8} {'months':>6} {'month MAPE':>10} {'80%':>5} {'95%':>5} "
        f"{'years':>5} {'year MAPE':>9} {'80%':>5} {'95%':>5}"
    )
    flash_months = {c.month for c in cases if c.variant == "d1_10"}
    base = [c for c in cases if c.month in flash_months or c.variant != "none"]
    rows = {}
    for variant in VARIANTS:
        s = summary(base, variant, with_flash)
        rows[variant] = s
        print(
            f"{variant:8} {s['n_months']:>6} {s['month_mape']:>10.2f} "
            f"{s['month_cover'][80.0]:>5.0%} {s['month_cover'][95.0]:>5.0%} {s['n_years']:>5} "
            f"{s['year_mape']:>9.2f} {s['year_cover'][80.0]:>5.0%} {s['year_cover'][95.0]:>5.0%}"
        )
    print("\nthe flash alone (learned ratio x flash, no model):")
    for variant in ("d1_10", "d1_20"):
        s = rows[variant]
        print(
            f"  {variant}: month MAPE {s['implied_mape']:.2f}, 80% covers "
            f"{s['implied_cover'][80.0]:.0%}, 95% covers {s['implied_cover'][95.0]:.0%}"
        )
    print("  the flash alone, learned on weekdays only (no holidays), same months:")
    full = {series.start + i: float(v) for i, v in enumerate(series.values)}
    for period in ("d1_10", "d1_20"):
        errors = {}
        for country in ("KR", None):
            misses = []
            for f in flashes:
                if f.period != period or f.month // 12 < with_flash.start or f.month not in full:
                    continue
                earlier = history_pairs([g for g in flashes if g.month < f.month], full)
                belief = fit_ratio(earlier, period, country).belief(f)
                misses.append(abs(belief.median / full[f.month] - 1) * 100)
            errors[country] = sum(misses) / len(misses)
        print(
            f"    {period}: month MAPE {errors[None]:.2f} on weekdays, "
            f"{errors['KR']:.2f} with Korean holidays"
        )
    print("\nyear-end MAPE by months known m (months 2017-2025):")
    print(f"{'variant':8}" + "".join(f"{m:>6}" for m in range(12)))
    for variant in VARIANTS:
        cells = []
        for m in range(12):
            mine = [
                c
                for c in base
                if c.variant == variant and c.month % 12 == m and c.year_actual is not None
            ]
            err = sum(c.year_error for c in mine) / len(mine) if mine else float("nan")
            cells.append(f"{err:>6.2f}")
        print(f"{variant:8}" + "".join(cells))
    fan = summary(cases, "none", range(2010, 2026))
    print(
        f"\nmonthly fan, one month ahead, 2010-2025 without flashes ({fan['n_months']} months): "
        f"80% covers {fan['month_cover'][80.0]:.0%}, 95% covers {fan['month_cover'][95.0]:.0%}, "
        f"MAPE {fan['month_mape']:.2f}"
    )
    cut = {v: rows[v]["month_mape"] for v in VARIANTS}
    print("\ngoals:")
    print(
        f"  d1_20 month error {cut['d1_20']:.2f} vs {cut['none']:.2f}: "
        f"{1 - cut['d1_20'] / cut['none']:.0%} lower (goal 40%)"
    )
    print(
        f"  d1_10 month error {cut['d1_10']:.2f} vs {cut['none']:.2f}: "
        f"{1 - cut['d1_10'] / cut['none']:.0%} lower (goal 20%)"
    )
    breaks_and_trust(cases, with_flash)
    print("\n2026 months:")
    for c in cases:
        if c.month // 12 == 2026:
            lo, hi = c.month_intervals[80.0]
            ylo, yhi = c.year_intervals[80.0]
            print(
                f"  {format_month(c.month)} {c.variant:6} month {c.month_median / 1e3:6.1f}"
                f" [{lo / 1e3:5.1f}-{hi / 1e3:5.1f}] actual {c.month_actual / 1e3:5.1f};"
                f" year {c.year_median / 1e3:7.1f} [{ylo / 1e3:6.1f}-{yhi / 1e3:6.1f}]"
            )
    return 0


def breaks_and_trust(cases, with_flash: range) -> None:
    """The break months (the forecast without a flash missed by more than 8%), coverage on
    them and overall, and the trust learned from the years before the scored ones."""
    scored = [c for c in cases if c.month // 12 in with_flash]
    none = {c.month: c for c in scored if c.variant == "none"}
    breaks = sorted(m for m, c in none.items() if c.month_error > 8)
    print(f"\nbreak months (no-flash forecast missed by > 8%), {len(breaks)} of {len(none)}:")
    print("  " + ", ".join(f"{format_month(m)} ({none[m].month_error:.0f}%)" for m in breaks))
    print(f"{'variant':8} {'80% all':>8} {'80% breaks':>10} {'95% all':>8} {'95% breaks':>10}")
    for variant in VARIANTS:
        mine = [c for c in scored if c.variant == variant and c.month in none]
        at_breaks = [c for c in mine if c.month in breaks]

        def cover(group, level):
            return sum(c.month_covered(level) for c in group) / max(len(group), 1)

        print(
            f"{variant:8} {cover(mine, 80.0):>8.0%} {cover(at_breaks, 80.0):>10.0%} "
            f"{cover(mine, 95.0):>8.0%} {cover(at_breaks, 95.0):>10.0%}"
            f"  ({len(mine)} months, {len(at_breaks)} breaks)"
        )
    for variant in ("d1_10", "d1_20"):
        for last in (2017, 2019, 2021, 2025, 2026):
            before = [
                r for c in cases if c.variant == variant and c.month // 12 <= last for r in c.reads
            ]
            fitted = fit_trust(before)
            gain = log_likelihood(before, fitted) - log_likelihood(before, Trust())
            print(
                f"{variant} trust learned from {len(before)} members' months through {last}: "
                f"wrong {fitted.wrong:.2f}, widen {fitted.widen:.1f} (log likelihood "
                f"{gain:+.1f} on the Gaussian update)"
            )
    print(f"shipped for the service: {LEARNED}")


if __name__ == "__main__":
    sys.exit(main())
