"""`exportcast report`: the dashboard as one self-contained HTML file (scripts, styles and
data inlined), for e-mail and archives; made from the engine, no service needed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from exportcast.models.core import simulate
from exportcast.models.datasets import BUNDLED, load_bundled_references
from exportcast.models.evaluation.auto import Learning
from exportcast.models.limits import DEFAULT_PATHS, MAX_YEARS
from exportcast.models.series import format_month
from exportcast.service.cli.moved import since_month_before
from exportcast.service.cli.sources import (
    add_flash_arguments,
    add_source_arguments,
    cut_through,
    load_flashes,
    load_series,
)
from exportcast.service.config import get_settings
from exportcast.service.dashboard.page import dashboard_html
from exportcast.service.serving.bodies import ForecastQuery, VersionStamp, serialise
from exportcast.service.store import StoredObservation
from exportcast.service.store.base import stamp, utc_now
from exportcast.service.track_record import assemble, version_year_points
from exportcast.service.worker.retrain import version_of


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="the dashboard as one self-contained HTML file")
    add_source_arguments(p)
    add_flash_arguments(p)
    p.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    p.add_argument("--paths", type=int, default=DEFAULT_PATHS)
    p.add_argument("--cache-dir", type=Path, default=None, help="default: the service's")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_series(args)
    if loaded is None:
        return 2
    series, targets = loaded
    series = cut_through(series, args.through)
    flashes = load_flashes(args)
    if flashes is None:
        return 2
    cache = args.cache_dir or get_settings().fit_cache()
    learning = Learning(cache_dir=cache / series.id, jobs=2)
    sim = simulate(
        series,
        years=MAX_YEARS,
        n_paths=args.paths,
        learning=learning,
        flashes=flashes[0],
        country=flashes[1],
    )
    since, moves = since_month_before(series, sim, flashes[0], flashes[1], learning, 0, targets)
    made = stamp(utc_now())
    _, points = version_of(sim, made, version=1, targets=targets)
    body = serialise(
        sim, VersionStamp(series.id, 1, made, moves=True), ForecastQuery("annual", targets=targets)
    )
    forecast = json.loads(body.content)
    observations = [
        StoredObservation(series.start + i, float(v), made) for i, v in enumerate(series.values)
    ]
    bundled = not getattr(args, "csv", None) and series.id in BUNDLED
    references = load_bundled_references(series.id) if bundled else []
    year = forecast["years"][0]["year"]
    mine = version_year_points(1, made, sim.data_through, points, year)
    track = assemble(series.id, series.unit, year, mine, observations, references)
    data = {
        "forecast": forecast,
        "observations": {
            "series": series.id,
            "as_of": None,
            "observations": [
                {"month": format_month(o.month), "value": o.value, "recorded_at": made}
                for o in observations
            ],
        },
        "series": {"id": series.id, "name": series.name or series.id, "unit": series.unit},
        "track": track.model_dump(mode="json"),
        "moves": {"series": series.id, "version": 1, "since": since, **moves.to_dict()},
    }
    args.out.write_text(dashboard_html(series.id, data=data), encoding="utf-8")
    print(f"report written to {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    return 0
