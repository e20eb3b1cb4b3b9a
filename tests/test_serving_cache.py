"""What a service process keeps of the served versions is keyed by what makes a version
unique (series, number and creation time), never by the number alone: a series deleted and
created again numbers its versions from 1 again."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np
import pytest

from exportcast.models.series import Observation
from exportcast.models.simulation import Simulation
from exportcast.service import artifacts
from exportcast.service.serving.active import ActiveForecasts
from exportcast.service.serving.bodies import ForecastQuery
from exportcast.service.store import Conflict, StoreUnavailable
from exportcast.service.store.base import stamp, utc_now
from exportcast.service.store.connect import open_store
from exportcast.service.worker.retrain import version_of

START = 2020 * 12


def simulated(level: float, series_id: str = "s") -> Simulation:
    rng = np.random.default_rng(int(level))
    paths = level * (1 + rng.normal(0, 0.05, (200, 80)))
    return Simulation(series_id, "u", "ets", ("ets",), "d", START + 23, 0.0, paths)


def stored(store, sim: Simulation) -> int:
    sim = artifacts.as_stored(sim)
    record, points = version_of(sim, stamp(utc_now()))
    time.sleep(0.002)  # two versions made in one microsecond would share a stamp
    return store.add_version(record, artifacts.to_bytes(sim), points, serve=True)


@pytest.fixture
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield s
    s.close()


def new_series(store) -> None:
    store.create_series("s", "S", "u")
    store.ingest("s", [Observation(START + i, 100.0) for i in range(24)], queue_retrain=False)


def median_2022(body: bytes) -> float:
    import json

    years = json.loads(body)["years"]
    return next(y["median"] for y in years if y["year"] == 2022)


def test_a_series_made_again_never_gets_the_old_series_answers(store):
    new_series(store)
    stored(store, simulated(100.0))
    served = ActiveForecasts(store)
    served.sync()
    question = ForecastQuery("annual", years=3)
    old = served.response(served.get("s"), question)
    assert median_2022(old.content) == pytest.approx(1200, rel=0.05)
    # Deleted and created again between two polls, with a version 1 of its own.
    store.delete_series("s")
    new_series(store)
    stored(store, simulated(500.0))
    assert served.sync() == ["s"]
    now = served.get("s")
    assert now.version == 1
    default = now.default(now.default_query("annual"))
    assert median_2022(default.content) == pytest.approx(6000, rel=0.05)
    answer = served.response(now, question)
    assert answer.etag != old.etag
    assert median_2022(answer.content) == pytest.approx(6000, rel=0.05)


def test_a_series_made_again_with_nothing_served_yet_stops_serving_the_old(store):
    new_series(store)
    stored(store, simulated(100.0))
    served = ActiveForecasts(store)
    served.sync()
    store.delete_series("s")
    new_series(store)
    served.sync()
    assert served.get("s") is None


def test_a_version_that_cannot_load_is_logged_once_not_every_poll(store, caplog):
    new_series(store)
    stored(store, simulated(100.0))
    with store._write() as cur:  # its paths are lost: the bytes are not an artifact
        cur.execute("UPDATE model_versions SET artifact = ? WHERE series_id = 's'", (b"junk",))
    served = ActiveForecasts(store)
    with caplog.at_level(logging.ERROR, logger="exportcast.active"):
        for _ in range(5):
            served.sync()
    assert len([r for r in caplog.records if "could not load" in r.message]) == 1
    assert served.get("s") is None
    stored(store, simulated(300.0))  # another version served: tried, and loaded
    assert served.sync() == ["s"] and served.get("s").version == 2


def test_a_question_to_a_version_replaced_meanwhile_is_a_conflict_not_another_answer(store):
    new_series(store)
    stored(store, simulated(100.0))
    served = ActiveForecasts(store)
    served.sync()
    old = served.get("s")
    store.delete_series("s")
    new_series(store)
    stored(store, simulated(500.0))  # version 1 again, of another series
    served._paths.clear()  # its paths let go: a question reads them back
    with pytest.raises(Conflict, match="replaced meanwhile"):
        served.response(old, ForecastQuery("annual", years=3))


def test_a_store_outage_while_loading_is_tried_again_at_the_next_poll(store, monkeypatch):
    new_series(store)
    stored(store, simulated(100.0))
    served = ActiveForecasts(store)
    real = store.artifact

    def away(*args, **kwargs):
        raise StoreUnavailable("the database cannot be used: connection refused")

    monkeypatch.setattr(store, "artifact", away)
    with pytest.raises(StoreUnavailable):
        served.sync()
    monkeypatch.setattr(store, "artifact", real)
    assert served.sync() == ["s"] and served.get("s").version == 1


def test_a_version_this_process_is_storing_is_installed_from_memory_not_read_back(
    store, monkeypatch
):
    new_series(store)
    served = ActiveForecasts(store)
    reads = []
    real = store.artifact
    monkeypatch.setattr(store, "artifact", lambda *a: reads.append(a) or real(*a))
    sim = artifacts.as_stored(simulated(100.0))
    record, points = version_of(sim, stamp(utc_now()))
    served.expect("s")
    number = store.add_version(record, artifacts.to_bytes(sim), points, serve=True)
    assert served.sync() == []  # the poll between the store and the install leaves it
    served.install(sim, replace(record, version=number), ())
    assert served.get("s").version == 1 and served.sync() == [] and reads == []
    served.expect("s", seconds=0.0)  # an expectation that lapsed: the poll loads it
    stored(store, simulated(200.0))
    assert served.sync() == ["s"] and len(reads) == 1
