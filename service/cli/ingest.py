"""`exportcast ingest`: store a CSV through the API's validation and queue a retrain."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from exportcast.models.series import format_month
from exportcast.models.validate import SeriesError
from exportcast.service.cli.sources import read_text
from exportcast.service.config import get_settings
from exportcast.service.ingest import (
    flash_rows_from_csv,
    ingest_flash_rows,
    ingest_rows,
    rows_from_csv,
)
from exportcast.service.store import NotFound
from exportcast.service.store.connect import open_store, redacted


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ingest", help="store a CSV of observations (the API's validation) and queue a retrain"
    )
    p.add_argument(
        "file", type=Path, help="CSV with month,value (with --flashes: month,period,value)"
    )
    p.add_argument("--series", required=True, help="series id")
    p.add_argument("--flashes", action="store_true", help="the file holds partial-month flashes")
    p.set_defaults(run=run)


HINT = "set EXPORTCAST_DATA_DIR or EXPORTCAST_DATABASE_URL to the service's store"


def where(url: str) -> str:
    """The store as the user should read it: a relative SQLite file also as an absolute path."""
    shown = redacted(url)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_absolute():
            shown += f" ({path.resolve()})"
    return shown


def run(args: argparse.Namespace) -> int:
    text = read_text(args.file)
    if text is None:
        return 2
    url = get_settings().database()
    file = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    if file is not None and file != ":memory:" and not Path(file).exists():
        # Opening it would create an empty store here, and it could hold no series anyway.
        print(f"no store at {where(url)}: no series {args.series!r}; {HINT}", file=sys.stderr)
        return 2
    store = open_store(url)
    try:
        if args.flashes:
            flashes = ingest_flash_rows(store, args.series, flash_rows_from_csv(text))
            print(
                json.dumps(
                    {
                        "accepted": flashes.accepted,
                        "new": [f"{format_month(m)} {p}" for m, p in flashes.new],
                        "revised": [f"{format_month(m)} {p}" for m, p in flashes.revised],
                        "job": flashes.job_id,
                    }
                )
            )
            return 0
        outcome = ingest_rows(store, args.series, rows_from_csv(text))
    except SeriesError as exc:
        print(f"{args.file}: batch rejected, nothing stored:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except NotFound as exc:
        print(f"{exc} in the store {where(url)}; {HINT}", file=sys.stderr)
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
