"""The dashboard's HTML: a shell the script fills from the API (`static/dashboard.js`)."""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from urllib.parse import quote

ASSETS = "/static/dashboard"
PLOTLY = "/static/plotly/plotly.min.js"
POLL_SECONDS = 15.0


def static_dir() -> Path:
    return Path(str(resources.files(__name__.rpartition(".")[0]).joinpath("static")))


def plotly_js() -> Path:
    """plotly.js as the plotly wheel ships it (about 4.8 MB, minified)."""
    return Path(str(resources.files("plotly").joinpath("package_data/plotly.min.js")))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _script(text: str) -> str:
    """Text safe inside a <script> element: no "</script" can end it early."""
    return text.replace("</", "<\\/")


def dashboard_html(
    series_id: str,
    poll_seconds: float = POLL_SECONDS,
    data: dict | None = None,
    markets: bool = False,
) -> str:
    """The page the service serves; with `data` (the API's bodies: `forecast`,
    `observations`, `series`, `track`, `moves`), one self-contained file that reads them instead
    of the API, with its scripts and styles inlined (a report for e-mail and archives). With
    `markets` (the series has destination rows), it links to the series' markets page."""
    config = {"series": series_id, "pollSeconds": poll_seconds}
    if data is not None:
        config["data"] = data
    name = html.escape(series_id)
    if data is None:
        style = f'<link rel="stylesheet" href="{ASSETS}/dashboard.css">'
        scripts = _linked("dashboard.js")
    else:
        style = f"<style>{_read(static_dir() / 'dashboard.css')}</style>"
        files = (plotly_js(), static_dir() / "common.js", static_dir() / "dashboard.js")
        scripts = "\n".join(f"<script>{_script(_read(f))}</script>" for f in files)
    config_script = f"<script>window.EXPORTCAST = {_script(json.dumps(config))};</script>"
    nav = _nav("markets-link", f"{_series_path(series_id)}/markets", "Exports by market")
    return _page(name, style, SERIES_MAIN, config_script, scripts, nav if markets else "")


def hierarchy_html(hierarchy_id: str, poll_seconds: float = POLL_SECONDS) -> str:
    """A hierarchy's page: its items this year and its concentration, from the API."""
    config = {"hierarchy": hierarchy_id, "pollSeconds": poll_seconds}
    name = html.escape(hierarchy_id)
    style = f'<link rel="stylesheet" href="{ASSETS}/dashboard.css">'
    config_script = f"<script>window.EXPORTCAST_HIERARCHY = {_script(json.dumps(config))};</script>"
    return _page(name, style, HIERARCHY_MAIN, config_script, _linked("hierarchy.js"))


def markets_html(series_id: str, poll_seconds: float = POLL_SECONDS) -> str:
    """A series' markets: each region's share by year, published then projected, and how
    concentrated the markets are, from the API."""
    config = {"series": series_id, "pollSeconds": poll_seconds}
    name = html.escape(series_id)
    style = f'<link rel="stylesheet" href="{ASSETS}/dashboard.css">'
    config_script = f"<script>window.EXPORTCAST_MARKETS = {_script(json.dumps(config))};</script>"
    nav = _nav("series-link", _series_path(series_id), "The forecast of the total")
    return _page(name, style, MARKETS_MAIN, config_script, _linked("markets.js"), nav)


def _series_path(series_id: str) -> str:
    return f"/dashboard/{quote(series_id)}"


def _nav(id: str, href: str, text: str) -> str:
    return f'<nav><a id="{id}" href="{html.escape(href)}">{html.escape(text)}</a></nav>'


def _linked(page_script: str) -> str:
    """plotly.js, the shared helpers and the page's own script, loaded from the service."""
    sources = (PLOTLY, f"{ASSETS}/common.js", f"{ASSETS}/{page_script}")
    return "\n".join(f'<script src="{src}"></script>' for src in sources)


def _page(name: str, style: str, main: str, config_script: str, scripts: str, nav: str = "") -> str:
    """The shell every page shares: head, title, status line and links to the series' other
    pages, `main`, then the scripts."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} - exportcast</title>
{style}
</head>
<body>
<header>
  <h1 id="title">{name}</h1>
  <p id="status" role="status" aria-live="polite">loading...</p>
  {nav}
</header>
{main}
<footer><p>Data and model: <a href="/docs">API docs</a>.</p></footer>
{config_script}
{scripts}
</body>
</html>
"""


SERIES_MAIN = """<main>
  <section aria-labelledby="h-headline">
    <h2 id="h-headline">Where this year lands</h2>
    <div id="headline" class="cards"></div>
  </section>
  <section aria-labelledby="h-monthly">
    <h2 id="h-monthly">Monthly exports and the forecast fan (80% and 95%)</h2>
    <div id="chart-monthly" class="chart" role="img"></div>
  </section>
  <section aria-labelledby="h-annual">
    <h2 id="h-annual">Annual totals, actual and projected, with the targets</h2>
    <div id="chart-annual" class="chart" role="img"></div>
    <table id="table-annual"></table>
  </section>
  <section aria-labelledby="h-targets">
    <h2 id="h-targets">The chance of reaching each target</h2>
    <div id="chart-targets" class="chart" role="img"></div>
    <div id="chart-crossing" class="chart" role="img"></div>
  </section>
  <section aria-labelledby="h-track">
    <h2 id="h-track">This year's projection as each month came in, and the official outlooks</h2>
    <div id="chart-track" class="chart" role="img"></div>
    <table id="table-outlooks"></table>
  </section>
  <section aria-labelledby="h-moves">
    <h2 id="h-moves">Why it moved: this version against the one before, step by step</h2>
    <p id="moves-note"></p>
    <div id="chart-moves" class="chart" role="img"></div>
    <table id="table-moves"></table>
  </section>
</main>"""

HIERARCHY_MAIN = """<main>
  <section aria-labelledby="h-headline">
    <h2 id="h-headline">This year, from paths on which the items add up to the total</h2>
    <div id="headline" class="cards"></div>
  </section>
  <section aria-labelledby="h-items">
    <h2 id="h-items">This year's exports by item (median and 80% interval)</h2>
    <div id="chart-items" class="chart" role="img"></div>
  </section>
  <section aria-labelledby="h-concentration">
    <h2 id="h-concentration">How concentrated exports are: published, then projected (80%)</h2>
    <div id="chart-concentration" class="chart" role="img"></div>
  </section>
  <section aria-labelledby="h-table">
    <h2 id="h-table">Every node by year</h2>
    <table id="table-items"></table>
  </section>
</main>"""

MARKETS_MAIN = """<main>
  <section aria-labelledby="h-shares">
    <h2 id="h-shares">Each region's share of exports: published, then projected (80%)</h2>
    <div id="chart-market-shares" class="chart tall" role="img"></div>
  </section>
  <section aria-labelledby="h-concentration">
    <h2 id="h-concentration">How concentrated the markets are: the Herfindahl index (80%)</h2>
    <div id="chart-market-concentration" class="chart" role="img"></div>
  </section>
  <section aria-labelledby="h-table">
    <h2 id="h-table">Each region's share by year (median and 80% interval)</h2>
    <p id="markets-note"></p>
    <table id="table-markets"></table>
  </section>
</main>"""
