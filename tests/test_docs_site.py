"""The documentation site builds, strictly and offline, and its reference pages are complete.

The configuration table and the API reference are generated from the code at build time
(docs/hooks/generate.py); these tests check them against the code, not against a list, so a
setting or a route added later is checked too. README.md stays short and links only to
pages that exist.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from exportcast.service.config import Settings
from exportcast.service.main import create_app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = os.environ | {"NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return out


@pytest.fixture(scope="module")
def openapi(tmp_path_factory) -> dict:
    data_dir = tmp_path_factory.mktemp("data")
    return create_app(Settings(data_dir=data_dir, bootstrap=False), run_jobs=False).openapi()


def env_names() -> list[str]:
    prefix = Settings.model_config.get("env_prefix", "")
    return [f"{prefix}{name}".upper() for name in Settings.model_fields]


def test_the_configuration_page_lists_every_setting(site):
    html = (site / "configuration.html").read_text()
    names = env_names()
    assert len(names) >= 20
    missing = [n for n in names if f"<code>{n}</code>" not in html]
    assert not missing, f"settings missing from the configuration page: {missing}"


def test_the_api_page_names_every_path_and_method(site, openapi):
    html = (site / "api-reference.html").read_text()
    missing = [
        f"{method.upper()} {path}"
        for path, ops in openapi["paths"].items()
        for method in ops
        if f"<code>{method.upper()} {path}</code>" not in html
    ]
    assert not missing, f"operations missing from the API page: {missing}"
    assert all(f"<code>{path}</code>" in html for path in openapi["paths"])
    shipped = json.loads((site / "openapi.json").read_text())
    assert shipped["paths"].keys() == openapi["paths"].keys()


def test_the_site_loads_nothing_from_elsewhere(site):
    for page in site.glob("*.html"):
        html = page.read_text()
        outside = re.findall(r'<(?:script|img)[^>]+src="(https?://[^"]+)"', html)
        outside += re.findall(r'<link[^>]+href="(https?://[^"]+)"', html)
        assert not outside, f"{page.name} loads {outside}"


def test_the_readme_is_short_and_its_docs_links_resolve(site):
    text = README.read_text()
    assert len(text.splitlines()) < 250
    links = re.findall(r"\]\((docs/[^)\s#]+)(#[^)\s]*)?\)", text)
    assert links, "README.md links into the docs"
    for target, anchor in links:
        path = ROOT / target
        assert path.is_file(), f"README.md links to {target}, which does not exist"
        if path.suffix == ".md":
            built = site / Path(target).relative_to("docs").with_suffix(".html")
            assert built.is_file(), f"{target} is not a page of the site"
            if anchor:
                assert f'id="{anchor[1:]}"' in built.read_text(), f"{target}{anchor}"
