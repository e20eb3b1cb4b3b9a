"""The API docs work without a network: every script and style /docs and /redoc load is
served by the service itself."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from exportcast.service.main import create_app
from tests.service_helpers import settings_for


def assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_the_docs_pages_load_only_what_the_service_serves(tmp_path):
    app = create_app(settings_for(tmp_path, bootstrap=False), run_jobs=False)
    with TestClient(app) as client:
        for page, needed in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
            r = client.get(page)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
            urls = assets(r.text)
            assert any(u.endswith(needed) for u in urls), urls
            for url in urls:
                assert url.startswith("/"), f"{page} loads {url} from elsewhere"
                got = client.get(url)
                assert got.status_code == 200, url
                assert len(got.content) > 1000, url  # the real file, not an error page
            assert "cdn" not in r.text.lower() and "fonts.googleapis" not in r.text
        # The bundled Swagger UI reads OpenAPI 3.1, which FastAPI writes.
        bundle = client.get("/static/docs/swagger-ui-bundle.js").text
        assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
        assert "isOAS31" in bundle
