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
from exportcast.service.store import (
    Conflict,
    Lease,
    LeaseLost,
    NotFound,
    VersionPoints,
    VersionRecord,
)
from exportcast.service.store.base import stamp, utc_now
from exportcast.service.store.connect import open_store
from exportcast.service.store.migrations import LATEST
from tests.postgres_server import PostgresServer, require_postgres


@pytest.fixture(scope="session")
def postgres():
    require_postgres()  # fails, naming what to install, without PostgreSQL
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
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
    points = VersionPoints(projections=[{"year": 2020, "median": 1.0}])
    store.add_version(record, b"paths", points, serve=True)
    store.delete_series("a")
    with pytest.raises(NotFound):
        store.get_series("a")
    with pytest.raises(NotFound):
        store.delete_series("a")
    assert "a" not in store.active_versions()
    # The id is free again, with nothing of the old series behind it.
    store.create_series("a", "again", "u")
    assert store.observations("a") == [] and store.versions("a") == []
    assert store.year_points("a", 2020) == [] and store.served_stamp("a") is None


def test_versions_are_served_atomically(store):
    record = VersionRecord("a", 0, stamp(datetime.now(UTC)), 5, "ets", ("ets",), "d", 0.1)
    v1 = store.add_version(record, b"one", VersionPoints(), serve=True)
    v2 = store.add_version(record, b"two", VersionPoints(), serve=False)
    assert (v1, v2) == (1, 2)
    assert store.active_versions() == {"a": 1}
    store.serve_version("a", 2)
    assert store.active_versions() == {"a": 2}
    assert store.served_stamps() == {"a": (2, record.created_at)}
    assert store.artifact("a", 1) == b"one"
    with pytest.raises(NotFound):
        store.serve_version("a", 3)
    assert [v.version for v in store.versions("a")] == [2, 1]  # newest first


def test_versions_page_newest_first_with_their_points_by_year(store):
    for n in range(1, 8):
        record = VersionRecord(
            "a", 0, stamp(datetime.now(UTC)), 100 + n, "ets", ("ets",), "d", 0.1,
            learned={"weights": {"ets": 1.0}}, n_paths=10, horizon=12,
        )  # fmt: skip
        points = VersionPoints(
            projections=[{"year": 2020, "median": float(n)}, {"year": 2021, "median": 2.0 * n}],
            backtest=[{"year": 2020, "data_through": f"2019-0{n}", "median": -n}],
        )
        store.add_version(record, b"x", points, serve=True)
    first = store.versions("a", limit=3)
    assert [v.version for v in first] == [7, 6, 5]
    assert [v.version for v in store.versions("a", limit=3, before=5)] == [4, 3, 2]
    assert first[0].learned == {"weights": {"ets": 1.0}} and first[0].n_paths == 10
    year = store.year_points("a", 2020)
    assert [(p.version, p.source) for p in year[:2]] == [(1, "backtest"), (1, "live")]
    assert [p.body["median"] for p in year if p.source == "live"] == [1, 2, 3, 4, 5, 6, 7]
    assert {p.data_through for p in year if p.version == 3} == {103}
    assert store.projection("a", 4, 2021) == {"year": 2021, "median": 8.0}
    assert store.projection("a", 4, 2030) is None


def claimed(store, worker: str) -> Lease:
    store.ingest("a", [obs("2020-01", 1)])
    job = store.claim_job(worker, lease_seconds=60)
    return Lease(job.id, worker, job.attempts)


def test_only_the_lease_holder_finishes_a_job_or_stores_a_version(store):
    """A run whose lease lapsed (its job was queued again and claimed by another worker)
    can write neither a version nor a status: the store checks the lease in the same
    transaction as the write."""
    lease = claimed(store, "w1")
    assert store.heartbeat(lease) is True
    time.sleep(0.02)
    again = store.claim_job("w2", lease_seconds=0.01, backoff_seconds=0)  # w1's lease lapsed
    assert again is None or again.id == lease.job_id
    taken = again or store.claim_job("w2", lease_seconds=60, backoff_seconds=0)
    assert taken.id == lease.job_id
    assert store.heartbeat(lease) is False  # w1 learns it lost the job
    record = VersionRecord("a", 0, stamp(datetime.now(UTC)), 5, "ets", ("ets",), "d", 0.1)
    with pytest.raises(LeaseLost):
        store.add_version(record, b"late", VersionPoints(), serve=True, lease=lease)
    with pytest.raises(LeaseLost):
        store.finish_job(lease.job_id, "succeeded", 1, lease=lease)
    assert store.versions("a") == [] and store.get_job(lease.job_id).status == "running"
    holder = Lease(lease.job_id, "w2", taken.attempts)
    assert store.add_version(record, b"mine", VersionPoints(), serve=True, lease=holder) == 1
    assert store.finish_job(lease.job_id, "succeeded", 1, lease=holder).status == "succeeded"
    assert store.heartbeat(holder) is False  # finished: nothing to renew


def test_a_finished_job_cannot_be_finished_again_under_its_lease(store):
    lease = claimed(store, "w1")
    store.finish_job(lease.job_id, "failed", None, "boom", lease=lease)
    with pytest.raises(LeaseLost):
        store.finish_job(lease.job_id, "succeeded", 3, lease=lease)
    assert store.get_job(lease.job_id).status == "failed"


def test_series_names_page_without_reading_observations(store):
    for name in ("c", "b", "d"):
        store.create_series(name, name.upper(), "u")
    assert store.series_names(2) == [("a", "A"), ("b", "B")]
    assert store.series_names(2, after="b") == [("c", "C"), ("d", "D")]
    assert store.series_names(2, after="d") == []


def test_a_store_reports_its_schema_migrations(store_url):
    s = open_store(store_url)
    assert s.schema_version() == LATEST
    s.close()
    again = open_store(store_url)  # nothing left to apply
    assert again.migrated == [] and again.schema_version() == LATEST
    again.close()


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


def test_a_lost_postgresql_connection_is_replaced_not_kept(postgres):
    """A connection the server closed is answered 503 once, then replaced: the closed one
    is dropped, not kept until the store closes (a store reconnecting all day would
    otherwise hold every dead connection it ever had)."""
    import psycopg

    from exportcast.service.store import StoreUnavailable

    name = f"t{uuid.uuid4().hex[:12]}"
    store = open_store(postgres.new_database(name))
    store.create_series("a", "A", "u")
    for _ in range(3):
        assert store.open_connections() == 1
        with psycopg.connect(postgres.url("postgres"), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        with pytest.raises(StoreUnavailable):
            store.get_series("a")
        assert store.get_series("a").id == "a"  # a new connection
    assert store.open_connections() == 1
    store.close()


def test_a_lapsed_lease_is_lost_even_when_the_same_worker_claims_the_job_again(store):
    """A worker whose run lost its lease (the store was away longer than a lease) and which
    then claims the same job again in another slot: the old run holds nothing."""
    lease = claimed(store, "w1")
    time.sleep(0.02)
    again = store.claim_job("w1", lease_seconds=0.01, backoff_seconds=0)
    again = again or store.claim_job("w1", lease_seconds=60, backoff_seconds=0)
    assert again.id == lease.job_id and again.attempts == lease.attempt + 1
    assert store.heartbeat(lease) is False
    record = VersionRecord("a", 0, stamp(datetime.now(UTC)), 5, "ets", ("ets",), "d", 0.1)
    with pytest.raises(LeaseLost):
        store.add_version(record, b"old run", VersionPoints(), serve=True, lease=lease)
    assert store.heartbeat(Lease(again.id, "w1", again.attempts)) is True


def test_a_hierarchy_version_made_for_an_old_declaration_is_not_stored(store):
    from exportcast.service.store import HierarchyRecord

    store.create_series("b", "B", "u")
    store.create_series("c", "C", "u")
    old = HierarchyRecord("h", "a", {"b": "b"})
    store.put_hierarchy(old)
    store.put_hierarchy(HierarchyRecord("h", "a", {"b": "b", "c": "c"}))  # changed meanwhile
    assert store.add_hierarchy_version("h", "k1", 5, {"nodes": ["b"]}, old.spec()) is None
    assert store.get_hierarchy("h").version is None
    now = store.get_hierarchy("h").spec()
    assert store.add_hierarchy_version("h", "k2", 5, {"nodes": ["b", "c"]}, now) == 1
