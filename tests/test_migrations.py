"""Schema migrations: a catalogue written by the release in cfc6e90 (schema 1, kept as
tests/data/catalogues/v1-cfc6e90.db, built by that release's `refresh --offline`) opens with
today's code: backed up, upgraded in place, nothing lost, and every command works."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import make_settings, read_only_view
from speechgraph.catalogue.migrations import SCHEMA_VERSION
from speechgraph.catalogue.queries import load_papers
from speechgraph.catalogue.store import open_db
from speechgraph.cli import app
from speechgraph.config import Settings
from speechgraph.errors import DatabaseError

RELEASE_1 = Path(__file__).parent / "data" / "catalogues" / "v1-cfc6e90.db"


def rows(database: Path, query: str) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


@pytest.fixture
def old_catalogue(tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    shutil.copy(RELEASE_1, settings.data_dir / "speechgraph.db")
    return settings


def test_the_fixture_is_a_release_1_catalogue() -> None:
    assert rows(RELEASE_1, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]
    columns = {row[1] for row in rows(RELEASE_1, "PRAGMA table_info(paper)")}
    assert "changed_in" not in columns and "note" in columns


def test_opening_upgrades_in_place_with_a_backup_and_loses_nothing(
    old_catalogue: Settings,
) -> None:
    database = old_catalogue.data_dir / "speechgraph.db"
    papers_before = rows(
        database, "SELECT id, title, note, aliases, builds_on FROM paper ORDER BY id"
    )
    mentions_before = rows(database, "SELECT * FROM mention ORDER BY id")
    authors_before = rows(database, "SELECT * FROM paperauthor ORDER BY paper_id, position")
    store = open_db(old_catalogue.db_url, create=False)
    papers = load_papers(store)
    store.dispose()
    assert rows(database, "SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    assert rows(database, "SELECT id, title, note, aliases, builds_on FROM paper ORDER BY id") == (
        papers_before
    )
    assert rows(database, "SELECT * FROM mention ORDER BY id") == mentions_before
    assert rows(database, "SELECT * FROM paperauthor ORDER BY paper_id, position") == authors_before
    assert len(papers) == 84 and all(paper.origins == ["list", "snapshot"] for paper in papers)
    (backup,) = old_catalogue.data_dir.glob("speechgraph.schema1-*.bak.db")
    assert rows(backup, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]
    assert rows(backup, "SELECT count(*) FROM paper") == [(84,)]
    store = open_db(old_catalogue.db_url, create=False)  # a second open changes nothing
    store.dispose()
    assert len(list(old_catalogue.data_dir.glob("*.bak.db"))) == 1


def invoke(settings: Settings, *arguments: str) -> str:
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), *arguments])
    assert result.exit_code == 0, (arguments, result.output)
    return result.stdout


@pytest.mark.slow
def test_every_command_works_on_an_upgraded_release_1_catalogue(old_catalogue: Settings) -> None:
    assert json.loads(invoke(old_catalogue, "list", "--json"))["papers"][0]["origins"]
    assert json.loads(invoke(old_catalogue, "show", "VITS", "--json"))["id"] == "2106.06103"
    assert "Mislabelled links (5)" in invoke(old_catalogue, "audit")
    invoke(old_catalogue, "index")
    hits = json.loads(invoke(old_catalogue, "search", "neural vocoder", "--json"))["results"]
    assert hits and {"2010.05646", "1609.03499"} & {hit["id"] for hit in hits[:5]}
    assert json.loads(invoke(old_catalogue, "similar", "HiFi-GAN", "--json"))["results"]
    assert json.loads(invoke(old_catalogue, "prereqs", "VITS", "--json"))["plan"]
    assert json.loads(invoke(old_catalogue, "path", "1706.03762", "2305.05084", "--json"))["found"]
    assert json.loads(invoke(old_catalogue, "clusters", "--json"))["clusters"]
    assert "@misc{" in invoke(old_catalogue, "export", "--format", "bibtex")
    report = json.loads(invoke(old_catalogue, "refresh", "--offline", "--json"))
    assert report["counts"]["new"] == 0 and report["counts"]["failed"] == 0


def test_a_read_only_old_catalogue_is_refused_in_one_line(old_catalogue: Settings) -> None:
    refusal = pytest.raises(DatabaseError, match=r"older speechgraph .* `speechgraph upgrade`")
    with read_only_view(old_catalogue.data_dir) as view, refusal:
        open_db(f"sqlite:///{view / 'speechgraph.db'}", create=False)
    database = old_catalogue.data_dir / "speechgraph.db"
    assert rows(database, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]


def test_the_upgrade_command_says_what_it_did(old_catalogue: Settings) -> None:
    first = json.loads(invoke(old_catalogue, "upgrade", "--json"))
    assert first["upgraded_from"] == 1 and first["schema"] == SCHEMA_VERSION
    assert Path(first["backup"]).is_file()
    assert "nothing to upgrade" in invoke(old_catalogue, "upgrade")
