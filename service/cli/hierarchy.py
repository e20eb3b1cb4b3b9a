"""`exportcast hierarchy`: a total and its items forecast together, coherent path by path,
with the items' shares and concentration by year, from files or the bundled Korea data."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from exportcast.models import limits
from exportcast.models.core import forecast_hierarchy
from exportcast.models.datasets import BUNDLED, load_bundled, load_bundled_items
from exportcast.models.evaluation.auto import Learning
from exportcast.models.hierarchy.forecast import HierarchyForecast
from exportcast.models.hierarchy.items import hierarchy_of, parse_items_csv
from exportcast.models.hierarchy.reconcile import METHODS
from exportcast.models.hierarchy.spec import TOTAL, node_series
from exportcast.models.registry import NAMES
from exportcast.models.results import level_key
from exportcast.models.validate import parse_csv
from exportcast.service.cli.sources import floats, parse_file
from exportcast.service.config import get_settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "hierarchy", help="forecast a total and its items together, adding up path by path"
    )
    p.add_argument("--total", type=Path, help="CSV of the total (month,value); default: Korea's")
    p.add_argument(
        "--items",
        type=Path,
        help="CSV of the items (month,item,value), one classification (the prefix before "
        "':' in item); default: Korea's 10 major items (kcs10)",
    )
    p.add_argument("--method", default="top_down", choices=METHODS)
    p.add_argument("--model", default="auto", choices=NAMES)
    p.add_argument("--years", type=int, default=limits.DEFAULT_YEARS)
    p.add_argument("--levels", type=floats, default=list(limits.DEFAULT_LEVELS))
    p.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NODE:AMOUNT",
        help="P(at least AMOUNT) for NODE (total, an item, other); repeatable",
    )
    p.add_argument("--paths", type=int, default=limits.DEFAULT_PATHS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the JSON result")
    p.add_argument("--cache-dir", type=Path, default=None, help="backtest fits (as forecast)")
    p.set_defaults(run=run)


def parse_targets(texts: list[str]) -> dict[str, tuple[float, ...]]:
    out: dict[str, list[float]] = {}
    for text in texts:
        node, _, amount = text.rpartition(":")
        try:
            value = float(amount)
        except ValueError:
            raise ValueError(f"target {text!r} is not NODE:AMOUNT") from None
        out.setdefault(node or TOTAL, []).append(value)
    return {k: limits.check_targets(v) for k, v in out.items()}


def _load(args: argparse.Namespace):
    """(total series, items by name, default targets) or None with the problems printed."""
    if args.total is None and args.items is None:
        return (
            load_bundled("kr-exports"),
            load_bundled_items("kr-exports"),
            BUNDLED["kr-exports"].targets,
        )
    if args.total is None or args.items is None:
        raise SystemExit("exportcast hierarchy: give both --total and --items, or neither")
    total = parse_file(args.total, lambda text: parse_csv(text, args.total.stem))
    items = parse_file(args.items, parse_items_csv) if total is not None else None
    if total is None or items is None:
        return None
    return total, items, ()


def run(args: argparse.Namespace) -> int:
    try:
        years = limits.check_years(args.years)
        n_paths = limits.check_paths(args.paths)
        levels = limits.check_levels(args.levels)
        targets = parse_targets(args.target)
    except ValueError as exc:
        raise SystemExit(f"exportcast hierarchy: {exc}") from None
    loaded = _load(args)
    if loaded is None:
        return 2
    total, items, default_targets = loaded
    try:
        hierarchy, by_node = hierarchy_of(f"{total.id}-items", total.id, items)
        nodes = node_series(hierarchy, total, by_node)
    except ValueError as exc:
        raise SystemExit(f"exportcast hierarchy: {exc}") from None
    if not targets and default_targets:
        targets = {TOTAL: default_targets}
    cache = args.cache_dir or get_settings().fit_cache()
    try:
        result = forecast_hierarchy(
            hierarchy,
            nodes,
            args.model,
            args.method,
            years,
            levels,
            targets,
            n_paths,
            args.seed,
            Learning(cache_dir=cache, jobs=2) if args.model == "auto" else None,
        )
    except ValueError as exc:
        raise SystemExit(f"exportcast hierarchy: {exc}") from None
    print(json.dumps(result.to_dict(), indent=2) if args.json else hierarchy_table(result))
    return 0


def _amount(value: float, unit: str) -> str:
    return f"{value / 1000:,.1f}B" if unit == "USD millions" else f"{value:,.0f}"


def hierarchy_table(f: HierarchyForecast) -> str:
    h, unit = f.hierarchy, f.unit
    level = f.levels[0]
    key = level_key(level)
    first = f.nodes[TOTAL].years
    lines = [
        f"{h.id}: {h.total_series} = {len(h.items)} {h.classification} items + other "
        f"({unit}), data through {f.data_through}",
        f"method: {f.method}; every path's items and other add up to its total "
        f"(largest gap {f.coherence['largest_gap']:g})",
        "",
        f"{'node':<32}" + "".join(f"{y.year:>28}" for y in first),
        f"{'':<32}" + "".join(f"{'median [' + key + '%], share':>28}" for _ in first),
    ]
    for name in h.nodes:
        cells = []
        for j, y in enumerate(f.nodes[name].years):
            lo, hi = y.intervals[level]
            share = "" if name == TOTAL else f" {f.shares[name][j]['median']:.0%}"
            cells.append(
                f"{_amount(y.median, unit)} [{_amount(lo, unit)}-{_amount(hi, unit)}]{share}"
            )
        lines.append(f"{name:<32}" + "".join(f"{c:>28}" for c in cells))
    for name, forecast in f.nodes.items():
        for t in forecast.targets:
            probabilities = ", ".join(
                f"{y.year} {y.prob_at_least[t.amount]:.0%}" for y in forecast.years
            )
            lines.append(f"P({name} >= {_amount(t.amount, unit)}): {probabilities}")
    lines += [
        "",
        f"concentration over the items ({key}% intervals)",
        f"{'year':>6} {'top item':<22} {'top share':>20} {'top-3 share':>20} {'Herfindahl':>20}",
    ]

    def spread(s) -> str:
        lo, hi = s.intervals[level]
        return f"{s.median:.3f} [{lo:.3f}-{hi:.3f}]"

    for past in f.history[-3:]:
        lines.append(
            f"{past['year']:>6} {past['top_item']:<22} {past['top_share']:>20.3f} "
            f"{past['top3_share']:>20.3f} {past['herfindahl']:>20.3f}"
        )
    for c in f.concentration:
        lines.append(
            f"{c.year:>6} {c.top_item:<22} {spread(c.top_share):>20} "
            f"{spread(c.top3_share):>20} {spread(c.herfindahl):>20}"
        )
    return "\n".join(lines)
