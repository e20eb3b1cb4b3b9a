"""Helpers for the service tests: settings on a temporary store, waiting for jobs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from exportcast.service.config import Settings

TOKEN = "test-token-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def settings_for(data_dir: Path, **overrides) -> Settings:
    values = {
        "data_dir": data_dir,
        "api_token": TOKEN,
        "n_paths": 400,
        "poll_seconds": 0.05,
        "bootstrap": True,
        "prefetch": False,  # no fits behind a test's back; tests that want it say so
        "bootstrap_items": False,  # the items hierarchy: its own tests turn it on
    } | overrides
    return Settings(**values)


def wait_for(predicate, timeout: float = 120.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")


def wait_job(client: TestClient, job_id: int, timeout: float = 120.0) -> dict:
    def done():
        job = client.get(f"/v1/jobs/{job_id}").json()
        return job if job["status"] in ("succeeded", "failed") else None

    return wait_for(done, timeout)


def wait_ready(client: TestClient, timeout: float = 120.0) -> dict:
    return wait_for(lambda: (r := client.get("/readyz")).status_code == 200 and r.json(), timeout)


def crash(request):
    """A training function whose worker process dies mid-fit."""
    os._exit(3)


def explode(request):
    raise RuntimeError("fit exploded on purpose")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(client) -> dict[str, list]:
    """Samples by sample name (`..._total`, `..._bucket`, ...)."""
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: dict[str, list], name: str, **labels: str) -> float | None:
    found = [s.value for s in samples.get(name, []) if labels.items() <= s.labels.items()]
    return sum(found) if found else None


ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def serving(data_dir: Path, workers: int = 1, prefetch: bool = False, **env: str):
    """The server on a free port; what it prints goes to `data_dir/serve.log`."""
    port = free_port()
    env = {
        **os.environ,
        "EXPORTCAST_DATA_DIR": str(data_dir),
        "EXPORTCAST_API_TOKEN": TOKEN,
        "EXPORTCAST_N_PATHS": "400",
        "EXPORTCAST_POLL_SECONDS": "0.2",
        "EXPORTCAST_PREFETCH": "true" if prefetch else "false",
        **env,
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "serve.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exportcast.service.cli.main",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:

            def up():
                try:
                    return client.get("/readyz").status_code == 200
                except httpx.TransportError:
                    if process.poll() is not None:
                        raise AssertionError((data_dir / "serve.log").read_text()) from None
                    return False

            wait_for(up, timeout=120, every=0.2)
            yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
