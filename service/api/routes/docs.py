"""The interactive API docs (Swagger UI at /docs, ReDoc at /redoc) with their scripts and
styles served from here, so they work offline. FastAPI's own pages load them from a CDN:
offline they are blank. The assets ship inside the `fastapi-offline` package (Swagger UI
with OpenAPI 3.1 support, ReDoc); only its files are used.

Under EXPORTCAST_READ_REQUIRES_TOKEN the pages and /openapi.json are reads like any other
(the pages send a browser to /login); their scripts and styles stay open.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from exportcast.service.api.deps import require_page_reader, require_reader

ASSETS = "/static/docs"
OPENAPI = "/openapi.json"  # FastAPI's default openapi_url
PAGE = [Depends(require_page_reader)]

router = APIRouter(include_in_schema=False)


def assets_dir() -> Path:
    return Path(str(resources.files("fastapi_offline").joinpath("static")))


@router.get("/docs", response_class=HTMLResponse, dependencies=PAGE)
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI,
        title="exportcast - API docs",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
    )


@router.get("/redoc", response_class=HTMLResponse, dependencies=PAGE)
def redoc() -> HTMLResponse:
    return get_redoc_html(
        openapi_url=OPENAPI,
        title="exportcast - API reference",
        redoc_js_url=f"{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS}/favicon.png",
        with_google_fonts=False,
    )


def mount(app: FastAPI) -> None:
    """The docs pages and their assets, on an app made with docs_url=None, redoc_url=None.
    FastAPI's /openapi.json has no dependencies: it is served again behind the read rule."""
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=assets_dir()), name="docs-assets")
    own = [r for r in app.router.routes if getattr(r, "path", None) == app.openapi_url]
    for route in own:
        app.router.routes.remove(route)
        app.add_api_route(
            route.path,  # type: ignore[attr-defined]
            route.endpoint,  # type: ignore[attr-defined]
            include_in_schema=False,
            dependencies=[Depends(require_reader)],
        )
