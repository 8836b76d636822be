"""Shared fixtures of the search tests: the real model (loaded once per session) and a small
catalogue of 16 papers with our own notes, stored through `open_db` and indexed for real.

Imported by test_embed.py, test_index.py and test_search.py; session fixtures run once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from speechgraph.catalogue.store import Store, open_db
from speechgraph.config import DEFAULT_MODEL, Settings
from speechgraph.records import ARXIV, Mention, PaperRecord, Resolution, ResolvedList
from speechgraph.search.encoder import TorchEncoder, load_encoder

FIXTURE_FILE = Path(__file__).parent / "data" / "search" / "papers.json"


def fixture_papers() -> dict:
    return json.loads(FIXTURE_FILE.read_text(encoding="utf-8"))


def run_python(*lines: str) -> str:
    """Run `lines` as a program in a fresh interpreter (whose imports are its own); its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(lines)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def settings_for(data_dir: Path) -> Settings:
    return Settings.load(data_dir=data_dir, db_url=f"sqlite:///{data_dir / 'speechgraph.db'}")


def store_fixture_catalogue(store: Store) -> None:
    """Write the fixture papers, their reading lists and mentions; bump the catalogue version."""
    data = fixture_papers()
    with store.writing() as writer:
        mentions: dict[str, list[tuple[Mention, Resolution]]] = {name: [] for name in data["lists"]}
        for line, paper in enumerate(data["papers"], start=1):
            record = PaperRecord(
                arxiv_id=paper["id"],
                title=paper["title"],
                authors=paper["authors"],
                published=date.fromisoformat(paper["published"]),
                categories=paper["categories"],
                source="snapshot",
            )
            writer.upsert_paper(record, note=paper["note"])
            if paper.get("list"):
                mention = Mention(
                    list_name=paper["list"],
                    section=paper["section"],
                    link_text=paper["title"].split(":")[0],
                    line=line,
                    kind=ARXIV,
                    url=f"https://arxiv.org/abs/{paper['id']}",
                    arxiv_id=paper["id"],
                )
                mentions[paper["list"]].append((mention, Resolution(paper["id"], "link")))
        for name, rows in mentions.items():
            writer.replace_list(ResolvedList(name, f"tests/{name}.md", None, rows, []))
        writer.bump_catalogue_version()


@pytest.fixture(scope="session", name="encoder")
def encoder_fixture(tmp_path_factory: pytest.TempPathFactory) -> TorchEncoder:
    """The real default model, from the installed wheel, offline."""
    return load_encoder(DEFAULT_MODEL, tmp_path_factory.mktemp("model-memo"))


@pytest.fixture(scope="session", name="onnx_cache")
def onnx_cache_fixture(tmp_path_factory: pytest.TempPathFactory, encoder: TorchEncoder) -> Path:
    """A cache directory holding the ONNX export of the session's model (made once, ~3 s);
    without the `onnx` package it stays empty and searches use torch."""
    from speechgraph.search.onnx import export_onnx

    cache_dir = tmp_path_factory.mktemp("onnx-cache")
    export_onnx(encoder, cache_dir)
    (cache_dir / "onnx").mkdir(exist_ok=True)
    return cache_dir


@pytest.fixture(scope="session", name="search_home")
def search_home_fixture(
    tmp_path_factory: pytest.TempPathFactory, encoder: TorchEncoder, onnx_cache: Path
) -> Settings:
    """A data directory holding the fixture catalogue, its indexes and the ONNX query model."""
    from speechgraph.search.indexing import sync_index

    settings = settings_for(tmp_path_factory.mktemp("search-home"))
    settings.cache_dir.mkdir(parents=True)
    (settings.cache_dir / "onnx").symlink_to(onnx_cache / "onnx")
    store = open_db(settings.db_url)
    try:
        store_fixture_catalogue(store)
        sync_index(settings, store, encoder=encoder)
    finally:
        store.dispose()
    return settings


@pytest.fixture(name="fresh_home")
def fresh_home_fixture(tmp_path: Path, search_home: Settings) -> Settings:
    """A private copy of `search_home` that a test may change (the ONNX export is shared)."""
    data_dir = tmp_path / "home"
    shutil.copytree(search_home.data_dir, data_dir, ignore=shutil.ignore_patterns("onnx"))
    (data_dir / "cache" / "onnx").symlink_to(search_home.cache_dir / "onnx")
    return settings_for(data_dir)
