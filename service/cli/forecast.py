"""`exportcast forecast`: annual totals with intervals from the terminal."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from exportcast.models import limits
from exportcast.models.core import simulate
from exportcast.models.evaluation.auto import Learning
from exportcast.models.registry import NAMES
from exportcast.models.simulation import summarise
from exportcast.service.cli.moved import since_month_before
from exportcast.service.cli.sources import (
    add_flash_arguments,
    add_source_arguments,
    cut_through,
    floats,
    load_flashes,
    load_series,
)
from exportcast.service.cli.tables import forecast_table, moves_table
from exportcast.service.config import get_settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("forecast", help="project annual totals with intervals")
    add_source_arguments(p)
    add_flash_arguments(p)
    p.add_argument("--model", default="auto", choices=NAMES)
    p.add_argument(
        "--years", type=int, default=limits.DEFAULT_YEARS, help="calendar years, this one first"
    )
    p.add_argument("--levels", type=floats, default=list(limits.DEFAULT_LEVELS))
    p.add_argument("--targets", type=floats, default=None, help="amounts in the series' unit")
    p.add_argument("--paths", type=int, default=limits.DEFAULT_PATHS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the JSON result")
    p.add_argument(
        "--moves",
        action="store_true",
        help="also say why the forecast moved since the month before (made again as served "
        "then, with that month's flashes), step by step",
    )
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="where auto keeps the backtest fits it learns from, so a re-run is quick "
        "(default: the service's, EXPORTCAST_CACHE_DIR or EXPORTCAST_DATA_DIR/cache)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        years = limits.check_years(args.years)
        n_paths = limits.check_paths(args.paths)
        levels = limits.check_levels(args.levels)
        targets = None if args.targets is None else limits.check_targets(args.targets)
    except ValueError as exc:
        raise SystemExit(f"exportcast forecast: {exc}") from None
    loaded = load_series(args)
    if loaded is None:
        return 2
    series, default_targets = loaded
    series = cut_through(series, args.through)
    flashes = load_flashes(args)
    if flashes is None:
        return 2
    cache = args.cache_dir or get_settings().fit_cache()
    learning = Learning(cache_dir=cache / series.id, jobs=2)
    targets = default_targets if targets is None else targets
    sim = simulate(
        series,
        args.model,
        years=years,
        n_paths=n_paths,
        seed=args.seed,
        learning=learning,
        flashes=flashes[0],
        country=flashes[1],
    )
    result = summarise(sim, years, levels, targets)
    out = result.to_dict() if args.json else forecast_table(result)
    if args.moves:
        since, moves = since_month_before(
            series, sim, flashes[0], flashes[1], learning, args.seed, targets, years
        )
        if args.json:
            out = {**out, "moves": {"since": since, **moves.to_dict()}}
        else:
            out += "\n\n" + moves_table(moves, series.unit, since)
    print(json.dumps(out, indent=2) if args.json else out)
    return 0
