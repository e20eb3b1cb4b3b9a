"""Where a command's series comes from: a bundled series by id, or a CSV file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from exportcast.models.datasets import BUNDLED, load_bundled, load_bundled_flashes
from exportcast.models.nowcast.calendar import supported as supported_country
from exportcast.models.nowcast.flashes import Flash, parse_flash_csv
from exportcast.models.series import MonthlySeries, parse_month
from exportcast.models.validate import SeriesError, parse_csv

T = TypeVar("T")


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--series", default="kr-exports", choices=sorted(BUNDLED))
    source.add_argument("--csv", type=Path, help="CSV with month,value (or the bundled header)")


def add_flash_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--flashes",
        type=Path,
        help="CSV of partial-month flashes (month,period,value; period d1_10 or d1_20): the "
        "one for the month after the last conditions it, earlier ones teach the ratio "
        "(a bundled series brings its own)",
    )
    parser.add_argument(
        "--country",
        default=None,
        help="ISO 3166 code whose working days and holidays flashes are read with "
        "(a bundled series knows its own)",
    )
    parser.add_argument(
        "--through", default=None, help="YYYY-MM: forecast as with data through this month"
    )


def load_flashes(args: argparse.Namespace) -> tuple[list[Flash], str | None] | None:
    """The flashes and their country; None (with every problem printed) if unusable."""
    bundled = args.csv is None
    country = args.country or (BUNDLED[args.series].country if bundled else None)
    if country is not None and not supported_country(country):
        print(f"exportcast: country {country!r} has no holiday calendar here", file=sys.stderr)
        return None
    if args.flashes is None:
        return (load_bundled_flashes(args.series) if bundled else []), country
    text = read_text(args.flashes)
    if text is None:
        return None
    try:
        return parse_flash_csv(text), country
    except SeriesError as exc:
        print(f"{args.flashes}: cannot use these flashes:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return None


def cut_through(series: MonthlySeries, through: str | None) -> MonthlySeries:
    """The series as it stood with data through `through` (YYYY-MM), or as it is."""
    if through is None:
        return series
    try:
        month = parse_month(through)
    except ValueError as exc:
        raise SystemExit(f"exportcast: --through: {exc}") from None
    if not series.start <= month <= series.end:
        raise SystemExit(
            f"exportcast: --through {through} is outside the series "
            f"({series.months[0]} .. {series.months[-1]})"
        )
    return series.through(month)


def load_series(args: argparse.Namespace) -> tuple[MonthlySeries, tuple[float, ...]] | None:
    """The series and its default targets; None (with every problem printed) if the file
    cannot be used."""
    if args.csv is None:
        return load_bundled(args.series), BUNDLED[args.series].targets
    text = read_text(args.csv)
    if text is None:
        return None
    try:
        return parse_csv(text, id=args.csv.stem), ()
    except SeriesError as exc:
        print(f"{args.csv}: cannot use this series:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return None


def read_text(path: Path) -> str | None:
    """The file's text; None, with a one-line error naming the file, if it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"exportcast: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
    except UnicodeDecodeError as exc:
        print(f"exportcast: cannot read {path}: not UTF-8 text ({exc.reason})", file=sys.stderr)
    return None


def parse_file(path: Path, parse: Callable[[str], T]) -> T | None:
    """The file read and parsed; None, with the file and every problem printed, if not."""
    text = read_text(path)
    if text is None:
        return None
    try:
        return parse(text)
    except SeriesError as exc:
        print(f"{path}: cannot use this file:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return None


def floats(text: str) -> list[float]:
    """An argparse type: a comma-separated list of numbers."""
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        message = f"{text!r} is not a comma-separated list of numbers"
        raise argparse.ArgumentTypeError(message) from None
