"""The track record and outside forecasts through the HTTP API, on the bundled series: the
official outlooks come bundled, references are stored all or nothing with their vintages,
and each year's record sets the model's projections, the actual and the outlooks side by
side, with where each outlook fell in the model's distribution at its date."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from fastapi.testclient import TestClient

from exportcast.models.datasets import load_bundled, load_bundled_references
from exportcast.models.prior.pooled import kernel_months
from exportcast.models.references import PERCENTILES, percentile_of
from exportcast.models.series import format_month
from exportcast.service.main import create_app
from tests.service_helpers import AUTH, settings_for, wait_for, wait_job, wait_ready

REFS = "/v1/series/kr-exports/references"
TRACK = "/v1/series/kr-exports/track-record"


@pytest.fixture
def client(data_dir):
    with TestClient(create_app(settings_for(data_dir))) as c:
        wait_ready(c, timeout=10)
        yield c


def stored(data_dir) -> int:
    with sqlite3.connect(data_dir / "exportcast.db") as db:
        return db.execute("SELECT COUNT(*) FROM outside_forecasts").fetchone()[0]


def test_the_official_outlooks_come_with_the_bundled_series(client):
    listed = client.get(REFS).json()["references"]
    bundled = load_bundled_references()
    assert len(listed) == len(bundled) == 11
    kita = next(r for r in listed if r["forecaster"] == "KITA" and r["year"] == 2026)
    assert (kita["published"], kita["value"]) == ("2025-12-05", 711000.0)
    assert "JoongAng" in kita["source"]


def test_references_are_stored_all_or_nothing_with_their_vintages(client, data_dir):
    row = {"forecaster": "MOTIE", "published": "2026-01-02", "year": 2026, "value": 750000.0}
    assert client.post(REFS, json={"references": [row]}).status_code == 401
    r = client.post(REFS, json={"references": [row]}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["new"] == [{"forecaster": "MOTIE", "published": "2026-01-02", "year": 2026}]
    first_seen = client.get(REFS).json()["references"][-1]["recorded_at"]
    again = client.post(REFS, json={"references": [row]}, headers=AUTH).json()
    assert again["unchanged"] and not again["new"]
    revised = client.post(
        REFS,
        content="forecaster,published,year,value,source\nMOTIE,2026-01-02,2026,760000,revised\n",
        headers={**AUTH, "content-type": "text/csv"},
    ).json()
    assert revised["revised"] == [{"forecaster": "MOTIE", "published": "2026-01-02", "year": 2026}]
    now = [r for r in client.get(REFS).json()["references"] if r["forecaster"] == "MOTIE"]
    assert [(r["value"], r["source"]) for r in now] == [(760000.0, "revised")]
    then = client.get(REFS, params={"as_of": first_seen}).json()["references"]
    assert [r["value"] for r in then if r["forecaster"] == "MOTIE"] == [750000.0]
    before = stored(data_dir)
    bad = [
        {**row, "published": "2999-01-01"},  # in the future
        {**row, "year": 2020},  # ended before it was published
        {**row, "forecaster": "  "},
        {**row, "value": -5},
        row,
        row,  # repeated
    ]
    r = client.post(REFS, json={"references": [{**row, "forecaster": "NEW"}, *bad]}, headers=AUTH)
    assert r.status_code == 422
    where = [e["where"] for e in r.json()["errors"]]
    assert where == [f"references[{i}]" for i in (1, 2, 3, 4, 6)]
    assert "in the future" in r.json()["errors"][0]["message"]
    assert stored(data_dir) == before  # nothing of the batch, not even its good first row


def test_the_current_years_record_has_the_live_version_and_the_outlooks(client):
    forecast = client.get("/v1/series/kr-exports/forecast").json()
    record = client.get(TRACK, params={"year": 2026}).json()
    assert record["actual"] is None  # 2026 is not complete
    live = [p for p in record["points"] if p["source"] == "live"]
    assert len(live) == 1 and live[0]["version"] == forecast["model_version"]
    assert live[0]["median"] == pytest.approx(forecast["years"][0]["median"], rel=1e-6)
    assert live[0]["intervals"]["80"] == pytest.approx(forecast["years"][0]["intervals"]["80"])
    assert live[0]["prob_at_least"] == forecast["years"][0]["prob_at_least"]
    # Before it, the backtest's projections of 2026 made in 2025 (data through 2025-07..11:
    # with data through September, the bundled series learns at the months known 7-11).
    backtest = [p for p in record["points"] if p["source"] == "backtest"]
    assert kernel_months(9) == [7, 8, 9, 10, 11]
    assert [p["data_through"] for p in backtest] == [f"2025-{m:02d}" for m in range(7, 12)]
    outlooks = {r["forecaster"]: r for r in record["references"]}
    assert set(outlooks) == {"KIET", "KITA", "Korea Eximbank", "Bank of Korea", "KDI"}
    # Each set against the latest point published before it: data through October for
    # KIET (24 November 2025), through November for the December outlooks.
    assert {k: r["model_data_through"] for k, r in outlooks.items()} == {
        "KIET": "2025-10",
        "KITA": "2025-11",
        "Korea Eximbank": "2025-11",
        "Bank of Korea": "2025-11",
        "KDI": "2025-11",
    }
    for r in outlooks.values():
        assert 0.5 <= r["percentile"] <= 99.5 and r["error_pct"] is None
    # A higher figure falls higher in the same distribution.
    assert outlooks["Bank of Korea"]["percentile"] > outlooks["KDI"]["percentile"]


def test_a_complete_years_record_scores_the_backtest_and_the_outlooks(client):
    record = client.get(TRACK, params={"year": 2025}).json()
    actual = float(load_bundled().values[-21:-9].sum())  # 2025-01 .. 2025-12
    assert record["actual"] == pytest.approx(actual, rel=1e-9)
    points = record["points"]
    assert {p["source"] for p in points} == {"backtest"}
    window = kernel_months(9)  # the months known learned at with data through September
    assert [p["data_through"] for p in points] == [
        f"{year}-{m:02d}" for year in (2024, 2025) for m in window
    ]
    for p in points:
        assert p["error_pct"] == pytest.approx(100 * (p["median"] - actual) / actual, abs=1e-3)
    assert [p["months_observed"] for p in points] == [0] * len(window) + window
    kiet = next(r for r in record["references"] if r["forecaster"] == "KIET")
    assert kiet["published"] == "2024-11-25" and kiet["model_data_through"] == "2024-10"
    assert kiet["error_pct"] == pytest.approx(100 * (700000 - actual) / actual, abs=1e-3)
    assert client.get(TRACK, params={"year": 1800}).status_code == 422
    assert client.get("/v1/series/nope/track-record", params={"year": 2025}).status_code == 404


def test_percentile_of_reads_a_distribution_by_its_percentiles():
    draws = np.random.default_rng(0).lognormal(13, 0.1, 100_000)
    q = np.percentile(draws, PERCENTILES)
    for p in (5, 25, 50, 90):
        assert percentile_of(q, np.percentile(draws, p)) == pytest.approx(p, abs=0.05)
    assert percentile_of(q, draws.min() / 2) == 0.5
    assert percentile_of(q, draws.max() * 2) == 99.5


def test_an_idle_slot_makes_the_backtest_track_record_at_every_months_known(tmp_path):
    """After a retrain, a free training slot backtests the other months-known groups too,
    so a year's record has a point at every month, not only at those learned at."""
    gs = load_bundled("us-exports-gs")
    rows = [
        {"month": format_month(gs.start + i), "value": float(v)}
        for i, v in enumerate(gs.values)
        if 2010 * 12 <= gs.start + i < 2019 * 12
    ]
    settings = settings_for(tmp_path, bootstrap=False, prefetch=True, track_after_idle_seconds=0)
    with TestClient(create_app(settings)) as client:
        assert (
            client.post(
                "/v1/series",
                json={"id": "gs", "name": "US G&S", "unit": "USD millions"},
                headers=AUTH,
            ).status_code
            == 201
        )
        job = client.post("/v1/series/gs/observations", json={"observations": rows}, headers=AUTH)
        assert wait_job(client, job.json()["job"]["id"], timeout=300)["status"] == "succeeded"

        def full():
            record = client.get("/v1/series/gs/track-record", params={"year": 2018}).json()
            backtest = [p for p in record["points"] if p["source"] == "backtest"]
            return backtest if len(backtest) == 24 else None

        backtest = wait_for(full, timeout=300, every=0.5)
    # Twelve origins in 2017 (the year before) and twelve in 2018, every months-known (the
    # record starts three years after the first the members could learn from, 2014).
    assert [p["months_observed"] for p in backtest] == [0] * 12 + list(range(12))
    months = [p["data_through"] for p in backtest]
    assert months == sorted(months) and len(set(months)) == 24
    assert months[0] == "2016-12" and months[-1] == "2018-11"
