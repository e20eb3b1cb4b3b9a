"""What lets the service hold many series: paginated listing, paths kept for a bounded
number of versions, and several retrains at once, each in its own training process."""

from __future__ import annotations

import os
import time
from pathlib import Path

from fastapi.testclient import TestClient

from exportcast.service.main import create_app
from exportcast.service.worker.retrain import TrainRequest, train
from tests.service_helpers import AUTH, settings_for, wait_job, wait_ready


def copy_series(client: TestClient, new_id: str, months: int = 84) -> dict:
    """A new series holding the bundled series' last `months` months; its retrain job."""
    rows = client.get("/v1/series/kr-exports/observations").json()["observations"][-months:]
    assert client.post(
        "/v1/series", json={"id": new_id, "name": new_id, "unit": "USD"}, headers=AUTH
    ).is_success
    body = {"observations": [{"month": r["month"], "value": r["value"]} for r in rows]}
    answer = client.post(f"/v1/series/{new_id}/observations", json=body, headers=AUTH)
    assert answer.status_code == 202, answer.text
    return answer.json()["job"]


def test_the_series_list_comes_in_pages_that_follow_on(data_dir):
    with TestClient(create_app(settings_for(data_dir), run_jobs=False)) as client:
        for name in ("a-1", "b-2", "c-3", "d-4"):
            assert client.post(
                "/v1/series", json={"id": name, "name": name, "unit": "u"}, headers=AUTH
            ).is_success
        seen, url, pages = [], "/v1/series?limit=2", 0
        while url:
            page = client.get(url).json()
            seen += [s["id"] for s in page["series"]]
            url, pages = page["next"], pages + 1
        assert seen == ["a-1", "b-2", "c-3", "d-4", "kr-exports"] and pages == 3
        whole = client.get("/v1/series").json()
        assert [s["id"] for s in whole["series"]] == seen and whole["next"] is None
        assert client.get("/v1/series?limit=0").status_code == 422
        assert client.get("/v1/series?limit=1001").status_code == 422
        assert client.get("/v1/series?after=Not%20an%20id").status_code == 422


def test_paths_evicted_from_memory_are_read_back_with_the_same_answer(data_dir):
    settings = settings_for(data_dir, loaded_versions=1)
    with TestClient(create_app(settings)) as client:
        wait_ready(client, timeout=10)
        job = copy_series(client, "kr-recent")
        assert wait_job(client, job["id"], timeout=300)["status"] == "succeeded"
        forecasts = client.app.state.active
        # Only the version trained last keeps its paths: kr-exports' were let go.
        assert [stamp.series_id for stamp in forecasts._paths] == ["kr-recent"]
        asked = client.get("/v1/series/kr-exports/forecast?years=3&levels=50")
        assert asked.status_code == 200
        assert [stamp.series_id for stamp in forecasts._paths] == ["kr-exports"]
    with TestClient(create_app(settings_for(data_dir))) as fresh:
        again = fresh.get("/v1/series/kr-exports/forecast?years=3&levels=50")
        assert again.content == asked.content and again.headers["etag"] == asked.headers["etag"]


def marking_train(request: TrainRequest):
    """`train`, leaving the time it started and ended in the marks folder."""
    marks = Path(os.environ["EXPORTCAST_TEST_MARKS"])
    started = time.time()
    time.sleep(1.0)  # long enough that two slots visibly overlap
    sim = train(request)
    (marks / f"{request.series.id}.txt").write_text(f"{started} {time.time()}")
    return sim


def crash_one(request: TrainRequest):
    if request.series.id == "kr-doomed":
        os._exit(3)
    return train(request)


def test_two_slots_retrain_two_series_at_once(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPORTCAST_TEST_MARKS", str(tmp_path))  # the spawned workers see it
    app = create_app(settings_for(data_dir, train_slots=2), train_fn=marking_train)
    with TestClient(app) as client:
        wait_ready(client, timeout=10)
        jobs = [copy_series(client, name) for name in ("kr-one", "kr-two")]
        for job in jobs:
            assert wait_job(client, job["id"], timeout=300)["status"] == "succeeded"
    (a0, a1), (b0, b1) = (
        map(float, (tmp_path / f"{name}.txt").read_text().split()) for name in ("kr-one", "kr-two")
    )
    assert a0 < b1 and b0 < a1  # the two retrains overlapped in time


def test_a_crash_in_one_slot_leaves_the_job_beside_it_alone(data_dir):
    app = create_app(settings_for(data_dir, train_slots=2), train_fn=crash_one)
    with TestClient(app) as client:
        wait_ready(client, timeout=10)
        doomed, fine = copy_series(client, "kr-doomed"), copy_series(client, "kr-fine")
        failed = wait_job(client, doomed["id"], timeout=300)
        assert failed["status"] == "failed" and "crashed" in failed["error"]
        assert wait_job(client, fine["id"], timeout=300)["status"] == "succeeded"
        assert client.get("/v1/series/kr-fine/forecast").status_code == 200


def test_responses_for_other_parameters_share_one_bounded_cache(data_dir):
    with TestClient(create_app(settings_for(data_dir, response_cache_size=2))) as client:
        wait_ready(client, timeout=10)
        forecasts = client.app.state.active
        asked = [
            client.get("/v1/series/kr-exports/forecast?years=2"),
            client.get("/v1/series/kr-exports/forecast?years=3"),
            client.get("/v1/series/kr-exports/forecast/monthly?horizon=6"),
        ]
        assert all(r.status_code == 200 for r in asked)
        assert len(forecasts._responses) == 2  # the oldest was let go
        again = client.get("/v1/series/kr-exports/forecast?years=2")
        assert again.content == asked[0].content  # made again, the same bytes
