"""Reads anyone may make, against the size of the store: the index page and the series list,
the version list and a year's track record, in a store of one page (200 series, 50
versions) and in one of 10,000 series and 1,000 versions (each version ~100 kB of learned
tables and backtest points, as `auto`'s are).

A read must cost the same whatever the store holds: pages are chosen before anything is
read, and a track record reads only the points on its year (each version's few), never every
version's whole record. Printed: the median time of each read in the small and the large
store, and their ratio (the goal: under 2x; a track record's own points grow with the
versions that projected its year, so its cost per point is compared).

    .venv/bin/python benchmarks/read_scale.py [--series 10000] [--versions 1000]

Exits 1 when a ratio misses the goal.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from exportcast.models.series import Observation
from exportcast.models.simulation import Simulation
from exportcast.service import artifacts
from exportcast.service.config import Settings
from exportcast.service.main import create_app
from exportcast.service.store import VersionPoints, VersionRecord
from exportcast.service.store.connect import open_store

GOAL = 2.0
START = 2000 * 12
YEAR = 2026
PERCENTILES = [round(100.0 + i, 3) for i in range(99)]


def point(year: int, data_through: str | None = None) -> dict:
    made = {
        "year": year,
        "months_observed": 3,
        "median": 700.0,
        "intervals": {"80": [650.0, 750.0], "95": [600.0, 800.0]},
        "prob_at_least": {"700": 0.5},
        "percentiles": PERCENTILES,
    }
    return made if data_through is None else {**made, "data_through": data_through}


def learned_tables(rng: np.random.Generator) -> dict:
    """About the size of what `auto` learns and keeps: backtest tables by m and horizon."""
    return {
        "weights": {"ets": 0.3, "sarima": 0.4, "growth": 0.3},
        "backtest": {
            f"table_{k}": {str(m): rng.random(40).round(6).tolist() for m in range(12)}
            for k in range(4)
        },
    }


def fill(store, series: int, versions: int) -> None:
    rng = np.random.default_rng(0)
    artifact = artifacts.to_bytes(
        Simulation("s", "u", "auto", ("ets",), "d", YEAR * 12 - 1, 0.0, np.full((50, 72), 60.0))
    )
    store.create_series("s", "S", "u", [700.0])
    store.ingest("s", [Observation(START + i, 60.0) for i in range(24)], queue_retrain=False)
    for n in range(versions):
        # Two versions a month (a flash, then the month), each projecting five years, and
        # each keeping the backtest points it learned from (about 60, at its own months).
        through = YEAR * 12 - versions // 2 + n // 2
        first = through // 12
        record = VersionRecord(
            "s", 0, f"2026-01-01T00:00:{n // 1000:02d}.{n % 1000:06d}Z", through, "auto",
            ("ets", "sarima", "growth"), "bench", 1.0, learned_tables(rng), 2000, 360,
        )  # fmt: skip
        points = VersionPoints(
            projections=[point(first + h) for h in range(5)],
            backtest=[point(first - 1 - k // 12, f"{first - 1 - k // 12}-01") for k in range(60)],
        )
        store.add_version(record, artifact, points, serve=True)
    for i in range(series - 1):
        store.create_series(f"x{i:06d}", f"X {i}", "u")
        store.ingest(
            f"x{i:06d}", [Observation(START + m, 1.0) for m in range(24)], queue_retrain=False
        )


def timed(client: TestClient, path: str, rounds: int) -> float:
    client.get(path)  # warm
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
    return statistics.median(times) * 1000


def measure(folder: Path, series: int, versions: int, rounds: int) -> dict[str, float]:
    folder.mkdir(parents=True)
    store = open_store(f"sqlite:///{folder / 'exportcast.db'}")
    started = time.perf_counter()
    fill(store, series, versions)
    store.close()
    print(
        f"  filled {series:,} series, {versions:,} versions in {time.perf_counter() - started:.0f}s"
    )
    settings = Settings(data_dir=folder, bootstrap=False, api_token="t")
    with TestClient(create_app(settings, run_jobs=False)) as client:
        track = client.get("/v1/series/s/track-record", params={"year": YEAR}).json()
        return {
            "/": timed(client, "/", rounds),
            "/v1/series": timed(client, "/v1/series", rounds),
            "/v1/series/s/models": timed(client, "/v1/series/s/models", rounds),
            "/v1/series/s/track-record": timed(
                client, f"/v1/series/s/track-record?year={YEAR}", rounds
            ),
            "track points": float(len(track["points"])),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("small store: 200 series, 50 versions (one page of each)")
        small = measure(Path(tmp, "small"), 200, 50, args.rounds)
        print(f"large store: {args.series:,} series, {args.versions:,} versions")
        large = measure(Path(tmp, "large"), args.series, args.versions, args.rounds)
    print(f"\n{'read':<28}{'small ms':>10}{'large ms':>10}{'ratio':>8}")
    missed = []
    for read in ("/", "/v1/series", "/v1/series/s/models", "/v1/series/s/track-record"):
        ratio = large[read] / small[read]
        if read.endswith("track-record"):  # per point: its points grow with the versions
            per = (large[read] / large["track points"]) / (small[read] / small["track points"])
            points = f"{large['track points']:.0f} points vs {small['track points']:.0f}"
            note = f"  ({points}; the ratio is per point)"
            ratio = per
        else:
            note = ""
        print(f"{read:<28}{small[read]:>10.2f}{large[read]:>10.2f}{ratio:>7.2f}x{note}")
        if ratio > GOAL:
            missed.append(read)
    if missed:
        print(f"\nmissed the {GOAL:g}x goal: {', '.join(missed)}")
        return 1
    print(f"\nevery read within {GOAL:g}x of the small store's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
