"""Flashes through the HTTP API, on the bundled series: stored all or nothing with their
vintages, behind the token, and used by the next version for the month after the last."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from exportcast.models.datasets import load_bundled_flashes
from exportcast.service.main import create_app
from tests.service_helpers import AUTH, settings_for, wait_job, wait_ready

URL = "/v1/series/kr-exports/flashes"


@pytest.fixture
def client(data_dir):
    with TestClient(create_app(settings_for(data_dir))) as c:
        wait_ready(c, timeout=10)
        yield c


def flash_rows(data_dir) -> int:
    with sqlite3.connect(data_dir / "exportcast.db") as db:
        return db.execute("SELECT COUNT(*) FROM flashes").fetchone()[0]


def test_the_bundled_series_comes_with_its_flashes_and_calendar(client):
    listed = client.get(URL).json()["flashes"]
    assert len(listed) == len(load_bundled_flashes())
    assert listed[-1]["month"] == "2026-09" and listed[-1]["period"] == "d1_20"
    assert client.get("/v1/series/kr-exports").json()["country"] == "KR"
    # Every bundled flash's month is published: none is used, none is claimed.
    assert client.get("/v1/series/kr-exports/forecast").json()["flash"] is None


def test_a_flash_sharpens_the_next_version_until_its_month_arrives(client, data_dir):
    before = client.get("/v1/series/kr-exports/forecast").json()
    r = client.post(
        URL,
        json={"flashes": [{"month": "2026-10", "period": "d1_20", "value": 62000}]},
        headers=AUTH,
    )
    assert r.status_code == 202, r.text
    assert r.json()["new"] == [{"month": "2026-10", "period": "d1_20"}]
    job = wait_job(client, r.json()["job"]["id"])
    assert job["status"] == "succeeded", job
    body = client.get("/v1/series/kr-exports/forecast").json()
    assert body["model_version"] == job["model_version"]
    flash = body["flash"]
    assert flash["month"] == "2026-10" and flash["period"] == "d1_20" and flash["used"]
    assert flash["history_months"] == 129 and flash["value"] == 62000
    before_lo, before_hi = flash["month_before"]["intervals"]["80"]
    after_lo, after_hi = flash["month_after"]["intervals"]["80"]
    assert after_hi - after_lo < 0.7 * (before_hi - before_lo)
    lo, hi = flash["implied"]["intervals"]["80"]
    assert lo < flash["implied"]["median"] < hi
    y0, y1 = before["years"][0], body["years"][0]
    assert y1["intervals"]["80"][1] - y1["intervals"]["80"][0] < (
        y0["intervals"]["80"][1] - y0["intervals"]["80"][0]
    )
    # June's full figure supersedes the flash: the next version uses none, both are kept.
    r = client.post(
        "/v1/series/kr-exports/observations",
        json={"observations": [{"month": "2026-10", "value": 88000}]},
        headers=AUTH,
    )
    assert wait_job(client, r.json()["job"]["id"])["status"] == "succeeded"
    after = client.get("/v1/series/kr-exports/forecast").json()
    assert after["data_through"] == "2026-10" and after["flash"] is None
    assert client.get(URL).json()["flashes"][-1]["month"] == "2026-10"


def test_a_revised_flash_keeps_its_earlier_vintage(client):
    row = {"month": "2026-10", "period": "d1_10", "value": 27000}
    first = client.post(URL, json={"flashes": [row]}, headers=AUTH).json()
    assert first["new"] and not first["revised"]
    first_seen = client.get(URL).json()["flashes"][-1]["recorded_at"]
    again = client.post(URL, json={"flashes": [row]}, headers=AUTH).json()
    assert again["unchanged"] == [{"month": "2026-10", "period": "d1_10"}]
    assert again["job"] is None  # nothing changed, nothing to retrain
    revised = client.post(URL, json={"flashes": [{**row, "value": 27500}]}, headers=AUTH).json()
    assert revised["revised"] == [{"month": "2026-10", "period": "d1_10"}]
    assert client.get(URL).json()["flashes"][-1]["value"] == 27500
    then = client.get(URL, params={"as_of": first_seen}).json()["flashes"][-1]
    assert then["month"] == "2026-10" and then["value"] == 27000


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"flashes": [{"month": "2026-12", "period": "d1_10", "value": 1}]}, "past 2026-10"),
        ({"flashes": [{"month": "2026-10", "period": "d1_15", "value": 1}]}, "d1_10, d1_20"),
        ({"flashes": [{"month": "2026-10", "period": "d1_10", "value": -3}]}, "must be > 0"),
        ({"flashes": [{"month": "2026-10", "period": "d1_10", "value": "1e400"}]}, "above"),
        ({"flashes": [{"month": "2026-10", "value": 1}]}, '"period"'),
        ({"observations": []}, 'body must be {"flashes"'),
        (
            {
                "flashes": [
                    {"month": "2026-10", "period": "d1_10", "value": 30000},
                    {"month": "2026-10", "period": "d1_20", "value": 20000},
                ]
            },
            "below its d1_10",
        ),
        ({"flashes": [{"month": "2026-09", "period": "d1_20", "value": 1}]}, "below d1_10"),
    ],
)
def test_bad_flashes_are_named_and_nothing_is_stored(client, data_dir, body, named):
    stored = flash_rows(data_dir)
    r = client.post(URL, json=body, headers=AUTH)
    assert r.status_code == 422, r.text
    assert named in " ".join(p["message"] for p in r.json()["errors"])
    assert flash_rows(data_dir) == stored


def test_flashes_need_the_token_and_a_known_series(client, data_dir):
    stored = flash_rows(data_dir)
    row = {"flashes": [{"month": "2026-10", "period": "d1_10", "value": 27000}]}
    assert client.post(URL, json=row).status_code == 401
    assert client.post(URL, json=row, headers={"Authorization": "Bearer no"}).status_code == 403
    assert client.post("/v1/series/nope/flashes", json=row, headers=AUTH).status_code == 404
    assert flash_rows(data_dir) == stored


def test_flashes_as_csv(client):
    text = "month,period,value\n2026-10,d1_10,27000\n2026-10,d1_20,61000\n"
    r = client.post(URL, content=text, headers={**AUTH, "Content-Type": "text/csv"})
    assert r.status_code == 202, r.text
    assert len(r.json()["new"]) == 2
    bad = "month,period,value\n2026-10,d1_10,abc\n"
    r = client.post(URL, content=bad, headers={**AUTH, "Content-Type": "text/csv"})
    assert r.status_code == 422 and r.json()["errors"][0]["line"] == 2


def test_a_series_is_created_with_a_country_only_if_it_has_a_calendar(client):
    ok = {"id": "vn", "name": "Viet Nam", "unit": "USD millions", "country": "VN"}
    assert client.post("/v1/series", json=ok, headers=AUTH).json()["country"] == "VN"
    bad = {**ok, "id": "zz", "country": "ZZ"}
    r = client.post("/v1/series", json=bad, headers=AUTH)
    assert r.status_code == 422 and "no holiday calendar" in r.text
