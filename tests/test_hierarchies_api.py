"""Hierarchies over the API: the bundled Korea items forecast with the total, coherent
path by path; a revised item month refits that item and other only; declared hierarchies;
bad declarations refused whole."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from exportcast.service.main import create_app
from tests.service_helpers import AUTH, settings_for, wait_for, wait_job

HID = "kr-exports-items"


def version_of(client, hid: str = HID) -> int | None:
    found = [h for h in client.get("/v1/hierarchies").json()["hierarchies"] if h["id"] == hid]
    return found[0]["version"] if found else None


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = settings_for(
        tmp_path_factory.mktemp("hierarchy"), bootstrap_items=True, model="snaive", n_paths=300
    )
    with TestClient(create_app(settings)) as c:
        wait_for(lambda: version_of(c) == 1, timeout=180)
        yield c


def test_the_bundled_items_are_served_as_a_hierarchy_that_adds_up(client):
    (listed,) = client.get("/v1/hierarchies").json()["hierarchies"]
    assert listed["total_series"] == "kr-exports" and listed["classification"] == "kcs10"
    assert len(listed["items"]) == 10
    assert listed["items"]["semiconductors"] == "kr-exports.semiconductors"
    assert listed["nodes"][0] == "total" and listed["nodes"][-1] == "other"
    assert listed["data_through"] == "2026-06"  # the items end there, the total later
    body = client.get(f"/v1/hierarchies/{HID}").json()
    assert body["method"] == "top_down" and body["version"] == 1
    assert set(body["nodes"]) == set(listed["nodes"])
    assert body["coherence"]["largest_gap"] == 0.0
    total = body["nodes"]["total"]["years"][0]
    assert total["year"] == 2026 and total["months_observed"] == 6
    known = sum(body["nodes"][n]["years"][0]["actual_to_date"] for n in listed["nodes"][1:])
    assert known == pytest.approx(total["actual_to_date"], rel=1e-9)  # published: facts
    assert set(total["prob_at_least"]) == {"700000", "1000000"}  # the total's own targets
    assert body["concentration"][0]["top_item"] == "semiconductors"
    assert [h["year"] for h in body["history"]] == list(range(2016, 2026))
    assert sorted(body["refit"]) == sorted(listed["nodes"])
    # every method from the same version
    for method in body["methods"]:
        other = client.get(f"/v1/hierarchies/{HID}", params={"method": method})
        assert other.status_code == 200 and other.json()["coherence"]["method"] == method
    # the items' series are series of their own, with their own forecasts
    semis = client.get("/v1/series/kr-exports.semiconductors").json()
    assert semis["name"] == "kcs10:semiconductors"


def test_bad_reads_are_named(client):
    wrong = client.get(f"/v1/hierarchies/{HID}", params={"method": "average"})
    assert wrong.status_code == 422 and "method" in wrong.text
    assert client.get("/v1/hierarchies/nowhere").status_code == 404


def test_a_revised_item_month_refits_that_item_and_other_only(client):
    answer = client.get(f"/v1/hierarchies/{HID}")
    before, tag = answer.json(), answer.headers["etag"]
    old = before["nodes"]["ships"]["years"][0]["actual_to_date"]
    r = client.post(
        "/v1/series/kr-exports.ships/observations",
        json={"observations": [{"month": "2026-05", "value": 3100.0}]},
        headers=AUTH,
    )
    assert r.status_code == 202, r.text
    wait_job(client, r.json()["job"]["id"])
    version = before["version"] + 1
    wait_for(lambda: version_of(client) == version, timeout=120)
    answer = client.get(f"/v1/hierarchies/{HID}", headers={"If-None-Match": tag})
    assert answer.status_code == 200 and answer.headers["etag"] != tag  # a new version
    after = answer.json()
    assert sorted(after["refit"]) == ["other", "ships"]
    ships = after["nodes"]["ships"]["years"][0]["actual_to_date"]
    assert ships != pytest.approx(old)
    # the total did not change: other took the difference
    assert after["nodes"]["total"]["years"][0]["actual_to_date"] == pytest.approx(
        before["nodes"]["total"]["years"][0]["actual_to_date"]
    )


def test_a_declared_hierarchy_gets_a_version_and_bad_ones_are_refused(client):
    spec = {
        "total_series": "kr-exports",
        "classification": "kcs10",
        "items": {"chips": "kr-exports.semiconductors", "cars": "kr-exports.passenger_cars"},
        "targets": {"chips": [250000]},
    }
    assert client.put("/v1/hierarchies/chips-cars", json=spec).status_code == 401
    declared = client.put("/v1/hierarchies/chips-cars", json=spec, headers=AUTH)
    assert declared.status_code == 200, declared.text
    assert declared.json()["nodes"] == ["total", "chips", "cars", "other"]
    wait_for(lambda: version_of(client, "chips-cars") == 1, timeout=120)
    body = client.get("/v1/hierarchies/chips-cars").json()
    assert set(body["nodes"]["chips"]["years"][0]["prob_at_least"]) == {"250000"}
    assert body["nodes"]["total"]["years"][0]["prob_at_least"] == {}

    def refused(hid: str, change: dict, status: int, words: str) -> None:
        r = client.put(
            f"/v1/hierarchies/{hid}", json={**spec, "targets": {}, **change}, headers=AUTH
        )
        assert r.status_code == status, r.text
        assert words in r.text
        assert version_of(client, hid) is None  # nothing of it stored

    refused("h2", {"items": {"x": "no-such-series"}}, 404, "no-such-series")
    refused("h3", {"items": {"other": "kr-exports.ships"}}, 422, "other")
    refused("h4", {"targets": {"boats": [1.0]}}, 422, "boats")
    created = client.post(
        "/v1/series",
        json={"id": "kr-petroleum-hs4", "name": "hs4_2710:petroleum_oils", "unit": "USD millions"},
        headers=AUTH,
    )
    assert created.status_code == 201, created.text
    refused("h5", {"items": {"oil": "kr-petroleum-hs4"}}, 422, "never added")
    assert client.get("/v1/hierarchies/h5").status_code == 404


def test_declarations_the_stored_data_cannot_serve_are_refused(client):
    def series(id: str, unit: str, value: float) -> None:
        r = client.post("/v1/series", json={"id": id, "name": id, "unit": unit}, headers=AUTH)
        assert r.status_code == 201, r.text
        rows = [
            {"month": f"{y}-{m:02d}", "value": value} for y in (2024, 2025) for m in range(1, 13)
        ]
        r = client.post(f"/v1/series/{id}/observations", json={"observations": rows}, headers=AUTH)
        assert r.status_code == 202, r.text

    series("huge-item", "USD millions", 1e6)
    series("won-item", "KRW billions", 100.0)
    spec = {"total_series": "kr-exports", "classification": "x", "items": {"a": "huge-item"}}
    r = client.put("/v1/hierarchies/h6", json=spec, headers=AUTH)
    assert r.status_code == 422 and "add up to the total or more in 2024-01" in r.text
    r = client.put("/v1/hierarchies/h7", json={**spec, "items": {"a": "won-item"}}, headers=AUTH)
    assert r.status_code == 422 and "KRW billions" in r.text
    assert version_of(client, "h6") is None and version_of(client, "h7") is None


def test_a_polled_hierarchy_is_revalidated_with_its_etag(client):
    first = client.get(f"/v1/hierarchies/{HID}")
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = client.get(f"/v1/hierarchies/{HID}", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    other = client.get(f"/v1/hierarchies/{HID}", params={"method": "bottom_up"})
    assert other.headers["etag"] != tag  # each method is its own body
    assert first.json() == client.get(f"/v1/hierarchies/{HID}").json()  # the same bytes


def test_a_failed_update_is_named_and_cleared_by_the_next_version(client):
    r = client.post(
        "/v1/series", json={"id": "late-item", "name": "late", "unit": "USD millions"}, headers=AUTH
    )
    assert r.status_code == 201
    spec = {"total_series": "kr-exports", "classification": "x", "items": {"late": "late-item"}}
    assert client.put("/v1/hierarchies/h8", json=spec, headers=AUTH).status_code == 200

    def listed() -> dict:
        return next(
            h for h in client.get("/v1/hierarchies").json()["hierarchies"] if h["id"] == "h8"
        )

    wait_for(lambda: listed()["problem"], timeout=60)
    assert "no observations" in listed()["problem"]
    refused = client.get("/v1/hierarchies/h8")
    assert refused.status_code == 409 and "last update failed" in refused.text
    months = [f"{y}-{m:02d}" for y in (2024, 2025, 2026) for m in range(1, 13)][:29]
    rows = [{"month": month, "value": 100.0} for month in months]  # through 2026-05
    r = client.post("/v1/series/late-item/observations", json={"observations": rows}, headers=AUTH)
    assert r.status_code == 202
    wait_for(lambda: listed()["version"] == 1, timeout=120)
    assert listed()["problem"] is None and listed()["data_through"] == "2026-05"


def test_a_hierarchy_read_is_answered_at_the_front_door_without_the_store(client, monkeypatch):
    bodies = client.app.state.hierarchy_bodies
    wait_for(lambda: bodies.latest(HID) is not None, timeout=10)
    expected = client.get(f"/v1/hierarchies/{HID}")
    store = client.app.state.store

    def read(*args, **kwargs):
        raise AssertionError("the store was read")

    monkeypatch.setattr(store, "get_hierarchy", read)
    monkeypatch.setattr(store, "hierarchy_body", read)
    again = client.get(f"/v1/hierarchies/{HID}")
    assert again.status_code == 200 and again.content == expected.content
    assert again.headers["etag"] == expected.headers["etag"]
    unchanged = client.get(
        f"/v1/hierarchies/{HID}", headers={"If-None-Match": again.headers["etag"]}
    )
    assert unchanged.status_code == 304
    # a method not made yet, or another question, goes to the route (which reads the store)
    with pytest.raises(AssertionError, match="the store was read"):
        client.get(f"/v1/hierarchies/{HID}", params={"method": "mint_shrink", "x": "1"})


class CountingStore:
    """A store whose hierarchies are read through a hook (a write made while reading)."""

    def __init__(self, records, during=None):
        self.records, self.during, self.bodies = records, during, 0

    def hierarchies(self):
        if self.during is not None:
            self.during()
        return self.records

    def hierarchy_body(self, id, version):
        self.bodies += 1
        raise LookupError("no body here")  # the route makes it instead


def test_a_write_sets_the_records_aside_until_a_look_begun_after_it():
    from exportcast.service.serving.hierarchy_bodies import HierarchyBodies
    from exportcast.service.store import HierarchyRecord

    record = HierarchyRecord("h", "t", {"a": "s"}, "x", {}, "", 1, 2026 * 12, "basis")
    bodies = HierarchyBodies()
    assert bodies.latest("h") is None  # nothing read yet
    bodies.sync(CountingStore([record]))
    assert bodies.latest("h") == record
    bodies.forget()
    assert bodies.latest("h") is None
    # a look that began before a write cannot bring the old records back
    bodies.sync(CountingStore([record], during=bodies.forget))
    assert bodies.latest("h") is None
    counting = CountingStore([record])
    bodies.sync(counting)
    assert bodies.latest("h") == record and counting.bodies == 0  # the version was seen
