"""A new series is served at once from the pooled prior; its own backtest fits are made in
an idle slot and a refined version follows, learned from them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from exportcast.models.datasets import load_bundled
from exportcast.models.series import format_month
from exportcast.service.main import create_app
from tests.service_helpers import AUTH, settings_for, wait_for, wait_job


def test_a_new_series_is_served_from_the_prior_then_refined_by_its_own_backtests(tmp_path):
    gs = load_bundled("us-exports-gs")
    rows = [
        {"month": format_month(gs.start + i), "value": float(v)}
        for i, v in enumerate(gs.values)
        if 2010 * 12 <= gs.start + i < 2019 * 12
    ]
    settings = settings_for(
        tmp_path,
        bootstrap=False,
        prefetch=True,
        quick_versions=True,
        track_after_idle_seconds=600,
        cache_dir=tmp_path / "cache",  # cold: the run's shared cache may hold this series' fits
    )
    with TestClient(create_app(settings)) as client:
        created = client.post(
            "/v1/series", json={"id": "gs", "name": "US G&S", "unit": "USD millions"}, headers=AUTH
        )
        assert created.status_code == 201
        job = client.post("/v1/series/gs/observations", json={"observations": rows}, headers=AUTH)
        assert wait_job(client, job.json()["job"]["id"], timeout=300)["status"] == "succeeded"
        first = client.get("/v1/series/gs/models").json()["versions"][-1]
        assert first["version"] == 1
        learned = first["learned"]
        # Nothing cached yet: the prior alone, and the fits it did without are counted.
        assert learned["fits_missing"] > 0 and learned["own_cases"] == 0
        assert learned["prior"]["pseudo_cases"]

        def refined():
            versions = client.get("/v1/series/gs/models").json()["versions"]
            return versions[0] if versions[0]["version"] >= 2 else None

        second = wait_for(refined, timeout=300, every=0.5)
        assert second["data_through"] == first["data_through"]  # same data, learned further
        assert second["learned"]["fits_missing"] == 0
        assert second["learned"]["own_cases"] > 0
        assert second["learned"]["expected_error"]["n"] > 0
        forecast = client.get("/v1/series/gs/forecast").json()
        assert forecast["model_version"] == second["version"]

        # The version from the prior alone serves as any other does.
        assert client.post("/v1/series/gs/models/1/activate", headers=AUTH).status_code == 200

        def serving_first():
            body = client.get("/v1/series/gs/forecast").json()
            return body if body.get("model_version") == 1 else None

        body = wait_for(serving_first, timeout=30)
        assert body["years"][0]["median"] > 0 and body["weights"]

        # No third version: the refined one did without nothing, so its idle work (this
        # month's fits, all there, then the next month's) queues no refinement.
        def third():
            return len(client.get("/v1/series/gs/models").json()["versions"]) > 2

        with pytest.raises(AssertionError, match="timed out"):
            wait_for(third, timeout=20, every=0.5)
