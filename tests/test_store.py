"""The store on real SQLite files: schema creation, refusals, idempotent upserts, stubs."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from speechgraph.catalogue import schema as models
from speechgraph.catalogue.queries import catalogue_stats, citation_pairs, get_paper, load_papers
from speechgraph.catalogue.store import SCHEMA_VERSION, open_db
from speechgraph.catalogue.writes import get_meta
from speechgraph.errors import CatalogueEmpty, DatabaseError, PaperNotFound
from speechgraph.records import PaperRecord, Reference


def wav2vec2(**changes: object) -> PaperRecord:
    record = PaperRecord(
        arxiv_id="2006.11477",
        title="wav2vec 2.0: A Framework for Self-Supervised Learning of Speech Representations",
        authors=["Alexei Baevski", "Henry Zhou", "Abdelrahman Mohamed", "Michael Auli"],
        published=date(2020, 6, 20),
        version=3,
        categories=["cs.CL", "cs.LG", "eess.AS"],
        source="snapshot",
    )
    for key, value in changes.items():
        setattr(record, key, value)
    return record


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'catalogue.db'}"


def test_new_database_gets_the_current_schema_version(db_url: str) -> None:
    store = open_db(db_url)
    with store.reading() as session:
        assert get_meta(session, "schema_version") == str(SCHEMA_VERSION)
    store.dispose()


def test_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is a text file, not a database\n" * 40)
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match=r"notes\.db is not a usable database"):
        open_db(f"sqlite:///{path}")
    assert path.read_bytes() == before


def test_database_from_a_newer_speechgraph_is_refused(db_url: str, tmp_path: Path) -> None:
    open_db(db_url).dispose()
    with sqlite3.connect(tmp_path / "catalogue.db") as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(DatabaseError, match=r"newer speechgraph \(schema 99"):
        open_db(db_url)


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE songs (title TEXT)")
    with pytest.raises(DatabaseError, match="not a speechgraph catalogue"):
        open_db(f"sqlite:///{path}")


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(DatabaseError, match="not a database URL"):
        open_db("not a url at all")


def test_upsert_is_idempotent_and_keeps_authors_in_order(db_url: str) -> None:
    store = open_db(db_url)
    for _ in range(2):
        with store.writing() as writer:
            writer.upsert_paper(wav2vec2(), note="Our note.", aliases=["wav2vec 2.0"])
    with store.reading() as session:
        papers = load_papers(store)
        assert [paper.id for paper in papers] == ["2006.11477"]
        paper = papers[0]
        assert paper.authors == wav2vec2().authors
        assert paper.categories == ["cs.CL", "cs.LG", "eess.AS"]
        assert paper.version == 3 and paper.year == 2020
        assert len(session.exec(select(models.Author)).all()) == 4
    store.dispose()


def test_live_record_adds_the_abstract_and_keeps_our_note(db_url: str) -> None:
    store = open_db(db_url)
    with store.writing() as writer:
        writer.upsert_paper(wav2vec2(), note="Our note.", topic="self-supervised")
    with store.writing() as writer:
        writer.upsert_paper(wav2vec2(abstract="Abstract from arXiv.", source="arxiv"))
    with store.writing() as writer:  # a later snapshot record must not erase it
        writer.upsert_paper(wav2vec2())
    paper = get_paper(store, "2006.11477")
    assert paper.abstract == "Abstract from arXiv."
    assert paper.note == "Our note."
    assert paper.topic == "self-supervised"
    assert paper.source == "arxiv"
    store.dispose()


def test_failed_transaction_changes_nothing(db_url: str) -> None:
    store = open_db(db_url)
    with store.writing() as writer:
        writer.upsert_paper(wav2vec2())
        writer.bump_catalogue_version()

    def change_then_fail() -> None:
        with store.writing() as writer:
            writer.upsert_paper(wav2vec2(title="changed"))
            writer.bump_catalogue_version()
            raise RuntimeError("killed half-way")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert get_paper(store, "2006.11477").title.startswith("wav2vec 2.0")
    assert catalogue_stats(store)["catalogue_version"] == 1
    store.dispose()


def test_citations_store_stubs_and_ignore_self_and_duplicate_references(db_url: str) -> None:
    store = open_db(db_url)
    references = [
        Reference("Attention Is All You Need", 2017, arxiv_id="1706.03762"),
        Reference("Attention Is All You Need", 2017, arxiv_id="1706.03762"),
        Reference("wav2vec 2.0", 2020, arxiv_id="2006.11477"),
        Reference("A paper with no arXiv id", 2015, s2_id="abc123"),
        Reference("No identifier at all", 2010),
    ]
    with store.writing() as writer:
        writer.upsert_paper(wav2vec2())
        assert writer.replace_citations("2006.11477", references, citation_count=42) == 2
    with store.writing() as writer:  # rerun: same edges, no duplicates
        writer.replace_citations("2006.11477", references, citation_count=42)
    assert sorted(citation_pairs(store)) == [
        ("2006.11477", "1706.03762"),
        ("2006.11477", "s2:abc123"),
    ]
    stats = catalogue_stats(store)
    assert stats["papers"] == 1 and stats["citation_stubs"] == 2
    assert get_paper(store, "2006.11477").citation_count == 42
    stub = load_papers(store, ["s2:abc123"])[0]
    assert stub.is_stub and stub.title == "A paper with no arXiv id"
    store.dispose()


def test_unknown_paper_names_the_id_and_what_to_run(db_url: str) -> None:
    store = open_db(db_url)
    with (
        pytest.raises(PaperNotFound, match=r"9999\.99999.*speechgraph"),
    ):
        get_paper(store, "9999.99999")
    store.dispose()


def test_opening_without_create_writes_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(CatalogueEmpty, match="refresh --offline"):
        open_db(f"sqlite:///{empty}", create=False)
    assert empty.stat().st_size == 0
    with pytest.raises(CatalogueEmpty):
        open_db(f"sqlite:///{tmp_path / 'absent' / 'x.db'}", create=False)
    assert not (tmp_path / "absent").exists()
