"""The `exportcast` command: forecast from the terminal, backtest, run the service, ingest
a file. Each subcommand is a module of its own with `add_parser` and `run`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from exportcast.service.cli import (
    backtest,
    backup,
    forecast,
    hierarchy,
    ingest,
    markets,
    prior,
    report,
    serve,
)

COMMANDS = (forecast, hierarchy, markets, serve, ingest, backtest, backup, report, prior)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exportcast", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
