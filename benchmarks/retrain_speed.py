"""Seconds from a start or a new month to a new active version, as a user meets them.

Runs `exportcast serve` on 127.0.0.1 with a fresh data folder (cold fit cache) and times:

1. first start: process start to `/readyz` 200 (the bundled series trained);
2. a new series posted through 2025-11 (cold: every learning fit is new; with prefetch the
   version is served from the pooled prior at once, and the refined one, learned from the
   series' own backtests made in an idle slot, is timed too);
3. 2025-12: the year turns; 2026-01 .. 2026-05: a month each (the old months-known groups
   started at 2025-12 and 2026-03; the window of months known now slides a month a time);

then again with `EXPORTCAST_PREFETCH=false` (every learning fit made on the spot). Each
retrain is timed from the POST to its job reading "succeeded" (the new version is active
then). The server's log is
kept, and the lines it printed during the run are counted, to show a start is not silent.

    .venv/bin/python benchmarks/retrain_speed.py [--jobs 2] [--keep-log serve.log]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from harness import AUTH, free_port, start_server, wait

from exportcast.models.datasets import BUNDLED, load_bundled
from exportcast.models.series import format_month, parse_month


def post_month(client: httpx.Client, series_id: str, rows: list[tuple[int, float]]) -> float:
    """POST months; seconds until their retrain job succeeded."""
    body = {"observations": [{"month": format_month(m), "value": v} for m, v in rows]}
    started = time.perf_counter()
    answer = client.post(f"/v1/series/{series_id}/observations", json=body, headers=AUTH)
    answer.raise_for_status()
    job = answer.json()["job"]["id"]

    def done():
        status = client.get(f"/v1/jobs/{job}").json()["status"]
        if status == "failed":
            raise RuntimeError(f"job {job} failed")
        return status == "succeeded"

    wait(done, 900)
    return time.perf_counter() - started


def idle(log: Path, lines_before: int, timeout: float = 300) -> None:
    """Wait until the idle work after the last retrain is done: its fits made and, where a
    version was served from the fits at hand, the refined version made too (the prefetch
    then logs that the served version did without none)."""

    def prefetched():
        text = log.read_text().splitlines()[lines_before:]
        return any(
            "ready: 0 the served version did without" in line or "prefetch for" in line
            for line in text
        )

    with contextlib.suppress(TimeoutError):
        wait(prefetched, timeout, every=0.2)


def run(jobs: int, prefetch: bool, log: Path) -> dict[str, float]:
    data_dir = Path(tempfile.mkdtemp(prefix="exportcast-speed-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    out: dict[str, float] = {}
    env = {"EXPORTCAST_TRAIN_JOBS": str(jobs), "EXPORTCAST_PREFETCH": str(prefetch).lower()}
    started = time.perf_counter()
    process = start_server(data_dir, port, log, EXPORTCAST_POLL_SECONDS="0.05", **env)
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            wait(lambda: client.get("/readyz").status_code == 200, 600)
            out["first start to /readyz"] = time.perf_counter() - started
            if prefetch:
                idle(log, 0)
            series = load_bundled()
            months = {format_month(series.start + i): float(v) for i, v in enumerate(series.values)}
            meta = BUNDLED[series.id]
            client.post(
                "/v1/series",
                json={"id": "kr-copy", "name": "copy", "unit": meta.unit},
                headers=AUTH,
            ).raise_for_status()
            upto = parse_month("2025-11")
            history = [(m, v) for k, v in months.items() if (m := parse_month(k)) <= upto]
            lines = len(log.read_text().splitlines())
            started_series = time.perf_counter()
            out["new series through 2025-11 (cold cache)"] = post_month(client, "kr-copy", history)
            if prefetch:  # served from the prior; its own backtests refine it in the background

                def refined():
                    versions = client.get("/v1/series/kr-copy/models").json()["versions"]
                    return len(versions) >= 2

                wait(refined, 600, every=0.2)
                out["... its refined version (own backtests) after"] = (
                    time.perf_counter() - started_series
                )
            steps = [
                ("2025-12", "new month, new year and group"),
                ("2026-01", "new month, same group"),
                ("2026-02", "new month, same group"),
                ("2026-03", "new month, new group"),
                ("2026-04", "new month, same group"),
                ("2026-05", "new month, same group"),
            ]
            for month, kind in steps:
                if prefetch:
                    idle(log, lines)
                lines = len(log.read_text().splitlines())
                seconds = post_month(client, "kr-copy", [(parse_month(month), months[month])])
                out[f"{month}: {kind}"] = seconds
    finally:
        process.terminate()
        process.wait(30)
        shutil.rmtree(data_dir, ignore_errors=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2, help="EXPORTCAST_TRAIN_JOBS")
    parser.add_argument("--keep-log", type=Path, default=None)
    args = parser.parse_args()
    log = args.keep_log or Path(tempfile.mkstemp(prefix="exportcast-serve-", suffix=".log")[1])
    log.write_text("")
    table: dict[str, dict[str, float]] = {}
    for prefetch in (True, False):
        label = "prefetch on" if prefetch else "prefetch off"
        print(f"running with {label}, train_jobs={args.jobs} ...", file=sys.stderr, flush=True)
        table[label] = run(args.jobs, prefetch, log)
    keys = list(table["prefetch on"])
    print(f"{'seconds to a new active version':<44}{'prefetch on':>12}{'prefetch off':>13}")
    for key in keys:
        off = table["prefetch off"].get(key, float("nan"))
        print(f"{key:<44}{table['prefetch on'][key]:12.1f}{off:13.1f}")
    lines = [line for line in log.read_text().splitlines() if line.startswith("INFO:")]
    print(f"\nserver log: {len(lines)} INFO lines (kept in {log}); the first start said:")
    for line in lines[:12]:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
