"""A non-editable install works away from the checkout: the wheel ships ingest/ and ui/, an
offline refresh builds the catalogue from the bundled snapshot, and the UI starts."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO_DIR
from speechgraph.config import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, seed_settings: Settings) -> dict[str, str]:
    """The wheel built from this checkout, installed (without its dependencies, which the test
    environment has) into a directory of its own; the environment to run it from elsewhere.
    The seed catalogue's caches (embeddings, ONNX export) are copied in, so the model is not
    loaded again: the model itself is tested elsewhere."""
    root = tmp_path_factory.mktemp("installed")
    shutil.copytree(seed_settings.cache_dir, root / "data-home" / "speechgraph" / "cache")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*build, "-w", str(root / "dist"), str(REPO_DIR)], check=True)
    wheel = next((root / "dist").glob("speechgraph-*.whl"))
    site = root / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site)]
    subprocess.run([*install, str(wheel)], check=True)
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("SPEECHGRAPH_")
    }
    environment.update(
        PYTHONPATH=str(site), XDG_DATA_HOME=str(root / "data-home"), HF_HUB_OFFLINE="1"
    )
    (root / "elsewhere").mkdir()
    return {"site": str(site), "cwd": str(root / "elsewhere"), **environment}


def run(installed: dict[str, str], *code: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in installed.items() if k not in ("site", "cwd")}
    return subprocess.run(
        [sys.executable, "-c", "\n".join(code)],
        cwd=installed["cwd"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_wheel_ships_the_snapshot_and_the_app(installed: dict[str, str]) -> None:
    package = Path(installed["site"]) / "speechgraph"
    assert (package / "ingest" / "snapshot.json").is_file()
    assert (package / "ingest" / "sources.toml").is_file()
    assert (package / "ui" / "app.py").is_file() and (package / "ui" / "ui_support.py").is_file()
    assert not (package / "ingest" / "bootstrap_snapshot.py").exists()


def test_an_offline_refresh_works_from_another_directory(installed: dict[str, str]) -> None:
    done = run(
        installed,
        "import speechgraph, sys",
        "from speechgraph.cli import main",
        f"assert speechgraph.__file__.startswith({installed['site']!r}), speechgraph.__file__",
        "sys.argv = ['speechgraph', 'refresh', '--offline', '--json']",
        "main()",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["counts"]["new"] == 84 and report["counts"]["failed"] == 0
    assert {entry["origin"] for entry in report["lists"]} == {"snapshot"}  # no seeds beside it
    data_dir = Path(installed["XDG_DATA_HOME"]) / "speechgraph"
    assert (data_dir / "speechgraph.db").is_file()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_installed_ui_starts_and_renders(installed: dict[str, str]) -> None:
    environment = {k: v for k, v in installed.items() if k not in ("site", "cwd")}
    port = free_port()
    command = [sys.executable, "-m", "speechgraph", "ui", "--port", str(port)]
    server = subprocess.Popen(
        command, cwd=installed["cwd"], env=environment, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        healthy = False
        while time.monotonic() < deadline and not healthy:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as answer:
                    healthy = answer.read() == b"ok"
            except OSError:
                time.sleep(0.5)
        assert healthy, "the installed UI never answered"
    finally:
        server.terminate()
        server.wait(timeout=30)
    app = Path(installed["site"]) / "speechgraph" / "ui" / "app.py"
    done = run(
        installed,
        "import sys",
        f"sys.path.insert(0, {str(app.parent)!r})  # as `streamlit run` does",
        "from streamlit.testing.v1 import AppTest",
        f"page = AppTest.from_file({str(app)!r}, default_timeout=120).run()",
        "assert not page.exception, [e.value for e in page.exception]",
        "print(page.title[0].value)",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Search" in done.stdout
