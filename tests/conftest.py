"""Shared fixtures: the real seed catalogue built offline once per session, and settings for
fresh catalogues under tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from speechgraph.config import CHECKOUT_DIR, Settings

REPO_DIR = CHECKOUT_DIR
INGEST_DIR = REPO_DIR / "ingest"
SHARED_DIR = REPO_DIR.parent / "shared"
SEEDS_DIR = SHARED_DIR / "seeds"
FACTS_DIR = SHARED_DIR / "catalogue"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a catalogue under `data_dir`, reading the project's ingest/ by default."""
    base = Settings.load(data_dir=data_dir, ingest_dir=INGEST_DIR)
    return base.with_overrides(**overrides)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own settings or touches the network through a proxy."""
    for name in (
        "SPEECHGRAPH_DB_URL",
        "SPEECHGRAPH_DATA_DIR",
        "SPEECHGRAPH_INGEST_DIR",
        "SPEECHGRAPH_MODEL",
        "SPEECHGRAPH_ARXIV_URL",
        "SPEECHGRAPH_S2_URL",
        "S2_API_KEY",
        "SPEECHGRAPH_CURATION",
        "SPEECHGRAPH_MAX_LIST_MB",
        "SPEECHGRAPH_OAI_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The full seed catalogue built offline from ingest/ (with its search index), read-only.

    Tests that change a catalogue use `seed_copy` instead.
    """
    from speechgraph.update.refresh import refresh_catalogue

    settings = make_settings(tmp_path_factory.mktemp("seed-catalogue"))
    refresh_catalogue(settings, offline=True)
    return settings


@pytest.fixture
def seed_copy(seed_settings: Settings, tmp_path: Path) -> Settings:
    """A private copy of the seed catalogue's data directory, free to change."""
    target = tmp_path / "data"
    shutil.copytree(seed_settings.data_dir, target)
    return make_settings(target)


@pytest.fixture
def fresh_settings(tmp_path: Path) -> Settings:
    """Settings for an empty catalogue under tmp_path."""
    return make_settings(tmp_path / "data")


@contextmanager
def read_only_view(directory: Path) -> Iterator[Path]:
    """`directory` seen through a read-only bind mount (as root), or made read-only with chmod
    (as another user); skips the test where neither is possible."""
    if os.geteuid() != 0:
        modes = {path: path.stat().st_mode for path in [directory, *directory.rglob("*")]}
        for path in modes:
            path.chmod(modes[path] & ~0o222)
        try:
            yield directory
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    view = directory.with_name(directory.name + "-read-only")
    view.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(directory), str(view)], capture_output=True)
    if mounted.returncode != 0:
        view.rmdir()
        pytest.skip(f"no read-only bind mount here: {mounted.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True)
        yield view
    finally:
        subprocess.run(["umount", "--lazy", str(view)], check=True)
        view.rmdir()
