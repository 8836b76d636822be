"""The app in a real browser: `streamlit run` on 127.0.0.1, each page opened in headless Debian
Chromium through the DevTools protocol, a screenshot saved, and no Streamlit exception allowed.

Chromium's `--dump-dom` returns before Streamlit's websocket has delivered the page, so the
check drives the browser over CDP (the `websockets` client, a Streamlit dependency) and
waits for each page's own text. Skipped, saying why, when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from speechgraph.catalogue.store import open_db
from speechgraph.config import CHECKOUT_DIR, Settings
from speechgraph.records import PaperRecord

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
APP = CHECKOUT_DIR / "ui" / "app.py"
HOSTILE_ID = "2501.99999"
HOSTILE_TITLE = "<script>alert(1)</script> **bold** :red[red] $x$"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]
# (url path, text that shows the page has rendered, whether a Plotly chart must be drawn)
PAGES = [
    ("?q=neural+vocoder", "Open paper", False),
    ("paper?id=2106.06103", "Note (written by speechgraph, not an abstract)", False),
    ("reading_path?id=2106.06103", "From one paper to another", True),
    ("topics", "Clusters", True),
    ("catalogue", "Refresh the catalogue", False),
    (f"paper?id={HOSTILE_ID}", "Where the reading lists mention it", False),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


@dataclass
class Server:
    url: str
    log: Path


@pytest.fixture(scope="module")
def app_server(
    seed_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The app on a copy of the seed catalogue holding one paper with a hostile title."""
    if not Path(CHROMIUM).exists():
        pytest.skip(
            "Debian's chromium is not installed (apt-get install chromium): browser check skipped"
        )
    home = tmp_path_factory.mktemp("browser")
    data_dir = home / "data"
    shutil.copytree(seed_settings.data_dir, data_dir)
    store = open_db(f"sqlite:///{data_dir / 'speechgraph.db'}")
    with store.writing() as writer:
        record = PaperRecord(HOSTILE_ID, HOSTILE_TITLE, ["Mallory"], date(2025, 1, 2))
        writer.upsert_paper(record, note="A note with <b>tags</b> and **stars**.")
    store.dispose()
    port = free_port()
    log = home / "streamlit.log"
    environment = {
        **os.environ,
        "SPEECHGRAPH_DATA_DIR": str(data_dir),
        "SPEECHGRAPH_INGEST_DIR": str(seed_settings.ingest_dir),
    }
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/_stcore/health", 60)
        yield Server(f"http://127.0.0.1:{port}/", log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


class Browser:
    """One headless Chromium page driven over the DevTools protocol."""

    def __init__(self, profile: Path) -> None:
        self.process = subprocess.Popen(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
            targets = json.load(answer)
        self.endpoint = next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
        self.connection: Any = None
        self.next_id = 0

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        self.connection = await connect(self.endpoint, max_size=64 << 20)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message_id = self.next_id
        await self.connection.send(
            json.dumps({"id": message_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(await self.connection.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def open(self, url: str, ready_text: str, needs_chart: bool, seconds: float) -> None:
        await self.call("Page.navigate", url=url)
        check = (
            f"document.body && document.body.innerText.includes({json.dumps(ready_text)})"
            + (" && !!document.querySelector('.js-plotly-plot .main-svg')" if needs_chart else "")
            + " && !document.querySelector('[data-testid=\"stStatusWidget\"] *')"
        )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if await self.evaluate(check):
                await asyncio.sleep(1.0)  # let late elements (charts, tables) settle
                return
            await asyncio.sleep(0.25)
        text = await self.evaluate("document.body ? document.body.innerText : ''")
        raise AssertionError(f"{url} did not show {ready_text!r} in {seconds} s:\n{text[:2000]}")

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))

    async def disconnect(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def test_every_page_renders_without_an_exception(
    app_server: Server, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shots = tmp_path_factory.mktemp("screenshots")
    browser = Browser(tmp_path_factory.mktemp("chromium-profile"))
    found: dict[str, dict[str, Any]] = {}

    async def visit_all() -> None:
        await browser.connect()
        await browser.call("Page.enable")
        await browser.call("Runtime.enable")
        for path, ready_text, needs_chart in PAGES:
            url = app_server.url + path
            await browser.open(url, ready_text, needs_chart, seconds=90)
            name = path.split("?")[0] or "search"
            if HOSTILE_ID in path:
                name = "hostile-paper"
            await browser.screenshot(shots / f"{name}.png")
            found[name] = {
                "exceptions": await browser.evaluate(
                    "document.querySelectorAll('[data-testid=\"stException\"]').length"
                ),
                "text": await browser.evaluate("document.body.innerText"),
                "alert_scripts": await browser.evaluate(
                    "[...document.scripts].some(s => s.textContent.includes('alert(1)'))"
                ),
                "bold": await browser.evaluate(
                    "[...document.querySelectorAll('strong')].some(b => b.textContent === 'bold')"
                ),
            }
        await browser.disconnect()

    try:
        asyncio.run(visit_all())
    finally:
        browser.close()
    print(f"screenshots in {shots}")
    for name, page in found.items():
        assert page["exceptions"] == 0, f"{name}: Streamlit exception shown:\n{page['text'][:2000]}"
        assert "Traceback" not in page["text"], name
    assert "WaveGlow" in found["search"]["text"] or "HiFi-GAN" in found["search"]["text"]
    hostile = found["hostile-paper"]
    assert HOSTILE_TITLE in hostile["text"]  # shown literally, Markdown and all
    assert "A note with <b>tags</b> and **stars**." in hostile["text"]
    assert not hostile["alert_scripts"] and not hostile["bold"]
    assert len(list(shots.glob("*.png"))) == len(PAGES)
