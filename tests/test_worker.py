"""The worker: a job runs once (the heartbeat outlives a store error, and a run that lost
its lease is stopped and stores nothing), and work owed by an earlier run resumes on start."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from exportcast.models.series import Observation
from exportcast.models.simulation import Simulation
from exportcast.service.config import Settings
from exportcast.service.store.connect import open_store
from exportcast.service.worker.loop import Worker

START = 2020 * 12


def slow_train(request) -> Simulation:
    """Runs in the slot's process: long enough for several heartbeats."""
    time.sleep(1.5)
    series = request.series
    paths = np.full((100, 80), float(series.values[-1]))
    return Simulation(series.id, series.unit, "ets", ("ets",), "d", series.end, 0.0, paths)


class FlakyHeartbeats:
    """The store, but the first heartbeat fails as a lost connection would."""

    def __init__(self, store):
        self._store = store
        self.beats = 0

    def heartbeat(self, lease):
        self.beats += 1
        if self.beats == 1:
            raise ConnectionError("the database went away for a moment")
        return self._store.heartbeat(lease)

    def __getattr__(self, name):
        return getattr(self._store, name)


@pytest.fixture
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    s.create_series("s", "S", "u")
    s.ingest("s", [Observation(START + i, 100.0 + i) for i in range(36)])  # queues job 1
    yield s
    s.close()


def settings(tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        job_lease_seconds=0.4,  # a heartbeat every 0.1 s
        poll_seconds=0.02,
        job_retry_seconds=0,
        prefetch=False,
        implausible_factor=100,
    )


async def run_until(worker: Worker, done, timeout: float = 30.0) -> None:
    task = asyncio.create_task(worker.run_forever())
    try:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        worker.close()


def test_a_failed_heartbeat_does_not_let_the_job_run_twice(store, tmp_path):
    flaky = FlakyHeartbeats(store)
    served = []

    async def on_served(sim, record, targets):
        served.append(record.version)

    worker = Worker(flaky, settings(tmp_path), on_served, slow_train)

    async def scenario() -> None:
        others: list = []

        def done() -> bool:
            # Another worker keeps trying to take the job while it runs: its lease must
            # hold, so nothing is ever handed out again.
            status = store.get_job(1).status
            if status == "running":
                others.append(store.claim_job("other", 0.4, backoff_seconds=0))
            return status in ("succeeded", "failed")

        await run_until(worker, done)
        assert len(others) > 10 and [o for o in others if o is not None] == []

    asyncio.run(scenario())
    job = store.get_job(1)
    assert (job.status, job.attempts, job.model_version) == ("succeeded", 1, 1)
    assert flaky.beats >= 3 and served == [1]


def test_a_run_that_lost_its_lease_stores_nothing(store, tmp_path):
    served = []

    async def on_served(sim, record, targets):
        served.append(record.version)

    worker = Worker(store, settings(tmp_path), on_served, slow_train)

    async def scenario() -> None:
        def taken_over() -> bool:
            job = store.get_job(1)
            if job.status == "running":  # another worker takes it (as after a lapse)
                with store._write() as cur:
                    cur.execute("UPDATE jobs SET worker = 'other' WHERE id = 1")
                return True
            return False

        await run_until(worker, taken_over)
        # Give the stopped run time to have finished, had it not been stopped.
        await asyncio.sleep(2.0)

    asyncio.run(scenario())
    assert store.versions("s") == [] and served == []
    job = store.get_job(1)
    assert job.status == "running" and job.model_version is None  # the other worker's now


def quick_track(request, group: int) -> list[dict] | None:
    """Runs in the slot's process: two groups, the record on the second."""
    if group == 0:
        return None
    return [{"year": 2021, "data_through": "2021-03", "median": float(request.series.values[-1])}]


def test_a_track_record_owed_by_an_earlier_run_is_made_after_a_restart(store, tmp_path):
    """The first start trained the series and stopped before its track record at every
    months-known was made; the next start makes it, without waiting for new data."""
    from exportcast.service.store import VersionPoints
    from exportcast.service.worker.retrain import version_of

    paths = np.full((100, 80), 135.0)
    made = Simulation("s", "u", "auto", ("ets",), "d", START + 35, 0.0, paths)
    record, _ = version_of(made, "2026-01-01T00:00:00.000000Z")
    store.add_version(record, b"paths", VersionPoints(), serve=True)
    store.finish_job(1, "succeeded", 1)  # the first run's job, done before it stopped
    restarted = settings(tmp_path).model_copy(
        update={"prefetch": True, "track_after_idle_seconds": 0, "model": "auto"}
    )

    async def served(sim, record, targets):
        return None

    worker = Worker(store, restarted, served, slow_train, prefetch_fn=None, track_fn=quick_track)
    asyncio.run(run_until(worker, lambda: store.track("s") != []))
    assert store.track("s") == [{"year": 2021, "data_through": "2021-03", "median": 135.0}]
    again = Worker(store, restarted, served, slow_train, prefetch_fn=None, track_fn=quick_track)
    assert asyncio.run(again.ahead.resume()) == 0  # made from this data: nothing owed


def test_a_slot_whose_idle_process_died_starts_a_new_one():
    """A training process killed while idle (the OOM killer) breaks its pool; the next use
    of the slot must start a fresh process, not fail every job from then on."""
    import os
    import signal

    from exportcast.service.worker.slots import Slots

    async def scenario() -> None:
        slots = Slots(1, timeout=60)
        try:
            first = await slots.run(0, os.getpid)
            os.kill(first, signal.SIGKILL)
            await asyncio.sleep(1.0)  # the pool notices its process is gone
            second = await slots.run(0, os.getpid)
            assert second != first
            assert await slots.run(0, os.getpid) == second
        finally:
            slots.close()

    asyncio.run(scenario())
