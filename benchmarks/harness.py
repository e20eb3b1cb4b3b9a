"""What the benchmarks that run `exportcast serve` share: a free port, a server started
with EXPORTCAST_* settings, and waiting on it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

TOKEN = "bench-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int, log: Path, **env: str) -> subprocess.Popen:
    """`exportcast serve` on 127.0.0.1:port with a store in `data_dir`; output to `log`.
    The bundled items are left out unless `env` asks for them: their retrains would run
    beside what a benchmark of one series measures."""
    environ = (
        os.environ
        | {
            "EXPORTCAST_DATA_DIR": str(data_dir),
            "EXPORTCAST_API_TOKEN": TOKEN,
            "EXPORTCAST_PORT": str(port),
            "EXPORTCAST_BOOTSTRAP_ITEMS": "false",
        }
        | env
    )
    command = [sys.executable, "-m", "exportcast.service.cli.main", "serve"]
    return subprocess.Popen(command, env=environ, stdout=log.open("a"), stderr=subprocess.STDOUT)


def wait(predicate: Callable[[], Any], timeout: float, every: float = 0.05) -> Any:
    """The first true value of `predicate` (a refused connection counts as false)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except httpx.TransportError:
            value = None
        if value:
            return value
        time.sleep(every)
    raise TimeoutError("timed out")
