"""The items hierarchy through the service, as a user meets it: `exportcast serve` on a
fresh data folder (cold fit cache) with the bundled Korea total and its ten items, timed

1. from process start to `/readyz` 200 (the total's first model), and to the hierarchy's
   first version (eleven series trained as series, then the hierarchy: every node fitted);
2. a revised month of one item (ships, 2026-05): from the POST to the hierarchy's next
   version (that item's own retrain, then only that item and "other" refitted);
3. the hierarchy read (`GET /v1/hierarchies/kr-exports-items`, 50 reads, median ms)
   against a default forecast read of the total in the same run.

    .venv/bin/python benchmarks/hierarchy_service.py [--keep-log serve.log]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from harness import AUTH, free_port, start_server, wait

HID = "kr-exports-items"


def version(client: httpx.Client) -> int | None:
    found = client.get(f"/v1/hierarchies/{HID}")
    return found.json()["version"] if found.status_code == 200 else None


def read_ms(client: httpx.Client, path: str, n: int = 50) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-log", type=Path, default=None)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="exportcast-hierarchy-"))
    log = folder / "serve.log"
    port = free_port()
    started = time.perf_counter()
    server = start_server(
        folder / "data", port, log, EXPORTCAST_PREFETCH="false", EXPORTCAST_BOOTSTRAP_ITEMS="true"
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            wait(lambda: client.get("/readyz").status_code == 200, 900)
            ready = time.perf_counter() - started
            wait(lambda: version(client) == 1, 1800)
            first = time.perf_counter() - started
            body = client.get(f"/v1/hierarchies/{HID}").json()
            print(f"first start: ready in {ready:.1f} s; hierarchy version 1 in {first:.1f} s")
            print(f"  refitted: {', '.join(body['refit'])}")
            posted = time.perf_counter()
            rows = {"observations": [{"month": "2026-05", "value": 3100.0}]}
            client.post(
                "/v1/series/kr-exports.ships/observations", json=rows, headers=AUTH
            ).raise_for_status()
            wait(lambda: version(client) == 2, 900)
            second = time.perf_counter() - posted
            body = client.get(f"/v1/hierarchies/{HID}").json()
            print(f"a revised ships month: hierarchy version 2 in {second:.1f} s after the POST")
            print(f"  refitted: {', '.join(body['refit'])}")
            hierarchy = read_ms(client, f"/v1/hierarchies/{HID}")
            forecast = read_ms(client, "/v1/series/kr-exports/forecast")
            print(
                f"reads, median of 50: hierarchy {hierarchy:.1f} ms, total's default forecast "
                f"{forecast:.1f} ms (x{hierarchy / forecast:.1f}); hierarchy body "
                f"{len(client.get(f'/v1/hierarchies/{HID}').content) / 1000:.0f} kB"
            )
    finally:
        server.terminate()
        server.wait(30)
        if args.keep_log:
            shutil.copy(log, args.keep_log)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
