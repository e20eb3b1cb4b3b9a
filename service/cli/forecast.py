"""`exportcast forecast`: annual totals with intervals from the terminal."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from exportcast.models import limits
from exportcast.models.core import forecast
from exportcast.models.evaluation.auto import Learning
from exportcast.models.registry import NAMES
from exportcast.service.cli.sources import (
    add_flash_arguments,
    add_source_arguments,
    cut_through,
    floats,
    load_flashes,
    load_series,
)
from exportcast.service.cli.tables import forecast_table
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
    result = forecast(
        series,
        args.model,
        years,
        levels,
        default_targets if targets is None else targets,
        n_paths=n_paths,
        seed=args.seed,
        learning=Learning(cache_dir=cache / series.id, jobs=2),
        flashes=flashes[0],
        country=flashes[1],
    )
    print(json.dumps(result.to_dict(), indent=2) if args.json else forecast_table(result))
    return 0
