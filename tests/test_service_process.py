"""The service as users run it: `exportcast serve` under uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.service_helpers import AUTH, ROOT, serving, wait_for


def test_a_first_start_says_what_it_is_doing_then_fits_ahead(tmp_path):
    """A newcomer sees which series, which step and how far, in uvicorn's format. The first
    version is served from the pooled prior at once; once idle, the service fits the
    backtests it did without, serves a version learned from them, and fits those the next
    month will need."""
    data_dir = tmp_path / "fresh"
    # A cold cache of its own: the run's shared one may hold the bundled series' fits.
    with serving(data_dir, prefetch=True, EXPORTCAST_CACHE_DIR=str(data_dir / "cache")):
        log = data_dir / "serve.log"
        wait_for(
            lambda: "kr-exports: backtest fits ready: 0 the served" in log.read_text(),
            timeout=420,
            every=0.2,
        )
    lines = log.read_text().splitlines()
    ours = [line for line in lines if "kr-exports" in line or line.startswith("INFO:     job")]
    assert ours and all(line.startswith("INFO:     ") for line in ours), lines
    said = "\n".join(ours)
    for step in (
        "job 1: retraining kr-exports (attempt 1)",
        "kr-exports: fitted ets, sarima, growth, theta on 321 months through 2026-09",
        "kr-exports: learned with data through 2026-09",
        "kr-exports: version 1 active, data through 2026-09",
        "kr-exports: version 2 active, data through 2026-09",
        "kr-exports: backtest fits ready: 0 the served version did without",
    ):
        assert step in said, said
    refine = re.search(r"kr-exports: job \d+ queued to refine its version", said)
    assert refine, said
    assert (
        said.index("kr-exports: learned with")
        < said.index("kr-exports: version 1 active")
        < refine.start()
        < said.index("kr-exports: version 2 active")
        < said.index("kr-exports: backtest fits ready: 0 the served version did without")
    )


def test_real_server_takes_a_new_month_and_serves_the_new_version(data_dir):
    with serving(data_dir) as client:
        before = client.get("/v1/series/kr-exports/forecast")
        assert before.status_code == 200 and before.json()["data_through"] == "2026-09"
        etag = before.headers["etag"]
        assert (
            client.get(
                "/v1/series/kr-exports/forecast", headers={"If-None-Match": etag}
            ).status_code
            == 304
        )
        r = client.post(
            "/v1/series/kr-exports/observations",
            json={"observations": [{"month": "2026-10", "value": 80500.0}]},
            headers=AUTH,
        )
        assert r.status_code == 202
        job_url = r.json()["job"]["status_url"]
        job = wait_for(
            lambda: (j := client.get(job_url).json())["status"] in ("succeeded", "failed") and j,
            timeout=120,
        )
        assert job["status"] == "succeeded", job
        after = client.get("/v1/series/kr-exports/forecast", headers={"If-None-Match": etag})
        assert after.status_code == 200
        assert after.json()["data_through"] == "2026-10"
        assert after.json()["model_version"] == job["model_version"] == 2


FORECAST_ROUTE = "/v1/series/{series_id}/forecast"


def forecasts_served_by_pid(metrics_dir: Path) -> dict[int, float]:
    """Successful forecast GETs counted by each worker process, from the files the workers
    write their counters to (prometheus_client's multiprocess mode: counter_<pid>.db)."""
    from prometheus_client.mmap_dict import MmapedDict

    served: dict[int, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            _, sample, labels, _ = json.loads(key)
            if sample == "exportcast_http_requests_total" and labels == {
                "method": "GET",
                "route": FORECAST_ROUTE,
                "status": "200",
            }:
                served[pid] = served.get(pid, 0.0) + value
    return served


def test_every_worker_serves_a_new_activation_within_a_second(data_dir, tmp_path):
    metrics_dir = tmp_path / "metrics"
    with serving(data_dir, workers=2, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)) as client:
        assert (
            client.post(
                "/v1/series/kr-exports/observations",
                json={"observations": [{"month": "2026-10", "value": 80500.0}]},
                headers=AUTH,
            ).status_code
            == 202
        )
        wait_for(
            lambda: client.get("/v1/series/kr-exports").json()["active_model_version"] == 2,
            timeout=120,
        )
        # Roll back: both workers must follow within a second.
        assert (
            client.post("/v1/series/kr-exports/models/1/activate", headers=AUTH).status_code == 200
        )
        time.sleep(1.0)
        before = forecasts_served_by_pid(metrics_dir)
        seen, asked = set(), 0

        def answered_by() -> set[int]:
            now = forecasts_served_by_pid(metrics_dir)
            return {pid for pid, n in now.items() if n > before.get(pid, 0.0)}

        # A new connection each time, so the kernel spreads them over the workers; until
        # two worker processes have each answered some (or 200 requests).
        while asked < 40 or (len(answered_by()) < 2 and asked < 200):
            with httpx.Client(base_url=str(client.base_url), timeout=10) as fresh:
                seen.add(fresh.get("/v1/series/kr-exports/forecast").json()["model_version"])
            asked += 1
        # Every answer counted (a worker counts a request once it has answered it).
        wait_for(
            lambda: (
                sum(forecasts_served_by_pid(metrics_dir).values()) - sum(before.values()) == asked
            ),
            timeout=10,
        )
        workers = answered_by()
    assert seen == {1}
    # Two different processes answered after the rollback, so both followed it (neither
    # is this test's process nor, as it has no HTTP counters, the supervisor).
    assert len(workers) == 2 and os.getpid() not in workers, (workers, asked)


def ingest(data_dir: Path, csv: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "exportcast.service.cli.main",
            "ingest",
            str(csv),
            "--series",
            "kr-exports",
        ],
        cwd=ROOT,
        env={**os.environ, "EXPORTCAST_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_ingest_queues_a_retrain_that_the_service_runs(data_dir, tmp_path):
    batch = tmp_path / "june.csv"
    batch.write_text("month,value\n2026-10,80500\n")
    done = ingest(data_dir, batch)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["new_months"] == ["2026-10"] and out["job"] is not None
    bad = tmp_path / "bad.csv"
    bad.write_text("month,value\n2026-11,-1\n2026-12,x\n")
    refused = ingest(data_dir, bad)
    assert refused.returncode == 2
    assert "line 2" in refused.stderr and "line 3" in refused.stderr
    with serving(data_dir) as client:
        wait_for(
            lambda: (
                client.get("/v1/series/kr-exports/forecast").json()["data_through"] == "2026-10"
            ),
            timeout=120,
        )
        assert client.get("/v1/series/kr-exports").json()["last_month"] == "2026-10"


def test_operational_endpoints(data_dir):
    with serving(data_dir) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert "/v1/series/{series_id}/forecast" in client.get("/openapi.json").json()["paths"]
        assert "swagger" in client.get("/docs").text.lower()
        assert "exportcast_forecast_median" in client.get("/metrics").text
