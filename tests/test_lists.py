"""`speechgraph lists` and `lists remove NAME`: the lists with their sources and counts; a
removal takes the list's mentions and the papers that no other list and no import or harvest
brought (with the citation stubs only they cited), keeps the rest, brings the index in step,
and the next `refresh` brings a seed list back as it was."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import INGEST_DIR, SHARED_DIR
from faults import catalogue_rows, index_state
from speechgraph.catalogue.queries import catalogue_version
from speechgraph.catalogue.store import open_db
from speechgraph.cli import app
from speechgraph.config import Settings
from speechgraph.records import Reference

REMOVED = "awesome-speech"


def invoke(settings: Settings, *arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), *arguments])
    return result.exit_code, result.stdout, result.stderr


def query(settings: Settings, sql: str, *parameters: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(settings.data_dir / "speechgraph.db")) as connection:
        return connection.execute(sql, parameters).fetchall()


def papers_of(settings: Settings, name: str) -> set[str]:
    rows = query(
        settings,
        "SELECT DISTINCT paper_id FROM mention JOIN readinglist ON readinglist.id = list_id "
        "WHERE readinglist.name = ? AND paper_id IS NOT NULL",
        name,
    )
    return {str(row[0]) for row in rows}


def test_lists_shows_each_list_with_its_source_and_counts(seed_settings: Settings) -> None:
    code, out, _ = invoke(seed_settings, "lists", "--json")
    assert code == 0
    lists = {item["name"]: item for item in json.loads(out)["lists"]}
    assert len(lists) == 5
    awesome = lists[REMOVED]
    assert awesome["location"].endswith("001_ba79a5a52c8f86ac.txt")
    assert (INGEST_DIR / awesome["location"]).resolve().is_file()
    assert awesome["mentions"] == 36 and awesome["papers"] == len(papers_of(seed_settings, REMOVED))
    assert all(item["last_refresh"] for item in lists.values())
    code, table, _ = invoke(seed_settings, "lists")
    assert code == 0
    assert table.splitlines()[0].split() == [
        "list",
        "source",
        "mentions",
        "papers",
        "last",
        "refresh",
    ]
    assert any(line.startswith(REMOVED) and " 36 " in line for line in table.splitlines())
    assert table.splitlines()[-1] == "5 reading lists"


def import_one(settings: Settings, paper_id: str, tmp_path: Path) -> None:
    lines = (SHARED_DIR / "corpus" / "seed-papers.jsonl").read_text(encoding="utf-8").splitlines()
    (line,) = [line for line in lines if json.loads(line)["id"] == paper_id]
    path = tmp_path / "one.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    code, _, err = invoke(settings, "import", str(path), "--category", "all")
    assert code == 0, err


def cite(settings: Settings, citing: str, *references: Reference) -> None:
    store = open_db(settings.db_url)
    try:
        with store.writing() as writer:
            writer.replace_citations(citing, list(references), None)
    finally:
        store.dispose()


def test_removing_a_list_takes_only_what_it_alone_brought(
    seed_copy: Settings, tmp_path: Path
) -> None:
    listed = papers_of(seed_copy, REMOVED)
    others = set().union(
        *(papers_of(seed_copy, name) for (name,) in query(seed_copy, "SELECT name FROM readinglist")
          if name != REMOVED)
    )  # fmt: skip
    shared, alone = sorted(listed & others), sorted(listed - others)
    assert shared and len(alone) > 2
    imported = alone[0]
    import_one(seed_copy, imported, tmp_path)
    lonely_stub = Reference("A paper only a removed one cites", s2_id="lonely")
    kept_stub = Reference("A paper cited from both sides", s2_id="kept")
    cite(seed_copy, alone[1], lonely_stub, kept_stub)
    cite(seed_copy, shared[0], kept_stub)
    before_version = query(seed_copy, "SELECT value FROM meta WHERE key = 'catalogue_version'")

    code, out, err = invoke(seed_copy, "lists", "remove", REMOVED, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["list"] == REMOVED and result["mentions"] == 36
    assert result["papers_removed"] == alone[1:] and result["stubs_removed"] == 1

    ids = {str(row[0]) for row in query(seed_copy, "SELECT id FROM paper")}
    assert not set(alone[1:]) & ids
    assert {imported, *shared, "s2:kept"} <= ids and "s2:lonely" not in ids
    assert not query(seed_copy, "SELECT * FROM readinglist WHERE name = ?", REMOVED)
    assert papers_of(seed_copy, REMOVED) == set()
    assert query(seed_copy, "SELECT count(*) FROM resource JOIN readinglist ON "
                 "readinglist.id = list_id WHERE name = ?", REMOVED) == [(0,)]  # fmt: skip
    assert query(seed_copy, "SELECT value FROM meta WHERE key = 'catalogue_version'") != (
        before_version
    )
    state = index_state(seed_copy.data_dir)
    catalogue = {str(row[0]) for row in query(seed_copy, "SELECT id FROM paper WHERE is_stub = 0")}
    assert state["keywords"] == catalogue
    assert set(state["vectors"]) <= catalogue and not set(alone[1:]) & set(state["vectors"])
    store = open_db(seed_copy.db_url, create=False)
    assert state["keywords_version"] == catalogue_version(store)
    store.dispose()
    code, out, _ = invoke(seed_copy, "lists", "--json")
    assert REMOVED not in {item["name"] for item in json.loads(out)["lists"]}


def test_a_removed_seed_list_comes_back_with_the_next_refresh(seed_copy: Settings) -> None:
    before = catalogue_rows(seed_copy.data_dir)
    code, _, err = invoke(seed_copy, "lists", "remove", REMOVED)
    assert code == 0, err
    assert catalogue_rows(seed_copy.data_dir) != before
    code, _, err = invoke(seed_copy, "refresh", "--offline")
    assert code == 0, err
    assert catalogue_rows(seed_copy.data_dir) == before


def test_searching_after_a_removal_finds_none_of_the_removed_papers(seed_copy: Settings) -> None:
    alone = papers_of(seed_copy, REMOVED) - set().union(
        *(papers_of(seed_copy, name) for (name,) in query(seed_copy, "SELECT name FROM readinglist")
          if name != REMOVED)
    )  # fmt: skip
    (title,) = query(seed_copy, "SELECT title FROM paper WHERE id = ?", sorted(alone)[0])[0]
    assert invoke(seed_copy, "lists", "remove", REMOVED)[0] == 0
    code, out, err = invoke(seed_copy, "search", str(title), "--json")
    assert code == 0, err
    assert not alone & {hit["id"] for hit in json.loads(out)["results"]}
    assert not any("index" in note and "behind" in note for note in json.loads(out)["notes"])


@pytest.mark.parametrize("name", ["no-such-list", ""])
def test_an_unknown_list_is_one_line_and_changes_nothing(seed_copy: Settings, name: str) -> None:
    before = catalogue_rows(seed_copy.data_dir)
    code, _, err = invoke(seed_copy, "lists", "remove", name)
    assert code == 1
    assert err.splitlines() == [
        f"error: the catalogue has no reading list named {name!r}: `speechgraph lists` shows "
        "their names"
    ]
    assert catalogue_rows(seed_copy.data_dir) == before


def test_lists_of_no_catalogue_is_one_line(fresh_settings: Settings) -> None:
    code, _, err = invoke(fresh_settings, "lists")
    assert code == 1 and len(err.splitlines()) == 1 and "refresh --offline" in err
