"""Read latency and throughput of the forecast endpoint, against the machine's limit
measured in the same run.

Serves the app under uvicorn on 127.0.0.1 (a trained copy of the bundled series) with
extra routes: the same forecast as a plain dict through FastAPI's encoder (the usual way)
and its bytes through FastAPI; beside it, a raw ASGI app that returns the same bytes (the
limit of uvicorn on this machine). Loads each with wrk (Debian's `wrk`) if present,
otherwise a small thread-pool client: (a') raw ASGI, (a) FastAPI bytes, (b) the cached
default forecast, (c) a 304, (d) (b) while a retrain of the series runs, (e) random
non-default parameters (a wrk Lua script: uniform over the documented limits), (e') the raw
app spending as much CPU a request as (e) did (the latency any server busy that long per
request has at this load), and one non-default query repeated; then requests/s, p50, p99,
errors and the ratio to (a'). Timings are printed, never asserted.

    .venv/bin/python benchmarks/serve_latency.py [--seconds 5] [--connections 64] [--workers 1]
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

from exportcast.models.series import format_month, parse_month

ROOT = Path(__file__).resolve().parents[1]

APP = textwrap.dedent(
    """
    import json
    from exportcast.service.main import create_app

    app = create_app()

    @app.get("/bench/dict/{series_id}")
    def as_dict(series_id: str):
        active = app.state.active.get(series_id)
        return json.loads(active.default_bodies["annual"].content)

    @app.get("/bench/bytes/{series_id}")
    async def as_bytes(series_id: str):
        from fastapi import Response

        active = app.state.active.get(series_id)
        return Response(active.default_bodies["annual"].content, media_type="application/json")
    """
)

RAW_APP = textwrap.dedent(
    """
    import os
    import time

    BODY = open(os.environ["BENCH_BODY"], "rb").read()
    HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        query = scope["query_string"]
        if query.startswith(b"busy="):  # spend this many microseconds of CPU first
            until = time.perf_counter() + int(query[5:]) / 1e6
            while time.perf_counter() < until:
                pass
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": BODY})
    """
)

# wrk picks a new question for every request, uniform over the documented limits: 1-30
# years, 1-6 levels (whole percents, 1-99), 0-10 targets (round amounts, 0.5-3 million)
# and a member of the ensemble or not (MEMBERS is filled in from the served version). Each
# wrk thread draws its own questions: seeded alike, the second would repeat the first's, and
# the repeats would be answered from the bytes kept for them.
RANDOM_LUA = textwrap.dedent(
    """
    local threads = 0
    setup = function(thread)
      threads = threads + 1
      thread:set("id", threads)
    end
    init = function(args)
      math.randomseed(os.time() * 100 + id)
    end
    local members = {MEMBERS}
    local function list(n, pick)
      local out = {}
      for i = 1, n do out[i] = pick() end
      return table.concat(out, ",")
    end
    request = function()
      local path = "/v1/series/kr-exports/forecast?years=" .. math.random(1, 30) ..
        "&levels=" .. list(math.random(1, 6), function() return math.random(1, 99) end)
      local targets = math.random(0, 10)
      if targets > 0 then
        path = path .. "&targets=" ..
          list(targets, function() return math.random(5, 30) * 100000 end)
      end
      local member = math.random(0, #members)
      if member > 0 then path = path .. "&model=" .. members[member] end
      return wrk.format("GET", path)
    end
    """
)


def wrk(
    url: str, seconds: int, connections: int, headers: dict[str, str], script: str | None = None
) -> dict[str, float]:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for k, v in headers.items():
        args[1:1] = ["-H", f"{k}: {v}"]
    if script is not None:
        args[1:1] = ["-s", script]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    broken = re.search(r"Socket errors:.*?timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (int(broken.group(1)) if broken else 0)

    def ms(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {"rps": rps, "p50_ms": ms("50"), "p99_ms": ms("99"), "errors": errors}


def pool_client(
    url: str, seconds: int, connections: int, headers: dict, script: str | None = None
) -> dict[str, float]:
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
        "errors": 0,
    }


TICKS = os.sysconf("SC_CLK_TCK")


def _ticks(stat_path: Path) -> tuple[int, float]:
    """(parent pid, CPU seconds) from a /proc stat file."""
    fields = stat_path.read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def cpu_split(pid: int) -> dict[str, float]:
    """CPU seconds so far of the service: its event loop (the main thread: requests, the
    front door), its other threads (routes run off the loop, store reads, syncing) and its
    child processes (uvicorn's workers when there are several, the retrain slots)."""
    out = {"event loop": 0.0, "other threads": 0.0, "child processes": 0.0}
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            _, seconds = _ticks(task / "stat")
            out["event loop" if task.name == str(pid) else "other threads"] += seconds
    except FileNotFoundError:
        return out
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                parent, _ = _ticks(proc / "stat")
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(parent, []).append(int(proc.name))
    stack = list(children.get(pid, []))
    while stack:
        child = stack.pop()
        stack.extend(children.get(child, []))
        try:
            for task in Path(f"/proc/{child}/task").iterdir():
                out["child processes"] += _ticks(task / "stat")[1]
        except FileNotFoundError:
            continue
    return out


def serve(app: str, port: int, cwd: str, env: dict, workers: int) -> subprocess.Popen:
    """uvicorn serving `app`; its log goes to a file beside it, not into the figures."""
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log", "--workers", str(workers)]
    with Path(cwd, f"{app.split(':')[0]}.log").open("a") as log:  # the child keeps its copy
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for(url: str, seconds: float = 240) -> float:
    started = time.monotonic()
    while True:
        try:
            if httpx.get(url).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        if time.monotonic() - started > seconds:
            raise SystemExit(f"{url} did not answer 200")
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--hierarchy",
        action="store_true",
        help="also load the bundled items and read their hierarchy (about a minute more)",
    )
    args = parser.parse_args()
    load = wrk if shutil.which("wrk") else pool_client
    token = "bench-token"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bench_app.py").write_text(APP)
        Path(tmp, "raw_app.py").write_text(RAW_APP)
        port, raw_port = free_port(), free_port()
        env = {
            **os.environ,
            "EXPORTCAST_DATA_DIR": str(Path(tmp) / "data"),
            "EXPORTCAST_API_TOKEN": token,
            # No fits made ahead behind the figures: they would take both cores.
            "EXPORTCAST_PREFETCH": "false",
            "EXPORTCAST_BOOTSTRAP_ITEMS": "true" if args.hierarchy else "false",
            "PYTHONPATH": f"{tmp}{os.pathsep}{ROOT}",
            "BENCH_BODY": str(Path(tmp) / "body.json"),
            # Metrics on, as `exportcast serve` runs them: each worker's in files.
            "PROMETHEUS_MULTIPROC_DIR": str(Path(tmp) / "metrics"),
        }
        Path(tmp, "metrics").mkdir()
        server = serve("bench_app:app", port, tmp, env, args.workers)
        raw = None
        base = f"http://127.0.0.1:{port}"
        forecast = f"{base}/v1/series/kr-exports/forecast"
        try:
            waited = wait_for(f"{base}/readyz")
            print(f"ready after {waited:.1f}s (a first start trains the bundled series)")
            first = httpx.get(forecast)
            Path(env["BENCH_BODY"]).write_bytes(first.content)
            members = ", ".join(f'"{m}"' for m in first.json()["members"])
            Path(tmp, "random.lua").write_text(RANDOM_LUA.replace("{MEMBERS}", f"{{{members}}}"))
            raw = serve("raw_app:app", raw_port, tmp, env, args.workers)
            wait_for(f"http://127.0.0.1:{raw_port}/")
            etag = first.headers["etag"]
            cases = {
                "(a') raw ASGI, the same bytes (the limit)": (
                    f"http://127.0.0.1:{raw_port}/",
                    {},
                    None,
                ),
                "(a) FastAPI returning those bytes": (f"{base}/bench/bytes/kr-exports", {}, None),
                "dict through FastAPI's encoder": (f"{base}/bench/dict/kr-exports", {}, None),
                "(b) default forecast, pre-serialised": (forecast, {}, None),
                "(c) If-None-Match -> 304": (forecast, {"If-None-Match": etag}, None),
                "one non-default query repeated (LRU)": (
                    f"{forecast}?years=10&levels=50,90",
                    {},
                    None,
                ),
                "(e) random non-default parameters": (forecast, {}, str(Path(tmp, "random.lua"))),
            }
            if args.hierarchy:
                hierarchy = f"{base}/v1/hierarchies/kr-exports-items"
                waited = wait_for(hierarchy, 600)
                made = httpx.get(hierarchy)
                tag = made.headers["etag"]
                print(
                    f"the items' hierarchy answered after {waited:.1f}s more "
                    f"({len(made.content) / 1000:.0f} kB against the forecast's "
                    f"{len(first.content) / 1000:.1f} kB)"
                )
                # A query the front door does not know goes to the route: the same bytes
                # answered through FastAPI and a store read, the baseline of (h).
                cases["(h-) hierarchy through the route"] = (f"{hierarchy}?via=route", {}, None)
                cases["(h) hierarchy, default method"] = (hierarchy, {}, None)
                cases["(h') hierarchy, If-None-Match -> 304"] = (
                    hierarchy,
                    {"If-None-Match": tag},
                    None,
                )
            results, cpu = {}, {}
            for name, (url, headers, script) in cases.items():
                load(url, 1, args.connections, headers, script)  # warm up
                before = cpu_split(server.pid)
                results[name] = load(url, args.seconds, args.connections, headers, script)
                after = cpu_split(server.pid)
                cpu[name] = {k: after[k] - before[k] for k in after}
            # (e'): the raw app spending as much CPU a request as (e) did: a server busy
            # that long per request, whatever it does, has this latency at this load.
            random_case = "(e) random non-default parameters"
            spent = sum(cpu[random_case].values()) / (results[random_case]["rps"] * args.seconds)
            busy = f"(e') raw ASGI spending (e)'s {spent * 1e6:.0f} us a request"
            busy_url = f"http://127.0.0.1:{raw_port}/?busy={int(spent * 1e6)}"
            load(busy_url, 1, args.connections, {}, None)
            results[busy] = load(busy_url, args.seconds, args.connections, {}, None)
            # (d): (b) while the series retrains: a new month (June) that starts a new
            # months-known group, so the retrain fits its learning anew (about 10 s).
            month = httpx.get(f"{base}/v1/series/kr-exports/observations").json()
            last = month["observations"][-1]
            following = format_month(parse_month(last["month"]) + 1)
            posted = httpx.post(
                f"{base}/v1/series/kr-exports/observations",
                json={"observations": [{"month": following, "value": last["value"]}]},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            before = cpu_split(server.pid)
            results["(d) (b) while a retrain runs"] = load(
                forecast, args.seconds, args.connections, {}, None
            )
            after = cpu_split(server.pid)
            cpu["(d) (b) while a retrain runs"] = {k: after[k] - before[k] for k in after}
            job = httpx.get(f"{base}/v1/jobs/{posted['job']['id']}").json()
            print(f"the retrain during (d): job {job['id']} {job['status']}")
        finally:
            for process in (server, raw):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=30)
    limit = next(iter(results.values()))["rps"]
    print(
        f"load: {load.__name__}, {args.connections} connections, {args.seconds}s each, "
        f"{args.workers} worker(s); x = req/s against (a')"
    )
    print(f"{'case':45} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'x':>6}")
    for name, r in results.items():
        print(
            f"{name:45} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['errors']:>7} {r['rps'] / limit:>5.2f}x"
        )
    print(
        f"\nthe service's CPU seconds per case ({args.seconds}s of load; the raw ASGI app's "
        "own server is not the service): event loop / other threads / child processes, and "
        "CPU microseconds per request"
    )
    for name, split in cpu.items():
        if name not in results or name.startswith(("(a')", "(e')")):
            continue
        total = sum(split.values())
        done = results[name]["rps"] * args.seconds
        print(
            f"{name:45} {split['event loop']:>6.2f} / {split['other threads']:>5.2f} / "
            f"{split['child processes']:>5.2f}   {1e6 * total / max(done, 1):>7.0f} us"
        )
    print(
        f"\nmetrics per request: {metrics_cost_us():.2f} us of CPU (tallied, flushed each second)"
    )
    print(json.dumps(results))
    return 0


def metrics_cost_us(n: int = 200_000) -> float:
    """What counting and timing one request costs the service (`Tally.add`), in this process."""
    from exportcast.service.metrics import LATENCY_BUCKETS, Tally

    tally = Tally(LATENCY_BUCKETS)
    started = time.perf_counter()
    for i in range(n):
        tally.add("GET", "/v1/series/{series_id}/forecast", 200, 0.0004 + (i % 7) * 1e-4)
    return 1e6 * (time.perf_counter() - started) / n


if __name__ == "__main__":
    sys.exit(main())
