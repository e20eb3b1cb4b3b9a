"""`exportcast backup`: a consistent copy of the SQLite store while the service runs."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from exportcast.service.cli.ingest import HINT, where
from exportcast.service.config import get_settings
from exportcast.service.store.sqlite import backup


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backup", help="copy the SQLite store while the service runs (online backup)"
    )
    p.add_argument("out", type=Path, help="the copy to write (it must not exist)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    url = get_settings().database()
    if not url.startswith("sqlite:///"):
        print(
            f"{where(url)} is PostgreSQL: back it up with pg_dump (README, Backups)",
            file=sys.stderr,
        )
        return 2
    source = Path(url.removeprefix("sqlite:///"))
    if not source.exists():
        print(f"no store at {where(url)}; {HINT}", file=sys.stderr)
        return 2
    if args.out.exists():
        print(f"exportcast backup: {args.out} exists; name a new file", file=sys.stderr)
        return 2
    try:
        backup(source, args.out)
    except sqlite3.Error as exc:
        print(f"exportcast backup: {where(url)} could not be copied: {exc}", file=sys.stderr)
        return 2
    print(f"backed up {where(url)} to {args.out}")
    return 0
