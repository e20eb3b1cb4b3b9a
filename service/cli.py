"""The `exportcast` command: forecast from the terminal, run the service, ingest a file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from models.series import BUNDLED, SeriesError, load_bundled, parse_csv


def _floats(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        message = f"{text!r} is not a comma-separated list of numbers"
        raise argparse.ArgumentTypeError(message) from None


def _add_forecast(sub: argparse._SubParsersAction) -> None:
    from models.registry import NAMES

    p = sub.add_parser("forecast", help="project annual totals with intervals")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--series", default="kr-exports", choices=sorted(BUNDLED))
    source.add_argument("--csv", type=Path, help="CSV with month,value (or the bundled header)")
    p.add_argument("--model", default="auto", choices=NAMES)
    p.add_argument("--years", type=int, default=5, help="calendar years, this one first")
    p.add_argument("--levels", type=_floats, default=[80.0, 95.0])
    p.add_argument("--targets", type=_floats, default=None, help="amounts in the series' unit")
    p.add_argument("--paths", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the JSON result")
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="where auto keeps the backtest fits it learns from, so a re-run is quick "
        "(default: EXPORTCAST_CACHE_DIR or .cache/exportcast)",
    )
    p.set_defaults(run=run_forecast)


def cache_root(given: Path | None) -> Path:
    import os

    return given or Path(os.environ.get("EXPORTCAST_CACHE_DIR") or ".cache/exportcast")


def run_forecast(args: argparse.Namespace) -> int:
    from models.core import forecast
    from models.ensemble import Learning
    from service.render import forecast_table

    if not 1 <= args.years <= 30:
        raise SystemExit("--years must be between 1 and 30")
    if not 100 <= args.paths <= 100_000:
        raise SystemExit("--paths must be between 100 and 100000")
    if any(not 0 < lv < 100 for lv in args.levels):
        raise SystemExit("--levels must be between 0 and 100")
    if args.csv is not None:
        try:
            series = parse_csv(args.csv.read_text(encoding="utf-8"), id=args.csv.stem)
        except SeriesError as exc:
            print(f"{args.csv}: cannot use this series:", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            return 2
        targets = args.targets or []
    else:
        series = load_bundled(args.series)
        targets = args.targets if args.targets is not None else list(BUNDLED[args.series].targets)
    result = forecast(
        series,
        args.model,
        args.years,
        args.levels,
        targets,
        n_paths=args.paths,
        seed=args.seed,
        learning=Learning(cache_dir=cache_root(args.cache_dir) / series.id, jobs=2),
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(forecast_table(result))
    return 0


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the HTTP service (EXPORTCAST_* settings apply)")
    p.add_argument("--host", default=None, help="default: EXPORTCAST_HOST or 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default: EXPORTCAST_PORT or 8000")
    p.add_argument("--workers", type=int, default=None, help="default: EXPORTCAST_WORKERS or 1")
    p.add_argument("--access-log", action="store_true", help="log every request (costs throughput)")
    p.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.settings import get_settings

    settings = get_settings()
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        log_level="info",
        access_log=args.access_log,
        proxy_headers=True,
    )
    return 0


def _add_ingest(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ingest", help="store a CSV of observations (the API's validation) and queue a retrain"
    )
    p.add_argument("file", type=Path, help="CSV with month,value")
    p.add_argument("--series", required=True, help="series id")
    p.set_defaults(run=run_ingest)


def run_ingest(args: argparse.Namespace) -> int:
    from models.series import format_month
    from service.ingest import ingest_rows, rows_from_csv
    from service.settings import get_settings
    from service.store import NotFound, open_store

    store = open_store(get_settings().database())
    try:
        outcome = ingest_rows(store, args.series, rows_from_csv(args.file.read_text("utf-8")))
    except SeriesError as exc:
        print(f"{args.file}: batch rejected, nothing stored:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except NotFound as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 2
    finally:
        store.close()
    print(
        json.dumps(
            {
                "accepted": outcome.accepted,
                "new_months": [format_month(m) for m in outcome.new_months],
                "revised_months": [format_month(m) for m in outcome.revised_months],
                "job": outcome.job_id,
            }
        )
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exportcast", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_forecast(sub)
    _add_serve(sub)
    _add_ingest(sub)
    from service import accuracy_cli

    accuracy_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
