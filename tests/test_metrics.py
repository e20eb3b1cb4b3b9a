"""/metrics through prometheus_client: in one process, and summed over `serve` workers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from prometheus_client.multiprocess import MultiProcessCollector

from exportcast.service.main import create_app
from tests.service_helpers import (
    AUTH,
    explode,
    scrape,
    settings_for,
    value,
    wait_for,
    wait_job,
    wait_ready,
)
from tests.test_service_process import serving

FORECAST = "/v1/series/{series_id}/forecast"


def test_metrics_count_and_time_requests_and_expose_forecasts(data_dir):
    app = create_app(settings_for(data_dir), train_fn=explode)
    with TestClient(app) as client:
        wait_ready(client, timeout=10)
        n = 5
        for _ in range(n):  # answered by the polled fast path
            assert client.get("/v1/series/kr-exports/forecast").status_code == 200
        # Through FastAPI's routing, to the same route template.
        assert client.get("/v1/series/kr-exports/forecast?years=3").status_code == 200
        assert client.get("/no/such/page").status_code == 404
        assert client.request("BREW", "/healthz").status_code == 405
        job = client.post(
            "/v1/series/kr-exports/observations",
            json={"observations": [{"month": "2026-10", "value": 80000}]},
            headers=AUTH,
        ).json()["job"]
        assert wait_job(client, job["id"])["status"] == "failed"

        samples = scrape(client)
        route = {"method": "GET", "route": FORECAST}
        assert value(samples, "exportcast_http_requests_total", **route, status="200") == n + 1
        assert value(samples, "exportcast_http_requests_total", route="unmatched") == 1
        assert (
            value(
                samples,
                "exportcast_http_requests_total",
                method="other",
                route="/healthz",
                status="405",
            )
            == 1
        )
        buckets = [
            s
            for s in samples["exportcast_http_request_duration_seconds_bucket"]
            if s.labels["route"] == FORECAST and s.labels["method"] == "GET"
        ]
        assert {b.labels["le"] for b in buckets} >= {"0.001", "10.0", "+Inf"}
        assert max(b.value for b in buckets) == n + 1
        assert value(samples, "exportcast_http_request_duration_seconds_count", **route) == n + 1
        assert value(samples, "exportcast_http_request_duration_seconds_sum", **route) > 0

        assert value(samples, "exportcast_jobs_finished_total", status="failed") == 1
        assert value(samples, "exportcast_jobs_finished_total", status="succeeded") == 0

        kr = {"series": "kr-exports", "year": "2026"}
        assert value(samples, "exportcast_model_version", series="kr-exports") == 1
        median = value(samples, "exportcast_forecast_median", **kr)
        low = value(samples, "exportcast_forecast_interval_low", **kr, level="80")
        high = value(samples, "exportcast_forecast_interval_high", **kr, level="80")
        assert median is not None and low is not None and high is not None
        assert 0 < low < median < high
        probs = [
            s for s in samples["exportcast_forecast_prob_at_least"] if s.labels["year"] == "2026"
        ]
        assert probs and all(0 <= s.value <= 1 for s in probs)


def forecast_counts_per_worker(metrics_dir: Path) -> dict[str, float]:
    """What each worker process recorded for the forecast route, from its own file."""
    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        total = 0.0
        for metric in MultiProcessCollector.merge([str(path)]):
            for s in metric.samples:
                if s.name == "exportcast_http_requests_total" and s.labels["route"] == FORECAST:
                    total += s.value
        counts[path.stem] = total
    return counts


def test_metrics_add_up_over_serve_workers(data_dir, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    metrics_dir = data_dir / "metrics"  # the default: EXPORTCAST_METRICS_DIR unset
    metrics_dir.mkdir()
    stale = metrics_dir / "counter_1.db"
    stale.write_bytes(b"left over from an earlier run")
    with serving(data_dir, workers=2) as client:
        assert not stale.exists()
        base = str(client.base_url)
        sent = 0
        # A new connection each time, so the kernel spreads them over the workers; go on
        # until both workers have answered some.
        while (
            sent < 40 or len([c for c in forecast_counts_per_worker(metrics_dir).values() if c]) < 2
        ):
            assert sent < 400, forecast_counts_per_worker(metrics_dir)
            with httpx.Client(base_url=base, timeout=10) as fresh:
                assert fresh.get("/v1/series/kr-exports/forecast").status_code == 200
            sent += 1
        # The last increment lands just after its response is sent.
        wait_for(lambda: sum(forecast_counts_per_worker(metrics_dir).values()) == sent, 10)

        def total(scraped) -> float | None:
            return value(scraped, "exportcast_http_requests_total", method="GET", route=FORECAST)

        # Every scrape, whichever worker answers it, reports the requests of both.
        for _ in range(10):
            with httpx.Client(base_url=base, timeout=10) as fresh:
                scraped = scrape(fresh)
            assert total(scraped) == sent
            assert (
                value(scraped, "exportcast_http_request_duration_seconds_count", route=FORECAST)
                == sent
            )
            assert value(scraped, "exportcast_forecast_median", series="kr-exports", year="2026")


def test_the_cli_loads_prometheus_client_only_after_serve_sets_its_directory():
    """prometheus_client picks multiprocess mode when imported; with one worker the app runs
    in the CLI's own process, so an earlier import would leave its counters unreported."""
    code = "import sys, exportcast.service.cli.main; print('prometheus_client' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
