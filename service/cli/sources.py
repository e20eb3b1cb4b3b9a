"""Where a command's series comes from: a bundled series by id, or a CSV file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from exportcast.models.datasets import BUNDLED, load_bundled
from exportcast.models.series import MonthlySeries
from exportcast.models.validate import SeriesError, parse_csv


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--series", default="kr-exports", choices=sorted(BUNDLED))
    source.add_argument("--csv", type=Path, help="CSV with month,value (or the bundled header)")


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


def floats(text: str) -> list[float]:
    """An argparse type: a comma-separated list of numbers."""
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        message = f"{text!r} is not a comma-separated list of numbers"
        raise argparse.ArgumentTypeError(message) from None
