"""The HTTP API against the app in-process (httpx via TestClient), on real data."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from exportcast.models.datasets import load_bundled
from exportcast.service.main import create_app
from exportcast.service.serving.bodies import ForecastQuery, VersionStamp, etag_for
from tests.postgres_server import PostgresServer, require_postgres
from tests.service_helpers import (
    AUTH,
    crash,
    explode,
    scrape,
    settings_for,
    value,
    wait_job,
    wait_ready,
)


@pytest.fixture
def client(data_dir):
    with TestClient(create_app(settings_for(data_dir))) as c:
        wait_ready(c, timeout=10)
        yield c


def forecast(client, **params):
    return client.get("/v1/series/kr-exports/forecast", params=params)


def post(client, rows, headers=AUTH):
    return client.post(
        "/v1/series/kr-exports/observations", json={"observations": rows}, headers=headers
    )


def count_rows(data_dir: Path, table: str) -> int:
    with sqlite3.connect(data_dir / "exportcast.db") as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_first_start_is_not_ready_until_the_bundled_series_is_trained(tmp_path):
    with TestClient(create_app(settings_for(tmp_path))) as client:
        first = client.get("/readyz")
        assert first.status_code == 503
        assert "kr-exports" in " ".join(first.json()["reasons"])
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/v1/series/kr-exports/forecast").status_code == 409
        ready = wait_ready(client)
        assert ready["series"] == {"kr-exports": 1}
        listed = client.get("/v1/series").json()["series"]
        assert listed == [
            {
                "id": "kr-exports",
                "name": "South Korea goods exports (customs-clearance basis)",
                "unit": "USD millions",
                "targets": [700000.0, 1000000.0],
                "country": "KR",
                "first_month": "2000-01",
                "last_month": "2026-09",
                "n_observations": 321,
                "active_model_version": 1,
            }
        ]


def test_forecast_of_the_active_version(client):
    r = forecast(client)
    assert r.status_code == 200
    body = r.json()
    assert body["data_through"] == "2026-09" and body["model_version"] == 1
    y = body["years"][0]
    assert y["year"] == 2026 and y["months_observed"] == 9
    assert y["actual_to_date"] < y["intervals"]["95"][0] < y["median"] < y["intervals"]["95"][1]
    assert set(y["prob_at_least"]) == {"700000", "1000000"}
    assert [t["amount"] for t in body["targets"]] == [700000.0, 1000000.0]
    assert len(body["years"]) == 5 and body["generated_at"]


def test_ingest_retrains_and_the_new_version_is_served(client, data_dir):
    before = forecast(client)
    r = post(
        client, [{"month": "2026-09", "value": 81000.0}, {"month": "2026-10", "value": 80123.4}]
    )
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["accepted"] == 2
    assert accepted["new_months"] == ["2026-10"] and accepted["revised_months"] == ["2026-09"]
    # A revised month: `auto` learns again from ~200 backtest fits (110 s on a quiet 2-core
    # machine), so a generous wait.
    job = wait_job(client, accepted["job"]["id"], timeout=400)
    assert job["status"] == "succeeded", job
    assert job["model_version"] == 2 and job["started_at"] and job["finished_at"]
    after = forecast(client)
    assert after.json()["data_through"] == "2026-10"
    assert after.json()["model_version"] == 2
    assert after.headers["etag"] != before.headers["etag"]
    y2026 = after.json()["years"][0]
    assert y2026["months_observed"] == 10
    series = load_bundled()
    # the revision replaces September, October is added
    expected = series.year_to_date(2026)[1] - series.values[-1] + 81000.0 + 80123.4
    assert y2026["actual_to_date"] == pytest.approx(expected, abs=0.01)
    versions = client.get("/v1/series/kr-exports/models").json()["versions"]
    assert [(v["version"], v["active"], v["status"]) for v in versions] == [
        (2, True, "active"),
        (1, False, "standby"),
    ]  # newest first
    assert versions[0]["data_through"] == "2026-10"
    assert versions[0]["members"] == ["ets", "sarima", "growth", "theta"]
    # The version keeps the backtest it learned from; the forecast says what to expect.
    info = versions[0]["learned"]
    # The months known around 10 (data through October), as the kernel weighs them.
    assert set(info["backtest"]["mape_pct_by_m"]["auto"]) == {"8", "9", "10", "11"}
    assert after.json()["expected_error"]["m"] == 10
    assert 0 < after.json()["expected_error"]["mape_pct"] < 10
    # Each later year says how far its horizon was off in the backtest, at the same m.
    assert set(info["backtest"]["mape_pct_by_horizon"]["auto"]) == {"1", "2", "3", "4", "5"}
    for h, year in enumerate(after.json()["years"], start=1):
        expected_error = year["expected_error"]
        assert (expected_error["m"], expected_error["horizon"]) == (10, h)
        assert expected_error["n"] >= 10 and expected_error["coverage"]["80"] is not None
    assert after.json()["years"][0]["expected_error"] == after.json()["expected_error"]
    assert set(after.json()["horizon_calibration"]) == {"2", "3", "4", "5"}
    # The track record of 2026 now has both versions, oldest first, and /metrics says how
    # the current year's median moved from the one to the other.
    record = client.get("/v1/series/kr-exports/track-record", params={"year": 2026}).json()
    live = [p for p in record["points"] if p["source"] == "live"]
    assert [(p["version"], p["data_through"]) for p in live] == [(1, "2026-09"), (2, "2026-10")]
    medians = [before.json()["years"][0]["median"], after.json()["years"][0]["median"]]
    assert [p["median"] for p in live] == pytest.approx(medians, rel=1e-6)
    samples = scrape(client)
    kr = {"series": "kr-exports"}
    change = value(samples, "exportcast_current_year_median_change_ratio", **kr, year="2026")
    assert change == pytest.approx(medians[1] / medians[0] - 1, rel=1e-4)
    assert value(samples, "exportcast_data_through_month", **kr) == 202610
    assert 0 <= value(samples, "exportcast_model_version_age_seconds", **kr) < 3600


def test_csv_body_is_accepted(client):
    r = client.post(
        "/v1/series/kr-exports/observations",
        content="month,value\n2026-10,80000\n2026-11,81000\n",
        headers={**AUTH, "content-type": "text/csv"},
    )
    assert r.status_code == 202, r.text
    assert r.json()["new_months"] == ["2026-10", "2026-11"]


def test_a_bad_batch_names_every_bad_row_and_stores_nothing(client, data_dir):
    before = client.get("/v1/series/kr-exports/observations").json()
    jobs_before = count_rows(data_dir, "jobs")
    r = post(
        client,
        [
            {"month": "2026-10", "value": 80000},
            {"month": "2026-11", "value": -1},
            {"month": "2026-8", "value": 5},
            {"month": "2027-01", "value": "lots"},
            {"month": "2026-10"},
        ],
    )
    assert r.status_code == 422
    body = r.json()
    assert "nothing stored" in body["detail"]
    assert [e["where"] for e in body["errors"]] == [
        "observations[1]",
        "observations[2]",
        "observations[3]",
        "observations[4]",
    ]
    assert "> 0" in body["errors"][0]["message"]
    assert client.get("/v1/series/kr-exports/observations").json() == before
    assert count_rows(data_dir, "jobs") == jobs_before


def test_a_batch_that_leaves_a_gap_is_refused_whole(client):
    r = post(client, [{"month": "2026-10", "value": 80000}, {"month": "2026-12", "value": 80000}])
    assert r.status_code == 422
    assert "2026-11" in r.json()["errors"][0]["message"]
    assert client.get("/v1/series/kr-exports").json()["last_month"] == "2026-09"


def test_bad_csv_rows_are_named_by_line(client):
    r = client.post(
        "/v1/series/kr-exports/observations",
        content="month,value\n2026-10,80000\n2026-11,abc\n",
        headers={**AUTH, "content-type": "text/csv"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["line"] == 3


def test_unparseable_and_unsupported_bodies(client):
    r = client.post(
        "/v1/series/kr-exports/observations",
        content=b"{not json",
        headers={**AUTH, "content-type": "application/json"},
    )
    assert r.status_code == 422 and "JSON" in r.json()["errors"][0]["message"]
    r = client.post(
        "/v1/series/kr-exports/observations",
        content=b"<x/>",
        headers={**AUTH, "content-type": "application/xml"},
    )
    assert r.status_code == 415


def test_a_revision_keeps_the_earlier_vintage(client):
    before = client.get("/v1/series/kr-exports/observations").json()["observations"]
    may = next(o for o in before if o["month"] == "2026-09")
    moment = may["recorded_at"]
    r = post(client, [{"month": "2026-09", "value": 81999.9}])
    assert r.json()["revised_months"] == ["2026-09"]
    now = client.get("/v1/series/kr-exports/observations").json()["observations"]
    assert next(o for o in now if o["month"] == "2026-09")["value"] == 81999.9
    then = client.get("/v1/series/kr-exports/observations", params={"as_of": moment}).json()[
        "observations"
    ]
    assert next(o for o in then if o["month"] == "2026-09")["value"] == may["value"]
    assert len(then) == len(now)
    # Before anything was recorded, nothing was known.
    empty = client.get(
        "/v1/series/kr-exports/observations", params={"as_of": "2001-01-01T00:00:00Z"}
    )
    assert empty.json()["observations"] == []
    # Sending the same value again is not a revision and queues nothing.
    again = post(client, [{"month": "2026-09", "value": 81999.9}]).json()
    assert again["revised_months"] == [] and again["unchanged_months"] == ["2026-09"]
    assert again["job"] is None


def test_etag_and_conditional_get(client):
    r = forecast(client)
    etag = r.headers["etag"]
    assert r.headers["cache-control"] == "no-cache"
    again = forecast(client)
    assert again.headers["etag"] == etag and again.content == r.content
    cached = client.get("/v1/series/kr-exports/forecast", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["etag"] == etag
    other = forecast(client, years=3)
    assert other.status_code == 200 and other.headers["etag"] != etag
    assert len(other.json()["years"]) == 3
    # Equal questions share an ETag however they are spelled.
    assert forecast(client, levels="95,80").headers["etag"] == etag
    stale = client.get("/v1/series/kr-exports/forecast", headers={"If-None-Match": '"v0-old"'})
    assert stale.status_code == 200


def test_etag_names_the_version_not_just_its_number():
    query = ForecastQuery("annual")
    a = VersionStamp("kr-exports", 2, "2026-06-15T09:00:00.000000Z")
    b = VersionStamp("kr-exports", 2, "2026-07-15T09:00:00.000000Z")
    assert etag_for(a, query) != etag_for(b, query)
    assert etag_for(a, query) == etag_for(a, ForecastQuery("annual"))
    assert etag_for(a, query) != etag_for(a, ForecastQuery("annual", years=3))


def test_defaults_spelled_out_match_the_polled_bytes(client):
    """The polled URL is answered before routing; the routed answer must be the same."""
    polled = forecast(client)
    spelled = forecast(client, years=5, levels="80,95", targets="700000,1000000")
    assert spelled.headers["etag"] == polled.headers["etag"]
    assert spelled.content == polled.content
    monthly = client.get("/v1/series/kr-exports/forecast/monthly")
    assert (
        client.get("/v1/series/kr-exports/forecast/monthly", params={"horizon": 24}).content
        == monthly.content
    )
    head = client.head("/v1/series/kr-exports/forecast")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == polled.headers["etag"]


def no_route(*args, **kwargs):
    raise AssertionError("the route was asked")


def test_any_question_is_answered_at_the_front_door_as_the_route_would(client, monkeypatch):
    """A question the front door reads without doubt is answered there, from the kept
    paths, with the route's bytes and ETag; asked again, from the bytes it kept."""
    from exportcast.service.api.routes import forecasts as route

    monkeypatch.setattr(route, "_respond", no_route)
    asked = {"years": 7, "levels": "33,66.5", "targets": "900000,1200000"}
    first = forecast(client, **asked)
    assert first.status_code == 200 and len(first.json()["years"]) == 7
    again = client.get(
        "/v1/series/kr-exports/forecast",
        params=asked,
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304
    monthly = client.get(
        "/v1/series/kr-exports/forecast/monthly", params={"horizon": 40, "levels": 70}
    )
    assert monthly.status_code == 200 and len(monthly.json()["monthly"]) == 40
    # The same questions through the route (a parameter the front door does not know sends
    # them there, and the route ignores it), with nothing kept: the same bytes and tags.
    monkeypatch.undo()
    client.app.state.answers._bodies.clear()
    client.app.state.active._responses.clear()
    routed = forecast(client, **asked, via="route")
    assert routed.content == first.content and routed.headers["etag"] == first.headers["etag"]
    routed_monthly = client.get(
        "/v1/series/kr-exports/forecast/monthly",
        params={"horizon": 40, "levels": 70, "via": "route"},
    )
    assert routed_monthly.content == monthly.content


@pytest.mark.parametrize(
    "query",
    [
        "years=3&years=4",  # given twice
        "years=03",  # not plainly a number
        "years=3&via=route",  # a parameter it does not know
        "model=ets",  # a member whose paths are not sorted yet
    ],
)
def test_a_question_read_with_any_doubt_goes_to_the_route(client, monkeypatch, query):
    from exportcast.service.api.routes import forecasts as route

    monkeypatch.setattr(route, "_respond", no_route)
    with pytest.raises(AssertionError, match="route was asked"):
        client.get(f"/v1/series/kr-exports/forecast?{query}")


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("years=31", "years"),
        ("levels=80,x", "levels"),
        ("targets=-5", "targets"),
        ("model=xgb", "model"),
    ],
)
def test_a_bad_question_is_the_routes_to_refuse(client, query, named):
    r = client.get(f"/v1/series/kr-exports/forecast?{query}")
    assert r.status_code == 422 and named in r.text


def test_the_front_door_never_reads_the_store_for_a_question(client, monkeypatch):
    """With the version's paths no longer kept, a new question goes to the route (which
    reads them back off the event loop); a question answered before is still answered."""
    from exportcast.service.api.routes import forecasts as route

    kept = forecast(client, years=4, levels="60")
    active = client.app.state.active
    active._paths.clear()
    monkeypatch.setattr(route, "_respond", no_route)
    assert forecast(client, years=4, levels="60").content == kept.content
    with pytest.raises(AssertionError, match="route was asked"):
        forecast(client, years=4, levels="61")


def test_a_remembered_answer_is_served_only_while_its_version_is(client, monkeypatch):
    first = forecast(client, years=3, levels="50,90")
    served = client.app.state.active.get("kr-exports")
    client.app.state.active._served["kr-exports"] = replace(
        served, stamp=replace(served.stamp, created_at="2030-01-01T00:00:00.000000Z")
    )
    # Another version is served (one the store does not have, here): the answer kept for
    # the first is not given; the route looks for the new one's paths and says it is gone.
    again = forecast(client, years=3, levels="50,90")
    assert again.status_code == 409 and again.content != first.content


def test_parameters_are_answered_from_the_stored_paths(client):
    body = forecast(client, years=10, levels="50,90", targets="800000").json()
    assert [y["year"] for y in body["years"]] == list(range(2026, 2036))
    assert set(body["years"][0]["intervals"]) == {"50", "90"}
    assert list(body["years"][0]["prob_at_least"]) == ["800000"]
    ets = forecast(client, model="ets").json()
    assert ets["model"] == "ets" and ets["members"] == ["ets"] and ets["n_paths"] < 400
    monthly = client.get("/v1/series/kr-exports/forecast/monthly", params={"horizon": 36})
    assert monthly.status_code == 200
    months = monthly.json()["monthly"]
    assert len(months) == 36 and months[0]["month"] == "2026-10"


@pytest.mark.parametrize(
    ("path", "params", "words"),
    [
        ("/forecast", {"years": 31}, "less than or equal"),
        ("/forecast", {"years": 0}, "greater than or equal"),
        ("/forecast", {"levels": "80,120"}, "between 1 and 99.9"),
        ("/forecast", {"levels": "a,b"}, "not a comma-separated"),
        ("/forecast", {"levels": ",".join(["50"] * 7)}, "at most 6"),
        ("/forecast", {"targets": "-5"}, "must be > 0"),
        ("/forecast", {"targets": "nan"}, "finite"),
        ("/forecast", {"model": "xgboost"}, "not in version"),
        ("/forecast/monthly", {"horizon": 361}, "less than or equal"),
    ],
)
def test_guard_rails_answer_422(client, path, params, words):
    r = client.get(f"/v1/series/kr-exports{path}", params=params)
    assert r.status_code == 422
    assert words in r.text


def test_body_size_limit(data_dir):
    with TestClient(create_app(settings_for(data_dir, max_body_bytes=1000))) as client:
        rows = [{"month": f"2026-{m:02d}", "value": 80000} for m in range(6, 13)] * 20
        r = post(client, rows)
        assert r.status_code == 413
        assert "larger than 1000 bytes" in r.json()["detail"]


def test_writes_are_refused_before_their_body_is_read():
    """The token is checked before any of the body is read: a write without it never
    costs the server its body's memory."""
    import asyncio

    from exportcast.service.api.body_limit import BodySizeLimit

    async def app(scope, receive, send):  # the routes: must not be reached
        raise AssertionError("a refused write reached the app")

    def received_nothing():
        async def receive():
            raise AssertionError("the body of a refused write was read")

        return receive

    async def call(headers: list[tuple[bytes, bytes]], **settings) -> list[dict]:
        sent: list[dict] = []

        async def send(message):
            sent.append(message)

        guard = BodySizeLimit(app, max_bytes=10, settings=settings_for(Path("unused"), **settings))
        scope = {"type": "http", "method": "POST", "path": "/v1/series", "headers": headers}
        await guard(scope, received_nothing(), send)
        return sent

    huge = [(b"content-length", b"2000000")]
    for headers, settings, status, words in [
        (huge, {}, 401, "missing bearer token"),
        ([*huge, (b"authorization", b"Bearer wrong")], {}, 403, "not valid"),
        ([*huge, (b"authorization", AUTH["Authorization"].encode())], {}, 413, "larger"),
        (huge, {"api_token": None}, 403, "writes are disabled"),
    ]:
        start, body = asyncio.run(call(headers, **settings))
        assert start["status"] == status
        assert words in json.loads(body["body"])["detail"]


def test_unknown_series_and_job_are_404(client):
    assert client.get("/v1/series/nope/forecast").status_code == 404
    assert client.get("/v1/series/nope").status_code == 404
    assert client.get("/v1/jobs/999").status_code == 404
    assert post_to(client, "nope").status_code == 404


def post_to(client, series_id):
    return client.post(
        f"/v1/series/{series_id}/observations",
        json={"observations": [{"month": "2026-10", "value": 1.0}]},
        headers=AUTH,
    )


@pytest.mark.parametrize(
    ("headers", "status", "words"),
    [
        ({}, 401, "missing bearer token"),
        ({"Authorization": "Bearer wrong"}, 403, "not valid"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, "missing bearer token"),
    ],
)
def test_writes_need_the_token(client, headers, status, words):
    r = post(client, [{"month": "2026-10", "value": 80000}], headers=headers)
    assert r.status_code == status and words in r.json()["detail"]
    r = client.post("/v1/series/kr-exports/models/1/activate", headers=headers)
    assert r.status_code == status
    r = client.post("/v1/series", json={"id": "x", "name": "x", "unit": "u"}, headers=headers)
    assert r.status_code == status
    assert client.get("/v1/series/kr-exports").json()["last_month"] == "2026-09"


def test_without_a_configured_token_writes_are_refused(data_dir):
    with TestClient(create_app(settings_for(data_dir, api_token=None))) as client:
        r = post(client, [{"month": "2026-10", "value": 80000}], headers=AUTH)
        assert r.status_code == 403 and "no EXPORTCAST_API_TOKEN" in r.json()["detail"]


def test_reads_can_require_the_token(data_dir):
    with TestClient(create_app(settings_for(data_dir, read_requires_token=True))) as client:
        assert client.get("/v1/series").status_code == 401
        assert client.get("/v1/series", headers=AUTH).status_code == 200
        assert forecast(client).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/v1/series/kr-exports/forecast", headers=wrong).status_code == 403
        assert client.get("/v1/series/kr-exports/forecast", headers=AUTH).status_code == 200
        assert client.get("/healthz").status_code == 200
        # /metrics carries every forecast as gauges: it is a read like the others.
        assert client.get("/metrics").status_code == 401
        scrape = client.get("/metrics", headers=AUTH)
        assert scrape.status_code == 200 and "exportcast_forecast_median" in scrape.text


def test_create_series_then_ingest_and_train(client):
    r = client.post(
        "/v1/series",
        json={"id": "toy", "name": "Toy", "unit": "units", "targets": [500]},
        headers=AUTH,
    )
    assert r.status_code == 201 and r.json()["active_model_version"] is None
    assert (
        client.post(
            "/v1/series", json={"id": "toy", "name": "T", "unit": "u"}, headers=AUTH
        ).status_code
        == 409
    )
    assert (
        client.post(
            "/v1/series", json={"id": "Bad Id!", "name": "T", "unit": "u"}, headers=AUTH
        ).status_code
        == 422
    )
    rows = [
        {"month": f"{2015 + i // 12}-{i % 12 + 1:02d}", "value": 100 + i + 10 * (i % 12 == 11)}
        for i in range(96)
    ]
    r = client.post("/v1/series/toy/observations", json={"observations": rows}, headers=AUTH)
    assert r.status_code == 202
    ready = client.get("/readyz")  # toy waits for its first model; kr-exports is served
    assert ready.status_code == 200 and ready.json()["pending"] == ["toy"]
    job = wait_job(client, r.json()["job"]["id"])
    assert job["status"] == "succeeded", job
    body = client.get("/v1/series/toy/forecast").json()
    assert body["data_through"] == "2022-12" and body["years"][0]["year"] == 2023
    assert body["years"][0]["months_observed"] == 0
    assert list(body["years"][0]["prob_at_least"]) == ["500"]
    wait_ready(client, timeout=10)


def test_activate_rolls_back_and_forward(client):
    job = post(client, [{"month": "2026-10", "value": 80000}]).json()["job"]
    assert wait_job(client, job["id"])["status"] == "succeeded"
    assert forecast(client).json()["model_version"] == 2
    r = client.post("/v1/series/kr-exports/models/1/activate", headers=AUTH)
    assert r.status_code == 200
    assert [(v["version"], v["active"]) for v in r.json()["versions"]] == [(2, False), (1, True)]
    rolled = forecast(client).json()
    assert rolled["model_version"] == 1 and rolled["data_through"] == "2026-09"
    assert client.post("/v1/series/kr-exports/models/9/activate", headers=AUTH).status_code == 404
    client.post("/v1/series/kr-exports/models/2/activate", headers=AUTH)
    assert forecast(client).json()["model_version"] == 2


def test_an_implausible_retrain_fails_and_the_old_version_keeps_serving(client):
    """A slip of digits (some seventy times the real value) must not become the served
    forecast."""
    before = forecast(client)
    job = post(client, [{"month": "2026-10", "value": 8_000_000.0}]).json()["job"]
    done = wait_job(client, job["id"])
    assert done["status"] == "failed"
    assert "implausible" in done["error"] and done["model_version"] is None
    after = forecast(client)
    assert after.json()["model_version"] == 1
    assert after.content == before.content


@pytest.mark.parametrize(("train_fn", "words"), [(crash, "crashed"), (explode, "exploded")])
def test_a_crashed_or_failing_retrain_keeps_the_old_version(data_dir, train_fn, words):
    app = create_app(settings_for(data_dir), train_fn=train_fn)
    with TestClient(app) as client:
        wait_ready(client, timeout=10)
        job = post(client, [{"month": "2026-10", "value": 80000}]).json()["job"]
        done = wait_job(client, job["id"])
        assert done["status"] == "failed" and words in done["error"]
        assert forecast(client).json()["model_version"] == 1
        assert client.get("/readyz").status_code == 200
        # The next retrain gets a fresh worker process and still runs.
        again = post(client, [{"month": "2026-10", "value": 80001}]).json()["job"]
        assert wait_job(client, again["id"])["status"] == "failed"


def test_restart_restores_the_active_version_without_retraining(data_dir):
    with TestClient(create_app(settings_for(data_dir))) as client:
        wait_ready(client, timeout=10)
        job = post(client, [{"month": "2026-10", "value": 80000}]).json()["job"]
        wait_job(client, job["id"])
        before = forecast(client)
    jobs = count_rows(data_dir, "jobs")
    with TestClient(create_app(settings_for(data_dir)), raise_server_exceptions=True) as client:
        # Ready at once: the version is loaded from the store, nothing is fitted.
        assert client.get("/readyz").status_code == 200
        after = forecast(client)
        assert after.json()["model_version"] == 2
        assert after.headers["etag"] == before.headers["etag"]
        assert after.content == before.content
    assert count_rows(data_dir, "jobs") == jobs


def test_metrics_expose_forecasts_and_requests(client):
    from prometheus_client.parser import text_string_to_metric_families

    forecast(client)
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}

    def values(name: str, **labels: str) -> list[float]:
        family = families[name.removesuffix("_total")]
        return [s.value for s in family.samples if labels.items() <= s.labels.items()]

    assert families["exportcast_forecast_median"].type == "gauge"
    assert values("exportcast_model_version", series="kr-exports") == [1]
    assert values("exportcast_forecast_median", series="kr-exports", year="2026")
    assert values(
        "exportcast_forecast_prob_at_least", series="kr-exports", year="2030", target="1000000"
    )
    route = "/v1/series/{series_id}/forecast"
    assert values("exportcast_http_requests_total", method="GET", route=route, status="200")


def test_openapi_documents_the_contract(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/series",
        "/v1/series/{series_id}/observations",
        "/v1/series/{series_id}/forecast",
        "/v1/series/{series_id}/forecast/monthly",
        "/v1/series/{series_id}/models",
        "/v1/series/{series_id}/models/{version}/activate",
        "/v1/jobs/{job_id}",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in paths
    body = paths["/v1/series/{series_id}/observations"]["post"]["requestBody"]["content"]
    assert {"application/json", "text/csv"} <= set(body)
    assert client.get("/docs").status_code == 200


def test_the_service_on_postgresql(tmp_path):
    require_postgres()  # fails, naming what to install, without PostgreSQL
    server = PostgresServer()
    server.start()
    try:
        url = server.new_database("exportcast")
        with TestClient(create_app(settings_for(tmp_path, database_url=url))) as client:
            wait_ready(client)
            job = post(client, [{"month": "2026-10", "value": 80500.0}]).json()["job"]
            assert wait_job(client, job["id"])["status"] == "succeeded"
            body = forecast(client).json()
            assert body["data_through"] == "2026-10" and body["model_version"] == 2
        assert not (tmp_path / "exportcast.db").exists()  # nothing went to SQLite
    finally:
        server.stop()


def test_a_deleted_series_is_gone_and_stops_being_served(data_dir):
    with TestClient(create_app(settings_for(data_dir))) as client:
        wait_ready(client, timeout=10)
        assert client.delete("/v1/series/kr-exports").status_code == 401
        assert forecast(client).status_code == 200  # refused deletes change nothing
        assert client.delete("/v1/series/kr-exports", headers=AUTH).status_code == 204
        assert forecast(client).status_code == 404  # the fast path no longer has it either
        assert client.get("/v1/series/kr-exports/observations").status_code == 404
        assert client.get("/v1/series").json()["series"] == []
        assert client.delete("/v1/series/kr-exports", headers=AUTH).status_code == 404
    # A restart does not bring the bundled series back over a store that had data.
    with TestClient(create_app(settings_for(data_dir))) as client:
        assert client.get("/v1/series").json()["series"] == []
