"""Every documented route answers what `/openapi.json` says it does.

Each route is called for real on a trained store (the polled fast path and the routed
answer both), and every JSON body is validated against the response schema the document
gives for its status code, with the document's own components. Response schemas forbid
undeclared fields, so a field the engine adds without the schema fails here.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from exportcast.models.results import Forecast
from exportcast.service.main import create_app
from exportcast.service.serving.bodies import ForecastQuery, serialise
from tests.service_helpers import AUTH, settings_for, wait_job, wait_ready


@pytest.fixture(scope="module")
def served(trained_store, tmp_path_factory):
    import shutil

    data = tmp_path_factory.mktemp("contract") / "data"
    shutil.copytree(trained_store, data)
    with TestClient(create_app(settings_for(data))) as client:
        wait_ready(client)
        yield client, client.get("/openapi.json").json()


def response_schema(doc: dict, path: str, method: str, status: int) -> dict | None:
    """The JSON schema the document gives for this answer; fails if the status is not
    documented at all."""
    operation = doc["paths"][path][method]
    responses = operation["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answered {status}, undocumented"
    content = responses[str(status)].get("content", {})
    return content.get("application/json", {}).get("schema")


def check(doc: dict, path: str, method: str, response) -> Any:
    schema = response_schema(doc, path, method, response.status_code)
    if response.status_code == 304:
        assert response.content == b"" and response.headers["etag"]
        return None
    body = response.json()
    assert schema, f"{method.upper()} {path} {response.status_code}: no schema documented"
    Draft202012Validator({**schema, "components": doc["components"]}).validate(body)
    return body


def test_every_documented_route_answers_as_documented(served):
    client, doc = served
    calls: list[tuple[str, str, dict]] = [
        ("/healthz", "get", {}),
        ("/readyz", "get", {}),
        ("/v1/series", "get", {}),
        ("/v1/series/{series_id}", "get", {"series_id": "kr-exports"}),
        ("/v1/series/{series_id}", "get", {"series_id": "no-such-series"}),
        ("/v1/series/{series_id}/observations", "get", {"series_id": "kr-exports"}),
        ("/v1/series/{series_id}/flashes", "get", {"series_id": "kr-exports"}),
        ("/v1/series/{series_id}/flashes", "get", {"series_id": "no-such-series"}),
        ("/v1/series/{series_id}/models", "get", {"series_id": "kr-exports"}),
        ("/v1/series/{series_id}/forecast", "get", {"series_id": "kr-exports"}),  # polled
        ("/v1/series/{series_id}/forecast/monthly", "get", {"series_id": "kr-exports"}),
        ("/v1/series/{series_id}/forecast", "get", {"series_id": "no-such-series"}),
        ("/v1/jobs/{job_id}", "get", {"job_id": 1}),
        ("/v1/jobs/{job_id}", "get", {"job_id": 999_999}),
    ]
    seen = set()
    for template, method, params in calls:
        response = client.request(method, template.format(**params))
        check(doc, template, method, response)
        seen.add((template, method))
    # Routed (not polled) forecasts, with parameters, one member, and a refused question.
    for query in ("?years=3&levels=50,90", "?model=ets", "?levels=0", "?years=0", "?years=x"):
        response = client.get(f"/v1/series/kr-exports/forecast{query}")
        check(doc, "/v1/series/{series_id}/forecast", "get", response)
    response = client.get("/v1/series/kr-exports/forecast/monthly?horizon=36&model=sarima")
    check(doc, "/v1/series/{series_id}/forecast/monthly", "get", response)
    refused = client.get("/v1/jobs/not-a-number")
    assert "path.job_id" in check(doc, "/v1/jobs/{job_id}", "get", refused)["detail"]
    # Writes: refused without a token, with a bad body, then accepted.
    response = client.post("/v1/series", json={"id": "x", "name": "x", "unit": "u"})
    check(doc, "/v1/series", "post", response)
    response = client.post("/v1/series", json={"id": "Bad Id!", "unit": "u"}, headers=AUTH)
    assert len(check(doc, "/v1/series", "post", response)["errors"]) == 2
    response = client.post(
        "/v1/series", json={"id": "contract", "name": "A series", "unit": "u"}, headers=AUTH
    )
    assert check(doc, "/v1/series", "post", response)["id"] == "contract"
    flashes = "/v1/series/{series_id}/flashes"
    bad = client.post(
        flashes.format(series_id="kr-exports"),
        json={"flashes": [{"month": "2027-01", "period": "d1_10", "value": 1}]},
        headers=AUTH,
    )
    assert check(doc, flashes, "post", bad)["errors"]
    good = client.post(
        flashes.format(series_id="kr-exports"),
        json={"flashes": [{"month": "2026-10", "period": "d1_20", "value": 62000}]},
        headers=AUTH,
    )
    wait_job(client, check(doc, flashes, "post", good)["job"]["id"])
    # A forecast conditioned on a flash, routed and polled, is what the document says.
    for query in ("", "?years=2"):
        response = client.get(f"/v1/series/kr-exports/forecast{query}")
        assert check(doc, "/v1/series/{series_id}/forecast", "get", response)["flash"]["used"]
    # Why it moved: the flash's version against the one before; the first has no move.
    moves = "/v1/series/{series_id}/models/{version}/moves"
    served = client.get("/v1/series/kr-exports/forecast").json()["model_version"]
    body = check(
        doc, moves, "get", client.get(moves.format(series_id="kr-exports", version=served))
    )
    assert [s["kind"] for s in body["steps"]][-2:] == ["flash", "residual"]
    check(doc, moves, "get", client.get(moves.format(series_id="kr-exports", version=1)))
    seen.add((moves, "get"))
    references = "/v1/series/{series_id}/references"
    url = references.format(series_id="kr-exports")
    assert len(check(doc, references, "get", client.get(url))["references"]) == 11
    row = {"forecaster": "X", "published": "2026-01-05", "year": 2026, "value": 7e5}
    bad = client.post(url, json={"references": [{**row, "year": 1990}]}, headers=AUTH)
    assert check(doc, references, "post", bad)["errors"]
    good = client.post(url, json={"references": [row]}, headers=AUTH)
    assert check(doc, references, "post", good)["new"]
    track = "/v1/series/{series_id}/track-record"
    for year in (2025, 2026):
        response = client.get(track.format(series_id="kr-exports"), params={"year": year})
        assert check(doc, track, "get", response)["references"]
    check(doc, track, "get", client.get(track.format(series_id="kr-exports")))  # no year
    seen |= {(references, "get"), (references, "post"), (track, "get")}
    # Markets: the bundled destinations (loaded into this store made before them), a
    # question, a refused one, a 304; rows posted, refused and unauthenticated.
    destinations, markets = "/v1/series/{series_id}/destinations", "/v1/series/{series_id}/markets"
    url = destinations.format(series_id="kr-exports")
    assert len(check(doc, destinations, "get", client.get(url))["destinations"]) == 6470
    check(doc, destinations, "get", client.get(destinations.format(series_id="nowhere")))
    for query in ("", "?year=2027&targets=china<0.18", "?targets=mars<0.1", "?years=0"):
        check(doc, markets, "get", client.get(markets.format(series_id="kr-exports") + query))
    check(doc, markets, "get", client.get(markets.format(series_id="nowhere")))
    tag = client.get(markets.format(series_id="kr-exports")).headers["etag"]
    unchanged = client.get(markets.format(series_id="kr-exports"), headers={"If-None-Match": tag})
    assert unchanged.status_code == 304
    check(doc, markets, "get", unchanged)
    row = {"period": "2026-07", "destination": "CHN", "value": 21681.2}
    bad = client.post(url, json={"destinations": [{**row, "destination": "China"}]}, headers=AUTH)
    assert check(doc, destinations, "post", bad)["errors"]
    check(doc, destinations, "post", client.post(url, json={"destinations": [row]}))  # no token
    assert check(
        doc, destinations, "post", client.post(url, json={"destinations": [row]}, headers=AUTH)
    )["new"]
    seen |= {(destinations, "get"), (destinations, "post"), (markets, "get")}
    path = "/v1/series/{series_id}/observations"
    bad = client.post(
        path.format(series_id="kr-exports"),
        json={"observations": [{"month": "2026-13", "value": -1}]},
        headers=AUTH,
    )
    assert check(doc, path, "post", bad)["errors"]
    good = client.post(
        path.format(series_id="kr-exports"),
        json={"observations": [{"month": "2026-10", "value": 80500}]},
        headers=AUTH,
    )
    job = check(doc, path, "post", good)["job"]
    wait_job(client, job["id"])
    check(doc, "/v1/jobs/{job_id}", "get", client.get(job["status_url"]))
    activate = "/v1/series/{series_id}/models/{version}/activate"
    response = client.post(activate.format(series_id="kr-exports", version=1), headers=AUTH)
    check(doc, activate, "post", response)
    response = client.post(activate.format(series_id="kr-exports", version=99), headers=AUTH)
    check(doc, activate, "post", response)
    # A hierarchy over the "contract" series: declared, listed, not yet made (409), refused.
    hierarchies, hierarchy = "/v1/hierarchies", "/v1/hierarchies/{hierarchy_id}"
    part = {"id": "contract-part", "name": "A part", "unit": "USD millions"}
    assert client.post("/v1/series", json=part, headers=AUTH).status_code == 201
    spec = {"total_series": "kr-exports", "classification": "x", "items": {"part": "contract-part"}}
    url = hierarchy.format(hierarchy_id="contract-h")
    check(doc, hierarchy, "put", client.put(url, json=spec))  # no token
    assert check(doc, hierarchy, "put", client.put(url, json=spec, headers=AUTH))["nodes"]
    other_unit = {**spec, "items": {"part": "contract"}}  # "u", not the total's USD millions
    refused = check(doc, hierarchy, "put", client.put(url, json=other_unit, headers=AUTH))
    assert "unit" in refused["detail"] or "USD millions" in refused["detail"]
    missing = {**spec, "items": {"part": "no-such-series"}}
    check(doc, hierarchy, "put", client.put(url, json=missing, headers=AUTH))
    check(doc, hierarchy, "put", client.put(url, content=b"{", headers=AUTH))
    assert check(doc, hierarchies, "get", client.get(hierarchies))["hierarchies"]
    check(doc, hierarchy, "get", client.get(url))  # 409 until its first version is made
    check(doc, hierarchy, "get", client.get(hierarchy.format(hierarchy_id="nowhere")))
    check(doc, hierarchy, "get", client.get(url, params={"method": "x"}))
    seen |= {(hierarchies, "get"), (hierarchy, "get"), (hierarchy, "put")}
    one = "/v1/series/{series_id}"
    check(doc, one, "delete", client.delete(one.format(series_id="contract")))  # no token
    gone = client.delete(one.format(series_id="contract"), headers=AUTH)
    assert gone.status_code == 204 and gone.content == b""
    response_schema(doc, one, "delete", 204)  # documented, with no body
    check(doc, one, "delete", client.delete(one.format(series_id="contract"), headers=AUTH))
    seen |= {("/v1/series", "post"), (path, "post"), (activate, "post"), (one, "delete")}
    seen.add((flashes, "post"))
    # Every documented operation was exercised (the text route /metrics aside).
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert documented - seen == {("/metrics", "get")}


def test_the_fast_path_bytes_and_the_304_are_as_documented(served):
    client, doc = served
    path = "/v1/series/{series_id}/forecast"
    first = client.get("/v1/series/kr-exports/forecast")
    body = check(doc, path, "get", first)
    assert body["expected_error"] is not None and body["weights"] is not None
    again = client.get(
        "/v1/series/kr-exports/forecast", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    check(doc, path, "get", again)
    monthly = client.get("/v1/series/kr-exports/forecast/monthly")
    tag = monthly.headers["etag"]
    check(doc, path + "/monthly", "get", monthly)
    not_modified = client.get(
        "/v1/series/kr-exports/forecast/monthly", headers={"If-None-Match": tag}
    )
    check(doc, path + "/monthly", "get", not_modified)


def test_a_field_outside_the_schema_fails_the_contract(served, monkeypatch):
    """An engine field the schema does not declare is refused when bodies are made, and a
    body carrying one fails validation against the published document."""
    client, doc = served
    schema = response_schema(doc, "/v1/series/{series_id}/forecast", "get", 200)
    body = client.get("/v1/series/kr-exports/forecast").json()
    validator = Draft202012Validator({**schema, "components": doc["components"]})
    with pytest.raises(ValidationError):
        validator.validate({**body, "surprise": 1.5})

    original = Forecast.to_dict
    monkeypatch.setattr(Forecast, "to_dict", lambda self: {**original(self), "surprise": 1.5})
    forecasts = client.app.state.active
    active = forecasts.get("kr-exports")
    # A version's outline is validated when its first body is made (the years, targets and
    # months joined into it are the schema's dump to the byte: tests/test_bodies.py).
    stamp = replace(active.stamp, created_at="2030-01-01T00:00:00.000000Z")
    with pytest.raises(ValueError, match="surprise"):
        serialise(forecasts.simulation(active), stamp, ForecastQuery("annual", years=2))


def test_the_forecast_examples_are_real_outputs(fit_cache):
    """The examples in the OpenAPI document are what the service serves for the bundled
    series with the default settings (regenerated here from the engine).

    Within a few percent, not to the digit: the same code on another processor (its BLAS
    kernels) takes the optimisers down slightly different paths, and a learned calibration
    factor, a quantile over two dozen cases, moves by a step (x0.95 on one machine, x0.97
    on another). The structure, every key, month and year, is checked exactly."""
    from exportcast.service import examples
    from exportcast.service.schemas import EXAMPLES

    fresh = json.loads(json.dumps(examples.build(fit_cache)))
    assert fresh.keys() == EXAMPLES.keys()
    for kind in fresh:
        assert_close(fresh[kind], EXAMPLES[kind], where=kind)


def assert_close(a: Any, b: Any, where: str) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            assert_close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert b == pytest.approx(a, rel=0.03, abs=0.02), where
    elif isinstance(a, str) and where.endswith(".description"):
        assert re.sub(r"[0-9]", "#", a) == re.sub(r"[0-9]", "#", b), where
    else:
        assert a == b, where


def refs_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in refs_in(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs_in(v)]
    return []


def test_every_reference_in_the_document_resolves(served):
    _, doc = served
    refs = refs_in(doc)
    assert refs, "the document has references to check"
    broken = []
    for ref in set(refs):
        node: Any = doc
        for part in ref.removeprefix("#/").split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            broken.append(ref)
    assert broken == []


def test_the_token_is_declared_on_writes_only(served):
    """Reads are open by default, so the document must not tell clients they need a token."""
    _, doc = served
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            declared = bool(operation.get("security"))
            assert declared == (method in ("post", "put", "delete")), f"{method.upper()} {path}"
