"""Markets over the API: the bundled destinations loaded at start, the markets read from
the served version's paths (regions adding up to the total), posted rows checked whole and
kept with their vintages, and a stamp that changes the body when the rows change."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from fastapi.testclient import TestClient

from exportcast.service.main import create_app
from exportcast.service.serving.markets import MarketsQuery
from tests.service_helpers import AUTH, settings_for, wait_for

SERIES = "kr-exports"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("markets")


@pytest.fixture(scope="module")
def client(data_dir):
    with TestClient(create_app(settings_for(data_dir, model="snaive", n_paths=400))) as c:
        wait_for(lambda: c.get(f"/v1/series/{SERIES}/forecast").status_code == 200, 120)
        yield c


def markets(client, **params):
    return client.get(f"/v1/series/{SERIES}/markets", params=params)


def test_the_served_versions_markets_are_made_when_it_is_activated(client):
    """The default body is made at activation (and start), not by the first read."""
    bodies = client.app.state.market_bodies
    served = client.app.state.active.get(SERIES)
    stamp = client.app.state.store.destinations_stamp(SERIES)
    # made just after the version is installed, off the request path: no read asked yet
    assert wait_for(lambda: bodies.cached(served, stamp, MarketsQuery()) is not None, 10)


def test_the_bundled_destinations_are_loaded_and_served_as_markets(client):
    rows = client.get(f"/v1/series/{SERIES}/destinations").json()["destinations"]
    assert len(rows) == 6470
    answer = markets(client, targets="china<0.18,asean+eu>0.3333")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    forecast = client.get(f"/v1/series/{SERIES}/forecast").json()
    assert body["model_version"] == forecast["model_version"]
    assert body["newest_composition"] == "2025-07..2026-06"
    assert [r["id"] for r in body["regions"]][:3] == ["china", "united_states", "asean"]
    years = body["years"]
    assert [y["year"] for y in years] == [y["year"] for y in forecast["years"]]
    first = years[0]
    # the year's total is the total's own forecast (the same paths)
    assert first["total"]["median"] == pytest.approx(forecast["years"][0]["median"], rel=1e-6)
    # the regions' medians of exports are near their shares times the total's median
    china = first["regions"]["china"]
    assert china["exports"]["median"] == pytest.approx(
        china["share"]["median"] * first["total"]["median"], rel=0.05
    )
    shares = [first["regions"][r["id"]]["share"]["median"] for r in body["regions"]]
    assert sum(shares) == pytest.approx(1.0, abs=0.01)
    assert body["coherence"]["largest_relative_gap"] < 1e-12
    assert [t["target"] for t in first["targets"]] == ["china<0.18", "asean+eu>0.3333"]
    assert all(0 <= t["probability"] <= 1 for t in first["targets"])
    published = {p["period"]: p for p in body["published"]}
    assert published["2024"]["shares"]["eu"] is None  # never invented
    assert published["2023"]["herfindahl"] > 0


def test_one_year_a_repeat_and_its_304(client):
    body = markets(client, year=2027).json()
    assert [y["year"] for y in body["years"]] == [2027]
    again = markets(client, year=2027)
    assert again.content == markets(client, year=2027).content
    tag = again.headers["etag"]
    assert markets(client, year=2027).headers["etag"] == tag
    unchanged = client.get(
        f"/v1/series/{SERIES}/markets", params={"year": 2027}, headers={"If-None-Match": tag}
    )
    assert unchanged.status_code == 304 and unchanged.content == b""


@pytest.mark.parametrize(
    "params, words",
    [
        ({"targets": "mars<0.2"}, "unknown region 'mars'"),
        ({"targets": "china<2"}, "between 0 and 1"),
        ({"year": 2090}, "year: 2090 is not between"),
        ({"levels": "80,120"}, "levels"),
        ({"years": 0}, "years"),
    ],
)
def test_bad_questions_are_named(client, params, words):
    answer = markets(client, **params)
    assert answer.status_code == 422 and words in answer.text


def count_rows(data_dir) -> int:
    with sqlite3.connect(data_dir / "exportcast.db") as db:
        return db.execute("SELECT COUNT(*) FROM destinations").fetchone()[0]


def test_a_bad_batch_is_refused_whole_and_names_each_row(client, data_dir):
    before = count_rows(data_dir)
    text = "period,destination,value\n2026-07,WORLD,97000\n2026-13,CHN,5\n2026-07,china,5\n"
    answer = client.post(
        f"/v1/series/{SERIES}/destinations",
        content=text,
        headers={**AUTH, "content-type": "text/csv"},
    )
    assert answer.status_code == 422
    assert [e["line"] for e in answer.json()["errors"]] == [3, 4]
    assert "not a calendar month" in answer.text and "ISO 3166" in answer.text
    bad_json = client.post(
        f"/v1/series/{SERIES}/destinations",
        json={"destinations": [{"period": "2026-07", "destination": "CHN"}]},
        headers=AUTH,
    )
    assert bad_json.status_code == 422 and "destinations[0]" in bad_json.text
    assert count_rows(data_dir) == before
    refused = client.post(
        f"/v1/series/{SERIES}/destinations",
        json={"destinations": [{"period": "2026-07", "destination": "CHN", "value": 1}]},
    )
    assert refused.status_code == 401 and count_rows(data_dir) == before


def test_new_rows_and_a_revision_change_the_markets_and_keep_the_old_vintage(client):
    before = markets(client)
    old = before.json()
    months = [f"2026-{m:02d}" for m in range(7, 10)]
    rows = [{"period": m, "destination": "WORLD", "value": 100_000.0} for m in months]
    rows += [{"period": m, "destination": "TWN", "value": 15_000.0} for m in months]
    posted = client.post(
        f"/v1/series/{SERIES}/destinations", json={"destinations": rows}, headers=AUTH
    )
    assert posted.status_code == 200, posted.text
    assert posted.json()["accepted"] == 6 and len(posted.json()["new"]) == 6
    # the twelve months to September list Taiwan alone: they cannot be a composition, so
    # the newest stays the twelve months to June
    after = markets(client).json()
    assert after["newest_composition"] == "2025-07..2026-06"
    assert after["destinations_as_of"] != old["destinations_as_of"]
    assert markets(client).headers["etag"] != before.headers["etag"]
    # a revision keeps the earlier value as a vintage
    revised = client.post(
        f"/v1/series/{SERIES}/destinations",
        json={"destinations": [{"period": "2026-07", "destination": "TWN", "value": 16_000.0}]},
        headers=AUTH,
    ).json()
    assert revised["revised"] == [{"period": "2026-07", "destination": "TWN"}]
    listed = client.get(f"/v1/series/{SERIES}/destinations").json()["destinations"]
    twn = [r for r in listed if r["period"] == "2026-07" and r["destination"] == "TWN"]
    assert [r["value"] for r in twn] == [16_000.0]
    then = client.get(
        f"/v1/series/{SERIES}/destinations", params={"as_of": posted_time(listed)}
    ).json()["destinations"]
    assert all(r["destination"] != "TWN" or r["period"] < "2026-07" for r in then)
    assert np.isfinite(after["years"][0]["regions"]["taiwan"]["share"]["median"])


def posted_time(listed) -> str:
    """A moment before anything this module posted: the bundled rows' time."""
    return min(r["recorded_at"] for r in listed)


def test_a_series_without_destinations_says_how_to_add_them(client):
    created = client.post(
        "/v1/series",
        json={"id": "no-markets", "name": "x", "unit": "USD millions"},
        headers=AUTH,
    )
    assert created.status_code in (200, 201), created.text
    answer = client.get("/v1/series/no-markets/markets")
    assert answer.status_code in (404, 409)
    assert client.get("/v1/series/nowhere/markets").status_code == 404
