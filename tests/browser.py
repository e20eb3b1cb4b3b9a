"""Headless Chromium driven by Playwright: load a page, evaluate JavaScript in it, collect what
it logged or threw (console messages, uncaught exceptions, resources that failed to load),
take a screenshot. The browser is Debian's `chromium`: Playwright only drives it, its own
browser download is never used, so the tests need no network."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    found = os.environ.get("EXPORTCAST_CHROMIUM") or shutil.which("chromium")
    if not found:
        raise AssertionError(
            "the browser test needs Chromium: apt-get install chromium (Debian's package; "
            ".ci/run installs it where missing), or EXPORTCAST_CHROMIUM=/path/to/chromium"
        )
    return found


class Browser:
    """One headless Chromium with one page."""

    def __init__(self, width: int = 1280, height: int = 1800):
        self.console: list[str] = []  # every console message and uncaught exception
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=chromium_path(), headless=True, args=ARGS
            )
            self.page = self._browser.new_page(viewport={"width": width, "height": height})
        except BaseException:
            self._playwright.stop()
            raise
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_pageerror)
        self.page.on("crash", lambda _page: self.console.append("the page crashed"))

    def _on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if text.startswith("Failed to load resource"):  # Chromium's own log: which resource
            url = message.location.get("url", "")
            if urlsplit(url).path == "/favicon.ico":
                return  # asked for by the browser itself, not by the page
            text = f"{text}: {url}"
        self.console.append(f"console.{message.type}: {text}")

    def _on_pageerror(self, error: PlaywrightError) -> None:
        self.console.append(f"uncaught: {error.stack or error.message}")

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="domcontentloaded", timeout=60_000)

    def evaluate(self, expression: str) -> Any:
        try:
            return self.page.evaluate(expression)
        except PlaywrightError as e:
            raise RuntimeError(f"{expression}: {e.message}") from None

    def wait_until(self, expression: str, timeout: float = 60.0) -> Any:
        """The first truthy value of `expression`, polled in the page (again after a load)."""
        guarded = f"() => {{ try {{ return {expression}; }} catch (e) {{ return null; }} }}"
        try:
            handle = self.page.wait_for_function(guarded, polling=200, timeout=timeout * 1000)
        except PlaywrightTimeout:
            raise AssertionError(f"timed out waiting for {expression}") from None
        return handle.json_value()

    def screenshot(self, path: Path) -> None:
        self.page.screenshot(path=path, full_page=True)

    def close(self) -> None:
        try:
            self._browser.close()
        finally:
            self._playwright.stop()
