"""Faults injected into the SQLite store, at the store and through the service: a removed,
replaced, read-only or corrupt file is refused with its reason (503 over HTTP), nothing is
acknowledged that was not stored, and a lost store is never replaced by an empty or
bootstrapped one. A backup restores what was there."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest
from fastapi.testclient import TestClient

from exportcast.models.datasets import load_bundled_flashes
from exportcast.models.series import Observation, parse_month
from exportcast.service.cli.main import main
from exportcast.service.config import get_settings
from exportcast.service.main import create_app
from exportcast.service.store import StoreUnavailable
from exportcast.service.store.sqlite import SQLiteStore, marker_of
from tests.service_helpers import AUTH, settings_for, wait_ready


def obs(month: str, value: float) -> Observation:
    return Observation(parse_month(month), value)


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path / "db.sqlite")
    s.create_series("a", "A", "u")
    s.ingest("a", [obs("2020-01", 1)])
    yield s
    s.close()


def test_a_removed_file_refuses_writes_and_is_never_made_again(store, tmp_path):
    path = tmp_path / "db.sqlite"
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    assert "removed while running" in store.check()
    with pytest.raises(StoreUnavailable, match="removed"):
        store.ingest("a", [obs("2020-02", 2)])
    with pytest.raises(StoreUnavailable):
        store.observations("a")
    # Opening it again would have made an empty store: the marker says one was there.
    with pytest.raises(StoreUnavailable, match="restore it from a backup"):
        SQLiteStore(path)
    assert not path.exists()


def test_a_replaced_file_is_noticed(store, tmp_path):
    path = tmp_path / "db.sqlite"
    other = SQLiteStore(tmp_path / "other.sqlite")
    other.close()
    os.replace(tmp_path / "other.sqlite", path)
    assert "replaced" in store.check()
    with pytest.raises(StoreUnavailable, match="replaced"):
        store.ingest("a", [obs("2020-02", 2)])
    # The service stops; started again (the old file's -wal and -shm gone with it, as a
    # restore must do), it refuses the other store's file.
    store.close()
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    with pytest.raises(StoreUnavailable, match="another store's file"):
        SQLiteStore(path)


def test_a_read_only_file_refuses_writes_but_serves_reads(store, tmp_path):
    path = tmp_path / "db.sqlite"
    path.chmod(0o444)
    try:
        assert "read-only" in store.check()
        with pytest.raises(StoreUnavailable, match="read-only"):
            store.ingest("a", [obs("2020-02", 2)])
        assert [o.value for o in store.observations("a")] == [1]
    finally:
        path.chmod(0o644)
    store.ingest("a", [obs("2020-02", 2)])
    assert store.check() is None


def test_corrupt_pages_are_reported(tmp_path):
    path = tmp_path / "db.sqlite"
    s = SQLiteStore(path)
    s.create_series("a", "A", "u")
    s.ingest("a", [obs("2000-01", 1.0 + k) for k in range(1)])
    rows = [obs(f"{2000 + k // 12}-{k % 12 + 1:02d}", 1.0 + k) for k in range(1, 3000)]
    s.ingest("a", rows)
    s.close()
    with sqlite3.connect(path) as db:  # fold the WAL into the file, then damage it
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size // 2)
        f.write(os.urandom(8192))
    s = SQLiteStore(path)
    try:
        problem = s.check()
        assert problem is not None
        assert "corrupt" in problem or "malformed" in problem
    finally:
        s.close()


@pytest.fixture
def client(data_dir):
    with TestClient(create_app(settings_for(data_dir))) as c:
        wait_ready(c, timeout=10)
        yield c


def test_the_service_answers_503_with_the_reason_and_keeps_serving_reads(client, data_dir):
    db = data_dir / "exportcast.db"
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    r = client.post(
        "/v1/series/kr-exports/observations",
        json={"observations": [{"month": "2026-10", "value": 80500}]},
        headers=AUTH,
    )
    assert r.status_code == 503 and "removed while running" in r.json()["detail"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "removed" in ready.json()["reasons"][0]
    # What was computed when the version was activated is still served.
    assert client.get("/v1/series/kr-exports/forecast").status_code == 200
    assert client.get("/v1/series/kr-exports/observations").status_code == 503
    assert not db.exists()  # nothing made a new, empty file


def test_a_restart_on_a_lost_store_refuses_to_start_instead_of_bootstrapping(data_dir):
    (data_dir / "exportcast.db").unlink()
    with (
        pytest.raises(StoreUnavailable, match="restore it from a backup"),
        TestClient(create_app(settings_for(data_dir))),
    ):
        pass
    assert not (data_dir / "exportcast.db").exists()


def test_a_backup_restores_every_month_vintage_flash_job_and_version(
    data_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("EXPORTCAST_DATA_DIR", str(data_dir))
    get_settings.cache_clear()

    def everything(c: TestClient) -> dict:
        series = "/v1/series/kr-exports"
        first_seen = c.get(f"{series}/observations").json()["observations"][0]["recorded_at"]
        return {
            "observations": c.get(f"{series}/observations").json()["observations"],
            "vintage": c.get(f"{series}/observations", params={"as_of": first_seen}).json(),
            "flashes": c.get(f"{series}/flashes").json()["flashes"],
            "versions": c.get(f"{series}/models").json()["versions"],
            "job": c.get("/v1/jobs/1").json(),
            "forecast": c.get(f"{series}/forecast").json(),
        }

    try:
        with TestClient(create_app(settings_for(data_dir), run_jobs=False)) as c:
            wait_ready(c, timeout=10)
            # A revision (so a vintage) and a flash, then the copy, while serving.
            r = c.post(
                "/v1/series/kr-exports/observations",
                json={"observations": [{"month": "2026-09", "value": 87900.0}]},
                headers=AUTH,
            )
            assert r.json()["revised_months"] == ["2026-09"]
            row = {"month": "2026-10", "period": "d1_10", "value": 27000.0}
            flashed = c.post("/v1/series/kr-exports/flashes", json={"flashes": [row]}, headers=AUTH)
            assert flashed.status_code == 202
            before = everything(c)
            copy = tmp_path / "backup.db"
            assert main(["backup", str(copy)]) == 0
            assert main(["backup", str(copy)]) == 2  # never over an existing file
        bundled = len(load_bundled_flashes())
        assert len(before["flashes"]) == bundled + 1
        assert before["observations"][-1]["value"] == 87900.0
        # The store is lost; restored from the copy (and its stale WAL files removed).
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"exportcast.db{suffix}").unlink(missing_ok=True)
        shutil.copy(copy, data_dir / "exportcast.db")
        with TestClient(create_app(settings_for(data_dir), run_jobs=False)) as c:
            wait_ready(c, timeout=10)
            assert everything(c) == before
        assert marker_of(data_dir / "exportcast.db").exists()
        # A store frozen read-only can still be copied.
        (data_dir / "exportcast.db").chmod(0o444)
        assert main(["backup", str(tmp_path / "again.db")]) == 0
        (data_dir / "exportcast.db").chmod(0o644)
    finally:
        get_settings.cache_clear()


def test_the_number_of_series_is_bounded(data_dir):
    with TestClient(create_app(settings_for(data_dir, max_series=2))) as c:
        wait_ready(c, timeout=10)
        one = {"id": "one", "name": "One", "unit": "u"}
        assert c.post("/v1/series", json=one, headers=AUTH).status_code == 201
        r = c.post("/v1/series", json={**one, "id": "two"}, headers=AUTH)
        assert r.status_code == 409 and "EXPORTCAST_MAX_SERIES" in r.json()["detail"]
        assert [s["id"] for s in c.get("/v1/series").json()["series"]] == ["kr-exports", "one"]
        assert c.delete("/v1/series/one", headers=AUTH).status_code == 204
        assert c.post("/v1/series", json={**one, "id": "two"}, headers=AUTH).status_code == 201


def test_a_failing_poll_is_logged_once_not_four_times_a_second(caplog):
    import logging

    from exportcast.service.store.base import QuietRepeats

    quiet = QuietRepeats(logging.getLogger("exportcast.test"), every=60)
    with caplog.at_level(logging.ERROR, logger="exportcast.test"):
        for _ in range(20):
            quiet.failed("could not claim a job", StoreUnavailable("the store file x was removed"))
        quiet.failed("could not claim a job", StoreUnavailable("the store file x is read-only"))
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "could not claim a job: the store file x was removed",
        "could not claim a job: the store file x is read-only",
    ]
