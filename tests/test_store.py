"""The SQLite store: transactions, vintages and the job queue's promises."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from exportcast.models.nowcast.flashes import Flash
from exportcast.models.series import Observation, parse_month
from exportcast.models.validate import SeriesError
from exportcast.service.store import Conflict, NotFound, VersionRecord
from exportcast.service.store.base import stamp, utc_now
from exportcast.service.store.connect import open_store
from tests.postgres_server import PostgresServer, server_binaries


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                server_binaries() is None, reason="no PostgreSQL server binaries on this machine"
            ),
        ),
    ]
)
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    server = request.getfixturevalue("postgres")
    return server.new_database(f"t{uuid.uuid4().hex[:12]}")


@pytest.fixture
def store(store_url):
    s = open_store(store_url)
    s.create_series("a", "A", "u", [10.0])
    yield s
    s.close()


def obs(month: str, value: float) -> Observation:
    return Observation(parse_month(month), value)


def test_open_store_refuses_unknown_urls():
    with pytest.raises(ValueError, match="unsupported database URL"):
        open_store("mysql://x")


def test_series_ids_are_unique(store):
    with pytest.raises(Conflict):
        store.create_series("a", "again", "u")
    with pytest.raises(NotFound):
        store.get_series("b")


def test_ingest_appends_and_revises_keeping_vintages(store):
    first = store.ingest("a", [obs("2020-01", 1), obs("2020-02", 2)])
    assert first.new_months == [parse_month("2020-01"), parse_month("2020-02")]
    moment = utc_now()
    second = store.ingest("a", [obs("2020-02", 2.5), obs("2020-03", 3)])
    assert second.revised_months == [parse_month("2020-02")]
    assert [o.value for o in store.observations("a")] == [1, 2.5, 3]
    assert [o.value for o in store.observations("a", moment)] == [1, 2]
    record = store.get_series("a")
    assert record.n_observations == 3 and record.last_month == parse_month("2020-03")


def test_a_gap_refuses_the_batch_whole(store):
    store.ingest("a", [obs("2020-01", 1)])
    with pytest.raises(SeriesError, match="2020-02"):
        store.ingest("a", [obs("2020-01", 9), obs("2020-03", 3)])
    # Not even the revision of January went in.
    assert [o.value for o in store.observations("a")] == [1]
    assert store.observations("a", utc_now() + timedelta(days=1))[0].value == 1


def test_queued_jobs_coalesce_and_one_runs_per_series(store):
    store.create_series("b", "B", "u")
    job1 = store.ingest("a", [obs("2020-01", 1)]).job_id
    job2 = store.ingest("a", [obs("2020-02", 2)]).job_id
    assert job1 == job2  # the queued job will read both batches
    claimed = store.claim_job("w1", lease_seconds=60)
    assert claimed is not None and claimed.id == job1 and claimed.status == "running"
    job3 = store.ingest("a", [obs("2020-03", 3)]).job_id
    assert job3 != job1  # a running job has read its data already: queue another
    assert store.claim_job("w2", lease_seconds=60) is None  # not while "a" is running
    job_b = store.ingest("b", [obs("2020-01", 1)]).job_id
    other = store.claim_job("w2", lease_seconds=60)
    assert other is not None and other.id == job_b  # other series are not held up
    store.finish_job(job1, "succeeded", 1)
    nxt = store.claim_job("w1", lease_seconds=60)
    assert nxt is not None and nxt.id == job3


def test_concurrent_claims_hand_a_job_to_one_worker(store):
    store.ingest("a", [obs("2020-01", 1)])
    results = []
    barrier = threading.Barrier(8)

    def claim(i):
        barrier.wait()
        results.append(store.claim_job(f"w{i}", 60))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 1


def test_a_job_whose_worker_went_silent_is_run_again_then_failed(store):
    job = store.ingest("a", [obs("2020-01", 1)]).job_id
    assert store.claim_job("w1", lease_seconds=60).attempts == 1
    time.sleep(0.01)
    # With a lease shorter than the silence, the next claim takes the job over (no backoff).
    again = store.claim_job("w2", lease_seconds=0.005, max_attempts=2, backoff_seconds=0)
    assert again.id == job and again.attempts == 2
    time.sleep(0.01)
    # Started as often as allowed: failed, and none is queued.
    assert store.claim_job("w3", lease_seconds=0.005, max_attempts=2) is None
    failed = store.get_job(job)
    assert failed.status == "failed" and "stopped responding 2 times" in failed.error


def flash(month: str, period: str, value: float) -> Flash:
    return Flash(parse_month(month), period, value)


def test_flashes_keep_vintages_and_stop_at_the_month_after_the_last(store):
    store.ingest("a", [obs("2020-01", 10), obs("2020-02", 11)])
    first = store.ingest_flashes("a", [flash("2020-02", "d1_10", 3), flash("2020-03", "d1_10", 4)])
    assert first.new == [(parse_month("2020-02"), "d1_10"), (parse_month("2020-03"), "d1_10")]
    assert first.job_id is not None
    moment = utc_now()
    second = store.ingest_flashes(
        "a", [flash("2020-03", "d1_10", 4.5), flash("2020-03", "d1_20", 8)]
    )
    assert second.revised == [(parse_month("2020-03"), "d1_10")]
    assert [f.value for f in store.flashes("a")] == [3, 4.5, 8]
    assert [f.value for f in store.flashes("a", moment)] == [3, 4]
    # Past the month after the last published, or breaking 1-10 <= 1-20: nothing goes in.
    with pytest.raises(SeriesError, match="past 2020-03"):
        store.ingest_flashes("a", [flash("2020-03", "d1_20", 9), flash("2020-04", "d1_10", 1)])
    with pytest.raises(SeriesError, match="below d1_10"):
        store.ingest_flashes("a", [flash("2020-03", "d1_20", 4)])
    assert [f.value for f in store.flashes("a")] == [3, 4.5, 8]
    store.delete_series("a")
    store.create_series("a", "again", "u", country="KR")
    assert store.flashes("a") == [] and store.get_series("a").country == "KR"


def test_a_deleted_series_takes_everything_with_it(store):
    store.ingest("a", [obs("2020-01", 1)])
    store.ingest("a", [obs("2020-01", 2)])  # a vintage
    record = VersionRecord("a", 0, stamp(datetime.now(UTC)), 5, "ets", ("ets",), "d", 0.1)
    store.add_version(record, b"paths", activate=True)
    store.delete_series("a")
    with pytest.raises(NotFound):
        store.get_series("a")
    with pytest.raises(NotFound):
        store.delete_series("a")
    assert "a" not in store.active_versions()
    # The id is free again, with nothing of the old series behind it.
    store.create_series("a", "again", "u")
    assert store.observations("a") == [] and store.versions("a") == []


def test_versions_activate_atomically(store):
    record = VersionRecord("a", 0, stamp(datetime.now(UTC)), 5, "ets", ("ets",), "d", 0.1)
    v1 = store.add_version(record, b"one", activate=True)
    v2 = store.add_version(record, b"two", activate=False)
    assert (v1, v2) == (1, 2)
    assert store.active_versions() == {"a": 1}
    store.activate("a", 2)
    assert store.active_versions() == {"a": 2}
    assert store.artifact("a", 1) == b"one"
    with pytest.raises(NotFound):
        store.activate("a", 3)
    assert [v.version for v in store.versions("a")] == [1, 2]


def test_bootstrap_happens_once(store_url):
    s = open_store(store_url)
    batch = [obs("2020-01", 1), obs("2020-02", 2)]
    assert s.bootstrap("k", "K", "u", [1.0], batch) is True
    assert s.bootstrap("k", "K", "u", [1.0], batch) is False
    assert s.get_series("k").n_observations == 2
    s.close()


def test_a_store_that_held_series_is_never_bootstrapped_again(store):
    """The bundled series fills an empty store once; a store whose series were deleted
    is not empty in that sense, and a restart must not bring data back over it."""
    store.delete_series("a")
    assert store.list_series() == []
    assert not store.bootstrap("b", "B", "u", (), [obs("2020-01", 1)])
    assert store.list_series() == []


def test_series_come_a_page_at_a_time_in_id_order(store_url):
    s = open_store(store_url)
    for name in ("c", "a", "b", "d"):
        s.create_series(name, name.upper(), "u", ())
    assert [r.id for r in s.list_series()] == ["a", "b", "c", "d"]
    assert [r.id for r in s.list_series(limit=2)] == ["a", "b"]
    assert [r.id for r in s.list_series(limit=2, after="b")] == ["c", "d"]
    assert [r.id for r in s.list_series(after="d")] == []
    s.close()


def test_a_hierarchy_keeps_its_versions_until_it_is_declared_anew(store):
    from exportcast.service.store import HierarchyRecord

    store.create_series("t", "T", "u")  # "a" is the fixture's
    record = HierarchyRecord("h", "t", {"a": "a"}, "x")
    store.put_hierarchy(record)
    store.hierarchy_failed("h", "the items reach the total")
    assert store.get_hierarchy("h").problem == "the items reach the total"
    assert store.add_hierarchy_version("h", "basis-1", 100, {"n": 1}) == 1
    assert store.get_hierarchy("h").problem is None
    assert store.add_hierarchy_version("h", "basis-1", 100, {"n": 1}) is None  # same data
    assert store.add_hierarchy_version("h", "basis-0", 99, {"n": 0}) is None  # older data
    assert store.add_hierarchy_version("h", "basis-2", 100, {"n": 2}) == 2  # a revision
    assert store.get_hierarchy("h").version == 2
    assert store.hierarchy_body("h", 2)[1] == {"n": 2}
    store.put_hierarchy(record)  # the same declaration: its versions stay
    assert store.get_hierarchy("h").version == 2
    store.put_hierarchy(HierarchyRecord("h", "t", {"a": "a"}, "x", {"a": [5.0]}))
    assert store.get_hierarchy("h").version is None  # declared anew: none served
    store.delete_series("a")
    assert store.hierarchies() == []
