"""Read latency and throughput of the forecast endpoint, against a baseline in the same run.

Serves the app under uvicorn on 127.0.0.1 (one worker, a trained copy of the bundled
series) with one extra route that returns the same forecast as a plain dict through
FastAPI's encoder: the usual way, and the baseline. Loads each with wrk (Debian's `wrk`)
if present, otherwise with a small thread-pool client, and prints requests/s, p50, p99 and
the ratio. Timings are printed, never asserted.

    .venv/bin/python benchmarks/serve_latency.py [--seconds 5] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from harness import free_port

ROOT = Path(__file__).resolve().parents[1]

APP = textwrap.dedent(
    """
    import json
    from exportcast.service.main import create_app

    app = create_app()

    @app.get("/bench/dict/{series_id}")
    def as_dict(series_id: str):
        active = app.state.active.get(series_id)
        return json.loads(next(iter(active.defaults.values())).content)
    """
)


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> dict[str, float]:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for k, v in headers.items():
        args[1:1] = ["-H", f"{k}: {v}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {"rps": rps, "p50_ms": ms("50"), "p99_ms": ms("99")}


def pool_client(url: str, seconds: int, connections: int, headers: dict) -> dict[str, float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def worker() -> list[float]:
        mine = []
        with httpx.Client(headers=headers) as c:
            while time.monotonic() < deadline:
                t = time.perf_counter()
                c.get(url)
                mine.append(time.perf_counter() - t)
        return mine

    with ThreadPoolExecutor(connections) as ex:
        for part in ex.map(lambda _: worker(), range(connections)):
            latencies.extend(part)
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    load = wrk if shutil.which("wrk") else pool_client
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bench_app.py").write_text(APP)
        port = free_port()
        env = {
            **os.environ,
            "EXPORTCAST_DATA_DIR": str(Path(tmp) / "data"),
            "PYTHONPATH": f"{tmp}{os.pathsep}{ROOT}",
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench_app:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=tmp,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            started = time.monotonic()
            while True:
                try:
                    if httpx.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() - started > 180:
                    raise SystemExit("the service did not become ready")
                time.sleep(0.2)
            waited = time.monotonic() - started
            print(f"ready after {waited:.1f}s (a first start trains the bundled series)")
            etag = httpx.get(f"{base}/v1/series/kr-exports/forecast").headers["etag"]
            cases = {
                "dict through FastAPI's encoder (baseline)": (f"{base}/bench/dict/kr-exports", {}),
                "forecast, pre-serialised bytes": (f"{base}/v1/series/kr-exports/forecast", {}),
                "forecast, If-None-Match -> 304": (
                    f"{base}/v1/series/kr-exports/forecast",
                    {"If-None-Match": etag},
                ),
                "forecast, other parameters (LRU)": (
                    f"{base}/v1/series/kr-exports/forecast?years=10&levels=50,90",
                    {},
                ),
            }
            results = {}
            for name, (url, headers) in cases.items():
                load(url, 1, args.connections, headers)  # warm up
                results[name] = load(url, args.seconds, args.connections, headers)
        finally:
            server.terminate()
            server.wait(timeout=30)
    base_rps = next(iter(results.values()))["rps"]
    print(f"load: {load.__name__}, {args.connections} connections, {args.seconds}s each, 1 worker")
    print(f"{'case':45} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'x baseline':>11}")
    for name, r in results.items():
        print(
            f"{name:45} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['rps'] / base_rps:>10.2f}x"
        )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
