"""Versioned schema migrations: a store made by the release before them upgrades on open,
with every vintage, job, version and track point it held, and is served as it was.

`tests/fixtures/store-before-migrations.db` was written by that release's own store code
(main at 9953d1c): two series, a revised month, a flash, an outlook, a hierarchy with a
version, a finished job, a served model version with its projections and backtest points
inside its `info`, and a backtest track record.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from exportcast.models.series import format_month
from exportcast.service import artifacts
from exportcast.service.main import create_app
from exportcast.service.store.connect import open_store
from exportcast.service.store.migrations import LATEST, POSTGRES, baseline
from exportcast.service.store.sqlite import SQLiteStore
from tests.postgres_server import PostgresServer, require_postgres
from tests.service_helpers import settings_for

FIXTURE = Path(__file__).parent / "fixtures" / "store-before-migrations.db"


@pytest.fixture
def legacy(tmp_path) -> Path:
    target = tmp_path / "exportcast.db"
    shutil.copyfile(FIXTURE, target)
    return target


def test_a_store_of_the_last_release_upgrades_with_everything_it_held(legacy):
    store = SQLiteStore(legacy)
    assert store.migrated == list(range(1, LATEST + 1))
    assert store.schema_version() == LATEST
    # Vintages: the revised month keeps its first value as an earlier vintage.
    current = store.observations("kr-exports")
    assert len(current) == 26 and current[-1].value == 61500.0
    assert [f.period for f in store.flashes("kr-exports")] == ["d1_10"]
    assert [r.reference.forecaster for r in store.references("kr-exports")] == ["MOTIE"]
    assert store.get_job(1).status == "succeeded"
    assert store.track("kr-exports") == [{"year": 2025, "months_known": 3, "median": 1.0}]
    (hierarchy,) = store.hierarchies()
    assert hierarchy.version == 1 and hierarchy.items == {"semis": "kr-exports-semis"}
    # The version's record, typed: what it learned, apart from its shape and its points.
    (record,) = store.versions("kr-exports")
    assert record.learned == {"weights": {"ets": 1.0}}
    assert (record.n_paths, record.horizon) == (50, 70)
    live = store.projection("kr-exports", 1, 2026)
    assert live is not None and live["months_observed"] == 2
    backtest = [p for p in store.year_points("kr-exports", 2025) if p.source == "backtest"]
    assert [p.body["data_through"] for p in backtest] == ["2025-03"]
    # Its paths, stored in the old artifact format, read with the record.
    sim = artifacts.from_bytes(store.artifact("kr-exports", 1), record)
    assert sim.paths.shape == (50, 82) and sim.learned == {"weights": {"ets": 1.0}}
    store.close()
    again = SQLiteStore(legacy)  # a second open applies nothing
    assert again.migrated == []
    again.close()


def test_an_upgraded_store_is_served_as_it_was(legacy):
    settings = settings_for(legacy.parent, bootstrap=False)
    with TestClient(create_app(settings, run_jobs=False)) as client:
        forecast = client.get("/v1/series/kr-exports/forecast")
        assert forecast.status_code == 200, forecast.text
        assert forecast.json()["model_version"] == 1
        assert forecast.json()["data_through"] == format_month(2024 * 12 + 25)
        track = client.get("/v1/series/kr-exports/track-record", params={"year": 2026}).json()
        assert [p["source"] for p in track["points"]] == ["live"]
        assert track["references"][0]["forecaster"] == "MOTIE"
        versions = client.get("/v1/series/kr-exports/models").json()["versions"]
        assert versions[0]["learned"] == {"weights": {"ets": 1.0}}


def test_a_store_of_a_newer_release_is_refused(legacy):
    store = SQLiteStore(legacy)
    with store._write() as cur:
        cur.execute(
            "INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, ?, ?)",
            (LATEST + 7, "from the future", "2030-01-01T00:00:00.000000Z"),
        )
    store.close()
    with pytest.raises(RuntimeError, match="newer than this release knows"):
        SQLiteStore(legacy)


def test_a_postgresql_store_of_the_last_release_upgrades(tmp_path):
    """The same upgrade on PostgreSQL: the tables as the last release made them, with a
    version whose record was one JSON `info`, opened by this release."""
    require_postgres()
    import psycopg

    server = PostgresServer()
    server.start()
    try:
        url = server.new_database(f"m{uuid.uuid4().hex[:10]}")
        info = {
            "weights": {"ets": 1.0},
            "n_paths": 7,
            "horizon": 12,
            "projections": [{"year": 2026, "median": 3.0}],
            "track": [{"year": 2025, "data_through": "2025-04", "median": 2.0}],
        }
        with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:

            class Plain:  # the last release's DDL through a %s cursor
                def execute(self, text: str, params=()) -> None:
                    cur.execute(text, params)

                def __getattr__(self, name: str):
                    return getattr(cur, name)

            baseline(Plain(), POSTGRES)
            cur.execute(
                "INSERT INTO series (id, name, unit, targets, created_at) "
                "VALUES ('s', 'S', 'u', '[]', '2026-01-01T00:00:00.000000Z')"
            )
            cur.execute(
                "INSERT INTO model_versions VALUES ('s', 1, '2026-01-02T00:00:00.000000Z', "
                "24300, 'ets', '[\"ets\"]', 'd', 0.1, %s, %s)",
                (json.dumps(info), b"paths"),
            )
        store = open_store(url)
        assert store.migrated == list(range(1, LATEST + 1))
        (record,) = store.versions("s")
        assert (record.learned, record.n_paths, record.horizon) == (
            {"weights": {"ets": 1.0}},
            7,
            12,
        )
        assert store.projection("s", 1, 2026) == {"year": 2026, "median": 3.0}
        assert [p.source for p in store.year_points("s", 2025)] == ["backtest"]
        store.close()
    finally:
        server.stop()
