"""The dashboard in a real browser: `exportcast serve` under uvicorn on 127.0.0.1, the page
loaded in headless Chromium, every chart drawn with data, the 2026 median on the page the
API's, no console errors, a screenshot kept; then a new month is posted and the page shows
the new version without a reload. Also: the page and everything it loads come from the
service (no CDN); the hierarchy and markets pages draw the API's numbers."""

from __future__ import annotations

import json
import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from exportcast.service.cli.main import main
from exportcast.service.main import create_app
from tests.browser import Browser
from tests.service_helpers import AUTH, serving, settings_for, wait_for, wait_ready

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHARTS = ("chart-monthly", "chart-annual", "chart-targets", "chart-crossing", "chart-track")


def billions(value: float) -> str:
    return f"${value / 1000:,.1f}B"


def assert_drawn(browser, charts) -> None:
    """Every chart drawn with data in it, as SVG, with a text summary for screen readers."""
    for chart in charts:
        traces = browser.evaluate(
            f"(document.getElementById('{chart}').data || [])"
            ".filter(t => (t.y || []).length > 0).length"
        )
        assert traces >= 1, chart
        assert browser.evaluate(f"!!document.querySelector('#{chart} .main-svg')"), chart
        assert browser.evaluate(f"document.getElementById('{chart}').getAttribute('aria-label')")


def percent(share: float) -> str:
    """As JavaScript's (100 * share).toFixed(1) writes it: the double's exact value, halves up."""
    return f"{Decimal(100 * share).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def signed(value: float) -> str:
    return ("-" if value < 0 else "+") + billions(abs(value))


def assert_moves_drawn(browser, moves: dict) -> None:
    """The waterfall of this year's median and the table of every step, as `moves` says."""
    assert_drawn(browser, ("chart-moves",))
    year = str(moves["years"][0])
    bars = browser.evaluate("document.getElementById('chart-moves').data[0].y")
    steps = moves["steps"]
    expected = [
        moves["before"][year]["median"],
        *(s["years"][year]["median"] for s in steps),
        moves["after"][year]["median"],
    ]
    assert bars == pytest.approx([v / 1000 for v in expected], rel=1e-9)
    rows = browser.evaluate("document.querySelectorAll('#table-moves tr').length")
    assert rows == 1 + len(steps) + 2
    for i, step in enumerate(steps):
        cells = browser.evaluate(
            f"[...document.querySelectorAll('#move-{i} td')].map(c => c.textContent)"
        )
        assert cells[0] == step["label"]
        assert cells[1 : 1 + len(moves["years"])] == [
            signed(step["years"][str(y)]["median"]) for y in moves["years"]
        ]


def test_the_page_and_all_it_loads_are_served_here(data_dir):
    with TestClient(create_app(settings_for(data_dir))) as client:
        wait_ready(client, timeout=10)
        index = client.get("/")
        assert index.status_code == 200 and 'href="/dashboard/kr-exports"' in index.text
        page = client.get("/dashboard/kr-exports")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert "/static/plotly/plotly.min.js" in urls
        assert "/dashboard/kr-exports/markets" in urls  # it has destination rows
        markets = client.get("/dashboard/kr-exports/markets")
        assert markets.status_code == 200
        assert markets.headers["content-type"].startswith("text/html")
        loaded = re.findall(r'(?:src|href)="([^"]+)"', markets.text)
        assert "/static/dashboard/markets.js" in loaded and "/dashboard/kr-exports" in loaded
        for url in urls + loaded:
            assert url.startswith("/"), url
            assert client.get(url).status_code == 200, url
        plotly = client.get("/static/plotly/plotly.min.js")
        assert len(plotly.content) > 1_000_000 and b"plotly" in plotly.content[:2000].lower()
        assert client.get("/dashboard/nope").status_code == 404
        assert client.get("/dashboard/kr-exports", params={"poll": 0}).status_code == 422
        assert client.get("/dashboard/nope/markets").status_code == 404
        assert client.get("/dashboard/kr-exports/markets", params={"poll": 0}).status_code == 422


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def test_the_dashboard_draws_the_forecast_and_follows_a_new_version(data_dir, tmp_path, browser):
    served = tmp_path / "served"
    shutil.copytree(data_dir, served)
    with serving(served) as api:
        forecast = api.get("/v1/series/kr-exports/forecast").json()
        median = forecast["years"][0]["median"]
        browser.open(f"{api.base_url}/dashboard/kr-exports?poll=1")
        browser.wait_until("document.body.dataset.ready === 'true'", timeout=60)
        assert_drawn(browser, CHARTS)
        shown = browser.evaluate("document.querySelector('#median-current .value').textContent")
        assert shown == billions(median)
        # the pace the $1T target needs this year, as the API gives it
        pace = forecast["years"][0]["pace"]["1000000"]
        shown = browser.evaluate("document.querySelector('#pace-1000000 .value').textContent")
        assert shown == billions(pace["per_month"])
        note = browser.evaluate("document.querySelector('#pace-1000000 .note').textContent")
        assert f"of {pace['history_windows']} past windows" in note
        rows = browser.evaluate("document.querySelectorAll('#table-annual tr').length")
        assert rows == 1 + len(forecast["years"])
        outlooks = browser.evaluate("document.querySelectorAll('#table-outlooks tr').length")
        assert outlooks == 1 + 5  # the five official outlooks for 2026
        assert forecast["moves"] is None  # the first version: nothing moved yet
        note = browser.evaluate("document.getElementById('moves-note').textContent")
        assert "first version" in note
        ARTIFACTS.mkdir(exist_ok=True)
        browser.screenshot(ARTIFACTS / "dashboard.png")
        assert (ARTIFACTS / "dashboard.png").stat().st_size > 50_000

        # A new month: the page picks up the new version by polling, without a reload.
        before = browser.evaluate("performance.timeOrigin")
        job = api.post(
            "/v1/series/kr-exports/observations",
            json={"observations": [{"month": "2026-10", "value": 84000.0}]},
            headers=AUTH,
        ).json()["job"]

        def done():
            status = api.get(job["status_url"]).json()["status"]
            assert status != "failed"
            return status == "succeeded"

        wait_for(done, timeout=300, every=0.5)
        browser.wait_until("document.body.dataset.version === '2'", timeout=60)
        assert browser.evaluate("performance.timeOrigin") == before  # the same page
        after = api.get("/v1/series/kr-exports/forecast").json()
        shown = browser.evaluate("document.querySelector('#data-through .value').textContent")
        assert shown == after["data_through"] == "2026-10"
        shown = browser.evaluate("document.querySelector('#median-current .value').textContent")
        assert shown == billions(after["years"][0]["median"])
        # Why it moved: the waterfall and its table carry the API's numbers.
        moves = api.get(after["moves"]).json()
        assert_moves_drawn(browser, moves)
        # The API docs render offline too: Swagger UI from the service's own files.
        browser.open(f"{api.base_url}/docs")
        title = browser.wait_until(
            "document.querySelector('.swagger-ui .info .title')?.textContent"
        )
        assert title.startswith("exportcast")
        operations = browser.wait_until("document.querySelectorAll('.opblock').length")
        assert operations == len(
            [m for ops in api.get("/openapi.json").json()["paths"].values() for m in ops]
        )
        # Polling an unchanged version costs the server a 304.
        etag = httpx.get(f"{api.base_url}/v1/series/kr-exports/forecast").headers["etag"]
        again = httpx.get(
            f"{api.base_url}/v1/series/kr-exports/forecast", headers={"If-None-Match": etag}
        )
        assert again.status_code == 304
    assert browser.console == [], browser.console


def test_the_report_is_one_self_contained_page_that_draws_offline(tmp_path, browser):
    out = tmp_path / "report.html"
    assert main(["report", "--out", str(out), "--paths", "1000"]) == 0
    text = out.read_text(encoding="utf-8")
    # Nothing fetched: no script or style from elsewhere, the data inlined.
    assert not re.findall(r"<script[^>]+src=|<link[^>]+href=", text)
    config = json.loads(re.search(r"window\.EXPORTCAST = (\{.*?\});</script>", text, re.S)[1])
    forecast = config["data"]["forecast"]
    assert forecast["series"] == "kr-exports" and forecast["data_through"] == "2026-09"
    assert len(config["data"]["track"]["references"]) == 5
    browser.open(out.as_uri())
    browser.wait_until("document.body.dataset.ready === 'true'", timeout=60)
    shown = browser.evaluate("document.querySelector('#median-current .value').textContent")
    assert shown == billions(forecast["years"][0]["median"])
    for chart in CHARTS:
        assert browser.evaluate(f"!!document.querySelector('#{chart} .main-svg')"), chart
    # Why it moved since the month before, made again from the engine.
    moves = config["data"]["moves"]
    assert moves["since"].startswith("data through 2026-08")
    assert moves["steps"][0]["kind"] == "month"
    assert_moves_drawn(browser, moves)
    assert browser.console == [], browser.console


def test_the_hierarchy_page_draws_the_items_and_their_concentration(tmp_path, browser):
    served = tmp_path / "items"
    env = {"EXPORTCAST_BOOTSTRAP_ITEMS": "true", "EXPORTCAST_MODEL": "snaive"}
    with serving(served, **env) as api:
        hid = "kr-exports-items"

        def made():
            r = api.get(f"/v1/hierarchies/{hid}")
            return r.json() if r.status_code == 200 else None

        body = wait_for(made, timeout=180, every=0.5)
        index = api.get("/").text
        assert f'href="/dashboard/hierarchies/{hid}"' in index
        assert api.get("/dashboard/hierarchies/nowhere").status_code == 404
        browser.open(f"{api.base_url}/dashboard/hierarchies/{hid}?poll=1")
        browser.wait_until("document.body.dataset.ready === 'true'", timeout=60)
        assert_drawn(browser, ("chart-items", "chart-concentration"))
        bars = browser.evaluate("document.getElementById('chart-items').data[0].y.length")
        assert bars == len(body["nodes"]) - 1  # every item and other
        shown = browser.evaluate("document.querySelector('#total-median .value').textContent")
        assert shown == billions(body["nodes"]["total"]["years"][0]["median"])
        shown = browser.evaluate("document.querySelector('#top-share .value').textContent")
        assert shown == f"{100 * body['concentration'][0]['top_share']['median']:.1f}%"
        rows = browser.evaluate("document.querySelectorAll('#table-items tr').length")
        assert rows == 1 + len(body["nodes"])
        ARTIFACTS.mkdir(exist_ok=True)
        browser.screenshot(ARTIFACTS / "hierarchy.png")
        assert (ARTIFACTS / "hierarchy.png").stat().st_size > 30_000
    assert browser.console == [], browser.console


def test_the_markets_page_draws_the_shares_and_their_concentration(tmp_path, browser):
    with serving(tmp_path / "markets", EXPORTCAST_MODEL="snaive") as api:

        def made():
            r = api.get("/v1/series/kr-exports/markets")
            return r.json() if r.status_code == 200 else None

        body = wait_for(made, timeout=180, every=0.5)
        assert 'href="/dashboard/kr-exports/markets"' in api.get("/dashboard/kr-exports").text
        browser.open(f"{api.base_url}/dashboard/kr-exports/markets?poll=1")
        browser.wait_until("document.body.dataset.ready === 'true'", timeout=60)
        assert_drawn(browser, ("chart-market-shares", "chart-market-concentration"))
        regions = [r["id"] for r in body["regions"]]
        years = body["years"]
        complete = [p for p in body["published"] if p["herfindahl"] is not None]
        assert len(regions) == 11 and len(complete) >= 20
        # Per region, its published shares, then its projected medians with their 80% bars.
        traces = browser.evaluate(
            "document.getElementById('chart-market-shares').data.map(t => ({group: t.legendgroup,"
            " x: t.x, y: t.y, up: (t.error_y || {}).array, down: (t.error_y || {}).arrayminus}))"
        )
        assert len(traces) == 2 * len(regions)
        for i, region in enumerate(regions):
            past, projected = traces[2 * i], traces[2 * i + 1]
            assert past["group"] == projected["group"] == region
            assert past["y"] == [p["shares"][region] for p in complete]
            for x, p in zip(past["x"], complete, strict=True):
                # a year at the year; twelve months between the years they span
                first, *_, last = [int(y) for y in re.findall(r"\d{4}", p["period"]) * 2]
                assert first <= x <= last and (x == first or p["basis"] != "year"), p["period"]
            spreads = [y["regions"][region]["share"] for y in years]
            assert projected["x"] == [y["year"] for y in years]
            assert projected["y"] == [s["median"] for s in spreads]
            assert projected["up"] == pytest.approx(
                [s["intervals"]["80"][1] - s["median"] for s in spreads], abs=1e-12
            )
            assert projected["down"] == pytest.approx(
                [s["median"] - s["intervals"]["80"][0] for s in spreads], abs=1e-12
            )
        china = traces[2 * regions.index("china") + 1]["y"]
        assert china == [y["regions"]["china"]["share"]["median"] for y in years]
        # The Herfindahl index: published, then the projected median in its 80% band.
        herfindahl = browser.evaluate(
            "document.getElementById('chart-market-concentration').data.map(t => t.y)"
        )
        spreads = [y["concentration"]["herfindahl"] for y in years]
        assert herfindahl[0] == [p["herfindahl"] for p in complete]
        assert herfindahl[1] == [s["intervals"]["80"][1] for s in spreads]
        assert herfindahl[2] == [s["intervals"]["80"][0] for s in spreads]
        assert herfindahl[3] == [s["median"] for s in spreads]
        # The table: every region's share each year, median [80% interval], as the API says.
        cells = browser.evaluate(
            "[...document.querySelectorAll('#table-markets tr')]"
            ".map(r => [...r.children].map(c => c.textContent))"
        )
        assert cells[0] == ["region", *(str(y["year"]) for y in years)]
        assert [row[0] for row in cells[1:]] == [r["name"] for r in body["regions"]]
        for region, row in zip(regions, cells[1:], strict=True):
            expected = []
            for y in years:
                share = y["regions"][region]["share"]
                low, high = share["intervals"]["80"]
                expected.append(f"{percent(share['median'])} [{percent(low)}-{percent(high)}]")
            assert row[1:] == expected, region
        note = browser.evaluate("document.getElementById('markets-note').textContent")
        assert body["newest_composition"] in note and body["data_through"] in note
        ytd = body["year_to_date"]
        assert ytd is not None
        assert f"{ytd['year']}'s first {ytd['months']} months by destination are facts" in note
        # Polled again with its ETag: the unchanged markets cost the server a 304.
        browser.wait_until("document.getElementById('status').textContent.includes('checked')")
        ARTIFACTS.mkdir(exist_ok=True)
        browser.screenshot(ARTIFACTS / "markets.png")
        assert (ARTIFACTS / "markets.png").stat().st_size > 30_000
    assert browser.console == [], browser.console
