"""`speechgraph status` on its light path: the same answer as the counting statements through
SQLAlchemy, counts kept by bulk writers only while no other write came since, a process that
never imports SQLAlchemy, FAISS or torch, and read-only catalogues."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SHARED_DIR, make_settings, read_only_view
from speechgraph.catalogue.queries import catalogue_status
from speechgraph.catalogue.status import read_status_quickly
from speechgraph.catalogue.store import open_db
from speechgraph.cli import app
from speechgraph.config import Settings
from speechgraph.search.manifest import vector_count
from speechgraph.update.importer import import_metadata

CORPUS = SHARED_DIR / "corpus" / "speech-arxiv.jsonl.gz"
SEED_PAPERS = SHARED_DIR / "corpus" / "seed-papers.jsonl"
SRC_DIR = Path(__file__).resolve().parents[1] / "src"


def status_json(settings: Settings) -> dict[str, object]:
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), "status", "--json"])
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def full_status(settings: Settings) -> dict[str, object]:
    store = open_db(settings.db_url)
    try:
        return catalogue_status(store)
    finally:
        store.dispose()


@pytest.fixture
def imported(seed_copy: Settings) -> Settings:
    """The seed catalogue (lists, mentions, a search index) with the seed papers' abstracts
    and some corpus papers imported over it."""
    import_metadata(seed_copy, [SEED_PAPERS], categories="all")
    return seed_copy


def test_the_light_path_answers_as_the_full_path(imported: Settings) -> None:
    quick = read_status_quickly(imported.db_url)
    assert quick is not None and quick == full_status(imported)
    shown = status_json(imported)
    assert {key: shown[key] for key in quick} == quick
    assert shown["with_vector"] == vector_count(imported.index_dir) > 0
    assert quick["listed"] > 0 and quick["by_origin"]["import"] > 0  # type: ignore[index]


def test_kept_counts_serve_only_their_catalogue_version(imported: Settings) -> None:
    before = status_json(imported)
    store = open_db(imported.db_url)
    with store.writing() as writer:
        removed = writer.remove_papers(["2006.11477"])
    store.dispose()
    assert removed == 1
    after = status_json(imported)
    assert after["papers"] == before["papers"] - 1  # type: ignore[operator]
    assert after == {**full_status(imported), **{k: after[k] for k in ("with_vector", "data_dir")}}


def test_status_imports_neither_sqlalchemy_nor_faiss_nor_torch(imported: Settings) -> None:
    program = (
        "import sys\n"
        "from speechgraph.cli.app import main\n"
        f"sys.argv = ['speechgraph', '--data-dir', {str(imported.data_dir)!r}, 'status']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted({'sqlalchemy', 'sqlmodel', 'faiss', 'torch', 'numpy'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC_DIR), "PATH": "/usr/bin:/bin"},
    )
    assert "papers" in result.stdout and result.stdout.strip().endswith("[]")


def test_a_read_only_catalogue_shows_its_status(imported: Settings) -> None:
    expected = full_status(imported)
    with read_only_view(imported.data_dir) as view:
        settings = make_settings(view)
        assert read_status_quickly(settings.db_url) == expected
        assert status_json(settings)["papers"] == expected["papers"]


def test_other_databases_and_missing_files_take_the_full_path(tmp_path: Path) -> None:
    assert read_status_quickly(f"sqlite:///{tmp_path / 'none.db'}") is None
    assert read_status_quickly("postgresql+psycopg://user@127.0.0.1/db") is None
    assert read_status_quickly("sqlite://") is None
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "empty"), "status"])
    assert result.exit_code == 1 and "no catalogue" in result.stderr


def test_a_manifest_is_counted_from_its_head_or_whole(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps({"model": "m", "dimension": 3, "count": 2, "ids": ["a", "b"]})
    )
    assert vector_count(tmp_path) == 2
    (tmp_path / "manifest.json").write_text(json.dumps({"ids": ["a"], "count": 1}))
    assert vector_count(tmp_path) == 1
    (tmp_path / "manifest.json").write_text("{broken")
    assert vector_count(tmp_path) == 0
    assert vector_count(tmp_path / "nowhere") == 0


def test_a_keyword_search_works_before_any_vector_index(tmp_path: Path) -> None:
    """An import leaves no vector index; `search --mode lexical` answers from the keyword index
    alone and says how many papers wait for a vector, and hybrid search asks for `index`."""
    settings = make_settings(tmp_path / "data")
    import_metadata(settings, [SEED_PAPERS], categories="all")
    base = ["--data-dir", str(settings.data_dir), "search", "speaker verification"]
    result = CliRunner().invoke(app, [*base, "--mode", "lexical", "--json"])
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["results"] and "no vector yet" in found["notes"][0]
    result = CliRunner().invoke(app, base)
    assert result.exit_code == 1 and "speechgraph index" in result.stderr
