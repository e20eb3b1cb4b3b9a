"""The dashboard pages (`/` lists the series, `/dashboard/{series}` draws one,
`/dashboard/{series}/markets` its exports by market) and their scripts, served by the
service itself: plotly.js from the plotly package, no CDN.

Under EXPORTCAST_READ_REQUIRES_TOKEN the pages are reads like any other: a browser without
a session is sent to /login. The scripts and styles stay open: they carry no data.
"""

from __future__ import annotations

import html
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from exportcast.service.api.deps import StoreDep, require_page_reader
from exportcast.service.dashboard.page import (
    ASSETS,
    PLOTLY,
    POLL_SECONDS,
    dashboard_html,
    hierarchy_html,
    markets_html,
    plotly_js,
    static_dir,
)
from exportcast.service.store import NotFound, Store

router = APIRouter(include_in_schema=False)
PAGE = [Depends(require_page_reader)]
Poll = Annotated[float, Query(ge=1, le=3600, description="seconds between checks")]


INDEX_PAGE = 200  # series listed on one page of the index


@router.get("/", response_class=HTMLResponse, dependencies=PAGE)
async def index(
    store: StoreDep,
    after: Annotated[str | None, Query(max_length=200, description="the last id shown")] = None,
) -> HTMLResponse:
    """The series a page at a time, by id and name alone: it costs the same with ten
    series in the store or ten thousand."""
    names = await run_in_threadpool(store.series_names, INDEX_PAGE + 1, after)
    page, more = names[:INDEX_PAGE], len(names) > INDEX_PAGE
    hierarchies = await run_in_threadpool(store.hierarchies)
    items = "".join(
        f'<li><a href="/dashboard/{html.escape(id)}">{html.escape(name or id)}</a></li>'
        for id, name in page
    )
    following = (
        f'<p><a id="more" href="/?after={html.escape(quote(page[-1][0]))}">more series</a></p>'
        if more
        else ""
    )
    trees = "".join(
        f'<li><a href="/dashboard/hierarchies/{html.escape(h.id)}">{html.escape(h.id)}</a></li>'
        for h in hierarchies
    )
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>exportcast</title><link rel="stylesheet" href="{ASSETS}/dashboard.css">'
        "</head><body><header><h1>exportcast</h1></header><main><h2>Series</h2>"
        f'<ul id="series">{items}</ul>{following}<h2>Hierarchies</h2>'
        f'<ul id="hierarchies">{trees}</ul><p><a href="/docs">API docs</a></p></main></body></html>'
    )


async def _series_stored(store: Store, series_id: str) -> None:
    """A page of a series that is not stored is a 404 (read off the event loop)."""
    try:
        await run_in_threadpool(store.get_series, series_id)
    except NotFound:
        raise HTTPException(404, f"no series {series_id!r}") from None


@router.get("/dashboard/{series_id}", response_class=HTMLResponse, dependencies=PAGE)
async def dashboard(
    series_id: str,
    store: StoreDep,
    poll: Poll = POLL_SECONDS,
) -> HTMLResponse:
    await _series_stored(store, series_id)
    markets = await run_in_threadpool(store.destinations_stamp, series_id)
    return HTMLResponse(dashboard_html(series_id, poll, markets=markets is not None))


@router.get("/dashboard/hierarchies/{hierarchy_id}", response_class=HTMLResponse, dependencies=PAGE)
async def hierarchy_dashboard(
    hierarchy_id: str,
    store: StoreDep,
    poll: Poll = POLL_SECONDS,
) -> HTMLResponse:
    try:
        await run_in_threadpool(store.get_hierarchy, hierarchy_id)
    except NotFound:
        raise HTTPException(404, f"no hierarchy {hierarchy_id!r}") from None
    return HTMLResponse(hierarchy_html(hierarchy_id, poll))


# After the hierarchy page: /dashboard/hierarchies/markets is the hierarchy "markets".
@router.get("/dashboard/{series_id}/markets", response_class=HTMLResponse, dependencies=PAGE)
async def markets_dashboard(
    series_id: str,
    store: StoreDep,
    poll: Poll = POLL_SECONDS,
) -> HTMLResponse:
    """Served for any series: one without destination rows yet says so until some arrive."""
    await _series_stored(store, series_id)
    return HTMLResponse(markets_html(series_id, poll))


@router.get(PLOTLY)
def plotly() -> FileResponse:
    return FileResponse(plotly_js(), media_type="text/javascript")


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=static_dir()), name="dashboard-assets")
