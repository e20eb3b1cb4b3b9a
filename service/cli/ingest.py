"""`exportcast ingest`: store a CSV through the API's validation and queue a retrain."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from exportcast.models.series import format_month
from exportcast.models.validate import SeriesError
from exportcast.service.config import get_settings
from exportcast.service.ingest import ingest_rows, rows_from_csv
from exportcast.service.store import NotFound
from exportcast.service.store.connect import open_store


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ingest", help="store a CSV of observations (the API's validation) and queue a retrain"
    )
    p.add_argument("file", type=Path, help="CSV with month,value")
    p.add_argument("--series", required=True, help="series id")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
