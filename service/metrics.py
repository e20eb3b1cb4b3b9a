"""Prometheus text exposition, written by hand: a few counters and the forecasts as gauges.

Counters are per process; with several workers, Prometheus sums them across scrapes of
each worker or sees one worker per scrape (documented in the README).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from models.results import amount_key
from service.active import ActiveForecasts


class RequestCounts:
    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, int]] = Counter()
        self.seconds: Counter[tuple[str, str]] = Counter()


class RequestMetrics:
    """ASGI middleware counting requests by route template and status."""

    def __init__(self, app: Any, counts: RequestCounts):
        self.app = app
        self.counts = counts.counts
        self.seconds = counts.seconds

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
            path = getattr(route, "path", None) or scope.get("exportcast.route", "unmatched")
            method = scope["method"]
            self.counts[(method, path, status)] += 1
            self.seconds[(method, path)] += time.perf_counter() - started


def _labels(**labels: Any) -> str:
    inner = ",".join(
        f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels.items()
    )
    return "{" + inner + "}"


def render(requests: RequestCounts | None, active: ActiveForecasts, jobs: dict[str, int]) -> str:
    out: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")

    if requests is not None:
        family("exportcast_http_requests_total", "counter", "HTTP requests by route and status")
        for (method, path, status), n in sorted(requests.counts.items()):
            labels = _labels(method=method, route=path, status=status)
            out.append(f"exportcast_http_requests_total{labels} {n}")
        family("exportcast_http_request_seconds_total", "counter", "time spent answering, by route")
        for (method, path), s in sorted(requests.seconds.items()):
            out.append(
                f"exportcast_http_request_seconds_total{_labels(method=method, route=path)} {s:.6f}"
            )
    family("exportcast_jobs_finished_total", "counter", "retrain jobs run by this process")
    for status, n in sorted(jobs.items()):
        out.append(f"exportcast_jobs_finished_total{_labels(status=status)} {n}")

    family("exportcast_model_version", "gauge", "active model version")
    family_rows: dict[str, list[str]] = {
        "exportcast_forecast_median": [],
        "exportcast_forecast_interval_low": [],
        "exportcast_forecast_interval_high": [],
        "exportcast_forecast_prob_at_least": [],
    }
    for a in active.all():
        out.append(f"exportcast_model_version{_labels(series=a.series_id)} {a.version}")
        forecast = a.default_forecast()
        for y in forecast.years:
            base = {"series": a.series_id, "year": y.year}
            family_rows["exportcast_forecast_median"].append(
                f"exportcast_forecast_median{_labels(**base)} {y.median:.3f}"
            )
            for level, (lo, hi) in y.intervals.items():
                lab = _labels(**base, level=f"{level:g}")
                family_rows["exportcast_forecast_interval_low"].append(
                    f"exportcast_forecast_interval_low{lab} {lo:.3f}"
                )
                family_rows["exportcast_forecast_interval_high"].append(
                    f"exportcast_forecast_interval_high{lab} {hi:.3f}"
                )
            for target, p in y.prob_at_least.items():
                lab = _labels(**base, target=amount_key(target))
                family_rows["exportcast_forecast_prob_at_least"].append(
                    f"exportcast_forecast_prob_at_least{lab} {p:.4f}"
                )
    helps = {
        "exportcast_forecast_median": "median of the calendar-year total",
        "exportcast_forecast_interval_low": "lower bound of the year total's interval",
        "exportcast_forecast_interval_high": "upper bound of the year total's interval",
        "exportcast_forecast_prob_at_least": "probability that the year total reaches the target",
    }
    for name, rows in family_rows.items():
        family(name, "gauge", helps[name])
        out.extend(rows)
    return "\n".join(out) + "\n"
