"""Prometheus metrics through prometheus_client: requests and their latency by route,
retrain outcomes, and the active forecasts as gauges.

Under `exportcast serve` every worker process writes its counters and histograms to files
in `PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess mode; the CLI prepares the
directory before uvicorn starts the workers), and `/metrics` adds up the files of all
workers, so whichever worker answers a scrape reports the whole service. The forecast
gauges are read from the answering worker's active forecasts: every worker follows the
same active versions, so they are not multiprocess values.

Without the variable (an app created in-process, as the tests do) each app reports its own
registry.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from exportcast.models.results import amount_key
from exportcast.service.serving.active import ActiveForecasts
from exportcast.service.store.base import moment

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"
# Request latency from a cached read (about a millisecond) to a slow computed forecast.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Any other method a client sends is counted as "other": label values from the request
# would otherwise let clients add series without bound (kept in files in multiprocess mode).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
JOB_STATUSES = ("succeeded", "failed")


class ForecastGauges:
    """Collector of the active forecasts, read from the app state at each scrape."""

    def __init__(self, state: Any):
        self.state = state

    def collect(self) -> Iterator[Metric]:
        version = GaugeMetricFamily(
            "exportcast_model_version", "active model version", labels=["series"]
        )
        median = GaugeMetricFamily(
            "exportcast_forecast_median",
            "median of the calendar-year total",
            labels=["series", "year"],
        )
        low = GaugeMetricFamily(
            "exportcast_forecast_interval_low",
            "lower bound of the year total's interval",
            labels=["series", "year", "level"],
        )
        high = GaugeMetricFamily(
            "exportcast_forecast_interval_high",
            "upper bound of the year total's interval",
            labels=["series", "year", "level"],
        )
        prob = GaugeMetricFamily(
            "exportcast_forecast_prob_at_least",
            "probability that the year total reaches the target",
            labels=["series", "year", "target"],
        )
        age = GaugeMetricFamily(
            "exportcast_model_version_age_seconds",
            "seconds since the active version was made",
            labels=["series"],
        )
        through = GaugeMetricFamily(
            "exportcast_data_through_month",
            "the active version's last published month, as YYYYMM",
            labels=["series"],
        )
        change = GaugeMetricFamily(
            "exportcast_current_year_median_change_ratio",
            "the current year's median against the previous version's, minus one",
            labels=["series", "year"],
        )
        now = time.time()
        active: ActiveForecasts | None = getattr(self.state, "active", None)
        for a in active.all() if active is not None else []:
            version.add_metric([a.series_id], a.version)
            made = moment(a.created_at).timestamp()
            age.add_metric([a.series_id], max(0.0, now - made))
            through.add_metric(
                [a.series_id], (a.data_through // 12) * 100 + a.data_through % 12 + 1
            )
            if a.previous_median and a.forecast.years:
                first = a.forecast.years[0]
                change.add_metric(
                    [a.series_id, str(first.year)], first.median / a.previous_median - 1
                )
            for y in a.forecast.years:
                year = str(y.year)
                median.add_metric([a.series_id, year], y.median)
                for level, (lo, hi) in y.intervals.items():
                    low.add_metric([a.series_id, year, f"{level:g}"], lo)
                    high.add_metric([a.series_id, year, f"{level:g}"], hi)
                for target, p in y.prob_at_least.items():
                    prob.add_metric([a.series_id, year, amount_key(target)], p)
        yield from (version, median, low, high, prob, age, through, change)


class Tally:
    """Requests counted and timed in plain Python, added to the Prometheus metrics in
    batches (`Metrics.flush`, every second and before each scrape). An observation in
    prometheus_client's multiprocess mode writes several memory-mapped values under a lock,
    which at ten thousand requests a second was a measurable share of each request."""

    def __init__(self, bounds: tuple[float, ...]):
        self.bounds = bounds
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = {}
        self._times: dict[tuple[str, str], list[float]] = {}  # [sum, count per bucket...]

    def add(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in METHODS:
            method = "other"
        bucket = 1 + bisect_left(self.bounds, seconds)  # the first bound >= seconds (or +Inf)
        with self._lock:
            key = (method, route, status)
            self._counts[key] = self._counts.get(key, 0) + 1
            times = self._times.get(key[:2])
            if times is None:
                times = self._times[key[:2]] = [0.0] * (len(self.bounds) + 2)
            times[0] += seconds
            times[bucket] += 1

    def drain(self) -> tuple[dict, dict]:
        """What was added since the last drain, and start again from nothing."""
        with self._lock:
            counts, times = self._counts, self._times
            self._counts, self._times = {}, {}
        return counts, times


class Metrics:
    """One per app: its registry, the request and job metrics, and the forecast gauges."""

    def __init__(self, state: Any):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "exportcast_http_requests_total",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "exportcast_http_request_duration_seconds",
            "time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.jobs = Counter(
            "exportcast_jobs_finished_total",
            "retrain jobs finished, by outcome",
            ["status"],
            registry=self.registry,
        )
        for status in JOB_STATUSES:
            self.jobs.labels(status)  # reported as 0 until a job finishes
        self.forecasts = ForecastGauges(state)
        self.registry.register(self.forecasts)
        self.tally = Tally(LATENCY_BUCKETS)

    def flush(self) -> None:
        """The requests tallied since the last flush, into the Prometheus metrics."""
        counts, times = self.tally.drain()
        for (method, route, status), n in counts.items():
            self.requests.labels(method, route, str(status)).inc(n)
        for (method, route), times_of in times.items():
            child = self.duration.labels(method, route)
            # A histogram takes one observation at a time; its bucket and sum values are
            # added to directly (prometheus_client's `_sum` and `_buckets`, one per bound).
            child._sum.inc(times_of[0])
            for bucket, n in zip(child._buckets, times_of[1:], strict=True):
                if n:
                    bucket.inc(n)

    async def flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            self.flush()

    def job_finished(self, status: str) -> None:
        self.jobs.labels(status).inc()

    def exposition(self) -> bytes:
        """The text format: summed over every worker's files in multiprocess mode (another
        worker's last second of requests may not be in them yet)."""
        self.flush()
        if os.environ.get(MULTIPROC_DIR_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            registry.register(self.forecasts)
            return generate_latest(registry)
        return generate_latest(self.registry)


class RequestMetrics:
    """ASGI middleware counting and timing requests by route template and status."""

    def __init__(self, app: Any, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or scope.get("exportcast.route", UNMATCHED)
            self.metrics.tally.add(scope["method"], path, status, time.perf_counter() - started)
