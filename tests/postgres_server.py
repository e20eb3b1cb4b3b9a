"""A throwaway PostgreSQL server for the store tests: initdb in a temporary folder, listening
on a free port of 127.0.0.1, run as the `postgres` user when the tests run as root.

Every test that needs it calls `require_postgres()` first (one that needs only the driver,
`require_psycopg()`): without PostgreSQL it fails, naming what to install (.ci/run installs
the server where it is missing), so the PostgreSQL store is never left untested unnoticed."""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import NoReturn


def server_binaries() -> Path | None:
    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin"):
        for folder in sorted(glob.glob(pattern), reverse=True):
            if Path(folder, "initdb").exists() and Path(folder, "postgres").exists():
                return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def missing_postgres() -> str | None:
    """Why a PostgreSQL test cannot run on this machine, or None when it can."""
    if server_binaries() is None:
        return "no PostgreSQL server binaries (initdb, postgres) on this machine"
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no `postgres` user to run the server as"
    return None


def cannot_run(reason: str) -> NoReturn:
    """Fail the calling test for want of PostgreSQL: the store is tested on it wherever the
    tests run, as the dashboard is in a browser (never a skip that hides it)."""
    import pytest

    pytest.fail(
        f"{reason}: the PostgreSQL store tests need Debian's server (apt-get install "
        'postgresql; .ci/run installs it where it is missing) and psycopg (the ".[dev]" '
        "extra)",
        pytrace=False,
    )


def require_postgres() -> None:
    """For a test that starts a `PostgresServer`: fails, naming what is missing, without one."""
    reason = missing_postgres()
    if reason is not None:
        cannot_run(reason)


def require_psycopg() -> ModuleType:
    """psycopg, for a test that needs only the driver."""
    try:
        import psycopg
    except ImportError:
        cannot_run("psycopg is not installed")
    return psycopg


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class PostgresServer:
    def __init__(self) -> None:
        self.bin = server_binaries()
        assert self.bin is not None, "PostgreSQL server binaries not found"
        # Not under pytest's folders: those are private to root, and the server runs as
        # the postgres user, who must be able to reach its data folder.
        self.root = Path(tempfile.mkdtemp(prefix="exportcast-pg-"))
        self.data = self.root / "pgdata"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o700)
        subprocess.run(
            _as_server_user(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.process = subprocess.Popen(
            _as_server_user(
                [
                    str(self.bin / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    str(self.root),
                    "-c",
                    "fsync=off",
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(self.url("postgres")).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)
