"""`exportcast serve`: the HTTP service under uvicorn, EXPORTCAST_* settings applied."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from exportcast.service.config import get_settings
from exportcast.service.logs import log_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the HTTP service (EXPORTCAST_* settings apply)")
    p.add_argument("--host", default=None, help="default: EXPORTCAST_HOST or 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default: EXPORTCAST_PORT or 8000")
    p.add_argument("--workers", type=int, default=None, help="default: EXPORTCAST_WORKERS or 1")
    p.add_argument("--access-log", action="store_true", help="log every request (costs throughput)")
    p.set_defaults(run=run)


def prepare_metrics_dir(default: Path) -> Path:
    """Multiprocess /metrics: every worker writes its counters to files in one directory.

    PROMETHEUS_MULTIPROC_DIR wins when set, else `default`. Files of an earlier run are
    removed, and the variable is set before uvicorn imports the app (prometheus_client
    reads it at import); worker processes inherit it.
    """
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or default)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path.resolve())
    return path


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    prepare_metrics_dir(settings.metrics_path())
    uvicorn.run(
        "exportcast.service.main:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        log_level="info",
        log_config=log_config(),
        access_log=args.access_log,
        proxy_headers=True,
    )
    return 0
