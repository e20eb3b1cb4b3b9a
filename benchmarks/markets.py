"""Markets: the shares' backtest beside last year's shares and a drift, the 2026 projection
with data through June 2026 beside the trailing twelve months, and the regions checked
against the ministry's own.

    python benchmarks/markets.py [--paths 2000] [--model auto] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from exportcast.models.core import simulate
from exportcast.models.datasets import load_bundled, load_bundled_destinations
from exportcast.models.evaluation.auto import Learning
from exportcast.models.evaluation.markets import METHODS, MarketsBacktest, backtest_markets
from exportcast.models.markets.destinations import DestinationRow, compositions
from exportcast.models.markets.forecast import forecast_markets, year_in_progress
from exportcast.models.markets.regions import NAMES, REGION_IDS, REGIONS, region_of
from exportcast.service.config import get_settings

JUNE_2026 = 2026 * 12 + 5
# The ministry's regions (REGION_* rows) that match ours in name.
MINISTRY = {
    "china": "REGION_CN",
    "united_states": "REGION_US",
    "asean": "REGION_ASEAN",
    "eu": "REGION_EU27",
    "japan": "REGION_JP",
    "india": "REGION_IN",
    "middle_east": "REGION_MIDDLE_EAST",
    "latin_america": "REGION_LATAM",
}


def backtest_table(result: MarketsBacktest) -> str:
    lines = [
        "| h | cases | model | last shares | drift | 80% | 95% |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in result.by_horizon:
        mae = " | ".join(f"{s.mae[m]:.3f}" for m in METHODS)
        lines.append(
            f"| {s.horizon} | {s.cases} | {mae} | {s.coverage[80.0]:.0%} | {s.coverage[95.0]:.0%} |"
        )
    return "\n".join(lines)


def missed_goals(result: MarketsBacktest) -> list[str]:
    missed = []
    for s in result.by_horizon[:3]:
        for baseline in ("last_shares", "drift"):
            if not s.mae["model"] < s.mae[baseline]:
                gap = (s.mae["model"] / s.mae[baseline] - 1) * 100
                missed.append(
                    f"h={s.horizon}: model {s.mae['model']:.3f} not below {baseline} "
                    f"{s.mae[baseline]:.3f} (+{gap:.1f}%)"
                )
    pooled = result.pooled_coverage[80.0]
    if not 0.75 <= pooled <= 0.85:
        missed.append(f"80% coverage pooled {pooled:.1%}, goal 75-85%")
    return missed


def ministry_check(rows: list[DestinationRow]) -> str:
    """Our regions, scaled from the listed partners as the newest composition is, against
    the ministry's own regional figures for the months both have."""
    made = compositions(rows)
    scaled = made[-1].scaled
    lines = [
        "| month | region | ours (scaled) | ministry | ours / ministry |",
        "|---|---|---|---|---|",
    ]
    by_month: dict[str, dict[str, float]] = {}
    for r in rows:
        if r.period.month is not None:
            by_month.setdefault(str(r.period), {})[r.destination] = r.value
    for month, values in sorted(by_month.items()):
        if not any(k.startswith("REGION_") for k in values) or "WORLD" not in values:
            continue
        sums: dict[str, float] = {}
        for code, v in values.items():
            if code != "WORLD" and not code.startswith("REGION_"):
                sums[region_of(code)] = sums.get(region_of(code), 0.0) + v
        for region, theirs in MINISTRY.items():
            if theirs in values and region in scaled:
                ours = sums.get(region, 0.0) / scaled[region]
                lines.append(
                    f"| {month} | {NAMES[region]} | {ours:,.0f} | {values[theirs]:,.0f} | "
                    f"{ours / values[theirs]:.3f} |"
                )
    return "\n".join(lines)


def projection_table(body: dict, made) -> str:
    twelve = made[-1]
    last_year = [c for c in made if c.basis == "year"][-1]
    year = body["years"][0]
    lines = [
        f"| region | {last_year.label} | {twelve.label} | {year['year']} median [80%] |",
        "|---|---|---|---|",
    ]
    for r in REGION_IDS:
        share = year["regions"][r]["share"]
        lo, hi = share["intervals"]["80"]
        lines.append(
            f"| {NAMES[r]} | {last_year.shares[r]:.1%} | {twelve.shares[r]:.1%} | "
            f"{share['median']:.1%} [{lo:.1%}, {hi:.1%}] |"
        )
    c = year["concentration"]["herfindahl"]
    named = REGION_IDS[:-1]
    before, recent = (sum(x.shares[r] ** 2 for r in named) for x in (last_year, twelve))
    low, high = c["intervals"]["80"]
    lines.append(
        f"| Herfindahl (named regions) | {before:.3f} | {recent:.3f} | {c['median']:.3f} "
        f"[{low:.3f}, {high:.3f}] |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=2000)
    parser.add_argument("--model", default="auto", help="the total's model (default auto)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    rows = load_bundled_destinations()
    made = compositions(rows)
    started = time.perf_counter()
    result = backtest_markets(made, n_paths=args.paths)
    took = time.perf_counter() - started
    print(f"## Shares backtest, annual origins 2008-2022, horizons 1-5 ({took:.1f} s)\n")
    print("Mean absolute error of the eleven regions' shares, share points; coverage of the")
    print("model's central intervals over every region and case.\n")
    print(backtest_table(result))
    print(
        f"\npooled coverage: 80% {result.pooled_coverage[80.0]:.1%}, "
        f"95% {result.pooled_coverage[95.0]:.1%}"
    )
    last = result.chosen[-1]
    print(f"momentum learned at {last['origin']}: {last['momentum']}")
    missed = missed_goals(result)
    print("\n## Goals\n")
    print("\n".join(f"- missed: {m}" for m in missed) if missed else "- all met")

    total = load_bundled().through(JUNE_2026)
    learning = Learning(cache_dir=get_settings().fit_cache() / "kr-exports")
    sim = simulate(total, args.model, years=5, n_paths=args.paths, learning=learning)
    june = [r for r in rows if r.period.month is None or r.period.month <= JUNE_2026]
    made_june = compositions(june)
    known = year_in_progress(june, sim)
    body = forecast_markets(made_june, sim, years=5, seed=1, known=known).to_dict()
    print(f"\n## 2026 with data through June 2026 (the total: {args.model})\n")
    print(projection_table(body, made_june))
    named = ", ".join(f"{r.id} {len(r.codes)}" for r in REGIONS)
    print(f"\nregions (codes each): {named}; rest: every other code")
    print("\n## Our regions against the ministry's\n")
    print(ministry_check(rows))
    if args.json:
        figures = {
            "backtest": result.to_dict(),
            "missed": missed,
            "projection_2026": body["years"][0],
            "model": body["model"],
        }
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
