"""`exportcast markets`: where the exports go. Each region's share and exports by year with
intervals, the concentration of markets published and projected, and P(a share crosses a
threshold), from the total's paths times the shares' paths (bundled Korea data or files)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from exportcast.models import limits
from exportcast.models.core import simulate
from exportcast.models.datasets import load_bundled, load_bundled_destinations
from exportcast.models.evaluation.auto import Learning
from exportcast.models.markets.destinations import compositions, parse_destinations_csv
from exportcast.models.markets.forecast import forecast_markets, year_in_progress
from exportcast.models.markets.regions import NAMES, REGION_IDS
from exportcast.models.markets.targets import parse_targets
from exportcast.models.registry import NAMES as MODELS
from exportcast.models.series import parse_month
from exportcast.models.validate import parse_csv
from exportcast.service.cli.sources import floats, parse_file
from exportcast.service.config import get_settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("markets", help="where the exports go: shares by region with intervals")
    p.add_argument("--total", type=Path, help="CSV of the total (month,value); default: Korea's")
    p.add_argument(
        "--destinations",
        type=Path,
        help="CSV of exports by destination (period,destination,value; period YYYY or "
        "YYYY-MM, destination an ISO 3166 alpha-3 code or WORLD); default: Korea's",
    )
    p.add_argument("--model", default="auto", choices=MODELS, help="the total's model")
    p.add_argument("--years", type=int, default=limits.DEFAULT_YEARS)
    p.add_argument("--levels", type=floats, default=list(limits.DEFAULT_LEVELS))
    p.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="REGIONS<SHARE",
        help="P(a share crosses a threshold), e.g. 'china<0.18' or 'asean+eu>0.3333'; repeatable",
    )
    p.add_argument("--through", default=None, help="YYYY-MM: as with data through this month")
    p.add_argument("--paths", type=int, default=limits.DEFAULT_PATHS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the JSON body")
    p.add_argument("--cache-dir", type=Path, default=None, help="backtest fits (as forecast)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        years = limits.check_years(args.years)
        n_paths = limits.check_paths(args.paths)
        levels = limits.check_levels(args.levels)
        targets = parse_targets(args.target)
        through = parse_month(args.through) if args.through else None
    except ValueError as exc:
        raise SystemExit(f"exportcast markets: {exc}") from None
    total, rows = load_bundled("kr-exports"), load_bundled_destinations("kr-exports")
    if args.total is not None:
        total = parse_file(args.total, lambda text: parse_csv(text, args.total.stem))
    if args.destinations is not None:
        rows = parse_file(args.destinations, parse_destinations_csv)
    if total is None or rows is None:
        return 2
    if through is not None:  # as known then: no month after it, no year ending after it
        total = total.through(through)
        rows = [r for r in rows if (r.period.month or r.period.year * 12 + 11) <= through]
    made = compositions(rows)
    if sum(c.complete for c in made) < 3:
        raise SystemExit(
            "exportcast markets: the destination rows make fewer than three complete "
            "compositions (a year with WORLD and partners making 90% of it)"
        )
    cache = args.cache_dir or get_settings().fit_cache()
    learning = Learning(cache_dir=cache / total.id, jobs=2) if args.model == "auto" else None
    sim = simulate(
        total, args.model, years=years, n_paths=n_paths, seed=args.seed, learning=learning
    )
    known = year_in_progress(rows, sim)
    body = forecast_markets(
        made, sim, years, levels, targets, seed=args.seed, known=known
    ).to_dict()
    print(json.dumps(body, indent=2) if args.json else markets_table(body))
    return 0


def markets_table(body: dict) -> str:
    key = f"{body['levels'][0]:g}"
    years = body["years"]
    model = body["model"]
    lines = [
        f"markets of {body['unit']} exports, total's data through {body['data_through']}, "
        f"newest composition {body['newest_composition']}"
        + (
            f"; {body['year_to_date']['year']}'s first {body['year_to_date']['months']} "
            "months by destination are facts"
            if body["year_to_date"]
            else ""
        ),
        f"shares: {model['method']} (pooled momentum {model['pooled_momentum']:g}); "
        "regions add up to the total on every path "
        f"(largest gap {body['coherence']['largest_relative_gap']:.1e})",
        "",
        f"{'region':<34}" + "".join(f"{y['year']:>24}" for y in years),
        f"{'':<34}" + "".join(f"{'share [' + key + '%]':>24}" for _ in years),
    ]
    for r in REGION_IDS:
        cells = []
        for y in years:
            s = y["regions"][r]["share"]
            lo, hi = s["intervals"][key]
            cells.append(f"{s['median']:.1%} [{lo:.1%}-{hi:.1%}]")
        lines.append(f"{NAMES[r]:<34}" + "".join(f"{c:>24}" for c in cells))
    lines += ["", f"concentration over the ten named regions ({key}% intervals)"]
    lines.append(f"{'period':>18} {'top region':<14} {'top share':>22} {'Herfindahl':>22}")
    complete = [p for p in body["published"] if p.get("herfindahl") is not None]
    for past in complete[-4:]:
        top = max(REGION_IDS[:-1], key=lambda r: past["shares"][r])
        lines.append(
            f"{past['period']:>18} {top:<14} {past['top_share']:>22.3f} {past['herfindahl']:>22.3f}"
        )
    for y in years:
        c = y["concentration"]

        def spread(s: dict) -> str:
            lo, hi = s["intervals"][key]
            return f"{s['median']:.3f} [{lo:.3f}-{hi:.3f}]"

        lines.append(
            f"{y['year']:>18} {c['top_region']:<14} {spread(c['top_share']):>22} "
            f"{spread(c['herfindahl']):>22}"
        )
    for j, t in enumerate(years[0]["targets"]):
        chances = ", ".join(f"{y['year']} {y['targets'][j]['probability']:.0%}" for y in years)
        lines.append(f"P({t['target']}): {chances}")
    return "\n".join(lines)
