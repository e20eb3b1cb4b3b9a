"""Jobs survive the death of the process running them: re-run with backoff, a bounded
number of times, and no training process left behind."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from exportcast.models.series import Observation, parse_month
from exportcast.service.main import create_app
from exportcast.service.store.connect import open_store
from tests.service_helpers import settings_for, wait_for, wait_job, wait_ready


@pytest.fixture
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'jobs.db'}")
    s.create_series("s", "a series", "u")
    yield s
    s.close()


def month(text: str, value: float = 100.0) -> Observation:
    return Observation(parse_month(text), value)


def abandon(store, lease: float = 0.05) -> None:
    """Let a claimed job's lease run out, as when its worker was killed."""
    time.sleep(lease * 2)


def test_a_dead_workers_job_is_queued_again_with_backoff(store):
    job = store.ingest("s", [month("2020-01")]).job_id
    claimed = store.claim_job("ghost", 0.05, max_attempts=3, backoff_seconds=0.3)
    assert claimed.id == job and claimed.status == "running" and claimed.attempts == 1
    abandon(store)
    # The lease ran out: queued again, but not before its backoff.
    assert store.claim_job("w2", 0.05, max_attempts=3, backoff_seconds=0.3) is None
    requeued = store.get_job(job)
    assert requeued.status == "queued" and "attempt 2 of 3" in requeued.error
    time.sleep(0.35)
    again = store.claim_job("w2", 0.05, max_attempts=3, backoff_seconds=0.3)
    assert again.id == job and again.attempts == 2
    finished = store.finish_job(job, "succeeded", 1)
    assert finished.status == "succeeded" and finished.error is None


def test_a_job_whose_workers_keep_dying_fails_after_its_attempts(store):
    job = store.ingest("s", [month("2020-01")]).job_id
    for attempt in (1, 2):
        claimed = store.claim_job("ghost", 0.05, max_attempts=2, backoff_seconds=0)
        assert claimed.id == job and claimed.attempts == attempt
        abandon(store)
    assert store.claim_job("w", 0.05, max_attempts=2, backoff_seconds=0) is None
    failed = store.get_job(job)
    assert failed.status == "failed" and "stopped responding 2 times" in failed.error


def test_a_later_batch_takes_over_a_dead_workers_job(store):
    first = store.ingest("s", [month("2020-01")]).job_id
    store.claim_job("ghost", 0.05)
    second = store.ingest("s", [month("2020-02")]).job_id
    assert second != first  # the first is running, so a new job was queued
    abandon(store)
    claimed = store.claim_job("w", 0.05)
    assert claimed.id == second
    old = store.get_job(first)
    assert old.status == "failed" and f"job {second}" in old.error


def test_an_older_store_gets_the_new_job_columns(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, series_id TEXT NOT NULL,"
            " status TEXT NOT NULL, created_at TEXT NOT NULL, started_at TEXT,"
            " finished_at TEXT, model_version INTEGER, error TEXT, heartbeat_at TEXT,"
            " worker TEXT)"
        )
        db.execute(
            "INSERT INTO jobs (series_id, status, created_at) VALUES ('s', 'succeeded', 'x')"
        )
    s = open_store(f"sqlite:///{path}")
    try:
        assert s.get_job(1).attempts == 0 and s.get_job(1).status == "succeeded"
    finally:
        s.close()


def test_the_service_reruns_a_job_whose_worker_died(data_dir):
    """A revision stored by a server that died mid-retrain ends up in a served version
    (a revision of May, so the retrain needs no new backtests: the test stays quick)."""
    store = open_store(f"sqlite:///{data_dir / 'exportcast.db'}")
    try:
        before = store.get_series("kr-exports").active_version
        outcome = store.ingest("kr-exports", [month("2026-09", 81_000.0)])
        assert outcome.revised_months == [parse_month("2026-09")]
        store.claim_job("killed-server", 0.5)  # running, and nobody will heartbeat it
    finally:
        store.close()
    settings = settings_for(data_dir, job_lease_seconds=0.5, job_retry_seconds=0.1)
    with TestClient(create_app(settings)) as client:
        wait_ready(client)
        job = wait_job(client, outcome.job_id)
        assert job["status"] == "succeeded", job
        assert job["model_version"] > before
        served = client.get("/v1/series/kr-exports/forecast").json()
        assert served["model_version"] == job["model_version"]


POOL_PARENT = """
import json, sys, time
from exportcast.models.parallel import process_pool
pool = process_pool(1)
pool.submit(time.sleep, 0).result()  # the worker is up
print(json.dumps([p.pid for p in pool._processes.values()]), flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


def test_training_workers_do_not_outlive_a_killed_parent():
    parent = subprocess.Popen(
        [sys.executable, "-c", POOL_PARENT], stdout=subprocess.PIPE, text=True
    )
    try:
        workers = json.loads(parent.stdout.readline())
        assert workers and all(alive(pid) for pid in workers)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        wait_for(lambda: not any(alive(pid) for pid in workers), timeout=15, every=0.2)
    finally:
        parent.kill()
