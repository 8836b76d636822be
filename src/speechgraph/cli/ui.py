"""The `ui` command: runs the Streamlit app (`ui/app.py`) with this command's settings.

Settings travel to the app as SPEECHGRAPH_* environment variables, which the app reads through
`Settings.load()`. Streamlit itself is only started, never imported, here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from speechgraph.cli.common import settings_of
from speechgraph.config import CHECKOUT_DIR, PACKAGE_DIR, Settings
from speechgraph.errors import ConfigError

STOP_SECONDS = 15  # how long Streamlit may take to shut down before it is killed


def app_path() -> Path:
    """ui/app.py of the checkout, or the copy an installed wheel ships as speechgraph/ui."""
    for candidate in (CHECKOUT_DIR / "ui" / "app.py", PACKAGE_DIR / "ui" / "app.py"):
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"the Streamlit app is missing (looked for {CHECKOUT_DIR / 'ui'} and "
        f"{PACKAGE_DIR / 'ui'}): reinstall speechgraph"
    )


def ui_environment(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the app: `base` (default: this process's) plus the settings."""
    environment = dict(os.environ if base is None else base)
    environment.update(
        {
            "SPEECHGRAPH_DATA_DIR": str(settings.data_dir),
            "SPEECHGRAPH_DB_URL": settings.db_url,
            "SPEECHGRAPH_INGEST_DIR": str(settings.ingest_dir),
            "SPEECHGRAPH_MODEL": settings.model,
        }
    )
    return environment


def streamlit_command(app: Path, port: int, host: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--browser.serverAddress",
        host,
        "--browser.serverPort",
        str(port),
    ]


def ui(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port to serve the app on")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
) -> None:
    """Open the browser app: search, papers, reading paths, topics and catalogue health.

    On a first run with no catalogue, the app builds one offline from the bundled snapshot.
    """
    settings = settings_of(ctx)
    command = streamlit_command(app_path(), port, host)
    typer.echo(f"speechgraph UI on http://{host}:{port} (Ctrl+C to stop)", err=True)
    returncode = run_child(command, ui_environment(settings))
    if returncode not in (0, -2, -15, 130, 143):
        raise typer.Exit(returncode)


def run_child(command: list[str], environment: dict[str, str]) -> int:
    """Run `command` until it exits and return its exit code. Ctrl+C reaches the child too
    (same process group); on SIGTERM to this process alone (a service manager, `kill`) the
    child is stopped first and this process exits with 143, so the child never outlives it.
    A child that does not stop within STOP_SECONDS is killed."""
    process = subprocess.Popen(command, env=environment)
    is_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _exit_on_signal) if is_main else None
    try:
        return process.wait()
    except KeyboardInterrupt:
        return 0  # Ctrl+C reaches Streamlit too; it shuts down cleanly
    finally:
        _stop(process)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # leaves process.wait(); `finally` stops the child


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


COMMANDS = {"ui": ui}
