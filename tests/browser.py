"""Headless Chromium driven over the DevTools protocol (a websocket, JSON messages): load a
page, evaluate JavaScript in it, collect what it logged or threw, take a screenshot. Only
Debian's `chromium` and the `websockets` package uvicorn already brings are needed."""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.service_helpers import free_port, wait_for


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
        port = free_port()
        self.profile = tempfile.mkdtemp(prefix="exportcast-chromium-")
        self.process = subprocess.Popen(
            [
                chromium_path(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={self.profile}",
                f"--remote-debugging-port={port}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pages = wait_for(lambda: self._pages(port), timeout=30)
        self.ws = connect(pages[0]["webSocketDebuggerUrl"], max_size=50_000_000)
        self.ids = itertools.count(1)
        self.console: list[str] = []  # every console message and uncaught exception
        self.call("Runtime.enable")
        self.call("Page.enable")

    @staticmethod
    def _pages(port: int) -> list[dict] | None:
        try:
            listed = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=1).json()
        except httpx.HTTPError:
            return None
        return [p for p in listed if p.get("type") == "page"] or None

    def call(self, method: str, **params: Any) -> dict:
        """Send a command and wait for its answer; events met on the way are recorded."""
        id_ = next(self.ids)
        self.ws.send(json.dumps({"id": id_, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("id") == id_:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.console.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.console.append(f"uncaught: {details.get('exception', {}).get('description')}")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_until(self, expression: str, timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        guarded = f"(() => {{ try {{ return {expression}; }} catch (e) {{ return null; }} }})()"
        while time.monotonic() < deadline:
            value = self.evaluate(guarded)  # null while the page is still loading
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {expression}")

    def screenshot(self, path: Path) -> None:
        height = self.evaluate("document.documentElement.scrollHeight")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=int(height),
            deviceScaleFactor=1,
            mobile=False,
        )
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            self.process.wait(timeout=10)
            shutil.rmtree(self.profile, ignore_errors=True)
