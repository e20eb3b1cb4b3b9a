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
    p.set_defaults(run=run_forecast)


def run_forecast(args: argparse.Namespace) -> int:
    from models.core import forecast
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
        series, args.model, args.years, args.levels, targets, n_paths=args.paths, seed=args.seed
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(forecast_table(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exportcast", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_forecast(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
