"""Bulk writes (`catalogue.batch`) and the keyword index that follows them: digests are those
earlier releases stored, a keyword index fed batch by batch holds what a rebuild from the
catalogue holds, curated papers keep what records do not carry, and bad text is a bad line."""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHARED_DIR, make_settings
from speechgraph.catalogue.batch import _json_text, record_digest
from speechgraph.catalogue.keywords import (
    KEYWORDS_FILE,
    build_keyword_index,
    iter_documents,
    keyword_index_version,
)
from speechgraph.catalogue.queries import catalogue_version
from speechgraph.catalogue.store import open_db
from speechgraph.clients.bulk import BadLine, open_bulk
from speechgraph.config import Settings
from speechgraph.records import PaperRecord
from speechgraph.update.importer import import_metadata

CORPUS = SHARED_DIR / "corpus" / "speech-arxiv.jsonl.gz"
SEED_PAPERS = SHARED_DIR / "corpus" / "seed-papers.jsonl"

facts = st.lists(
    st.one_of(
        st.none(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.text(),
        st.lists(st.text(), max_size=4),
    ),
    max_size=12,
)


def digest_of_earlier_releases(record: PaperRecord) -> str:
    facts = [
        record.title, record.authors, record.abstract, record.categories,
        record.published.isoformat() if record.published else None,
        record.updated.isoformat() if record.updated else None,
        record.version, record.doi, record.journal_ref, record.comment,
    ]  # fmt: skip
    return hashlib.sha1(json.dumps(facts, ensure_ascii=False).encode("utf-8")).hexdigest()


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts)
def test_digest_text_is_what_the_standard_encoder_writes(values: list[object]) -> None:
    assert _json_text(values) == json.dumps(values, ensure_ascii=False).encode("utf-8")


def test_digests_of_the_corpus_are_those_stored_before() -> None:
    with open_bulk(CORPUS) as source:
        records = [event[1] for event in source if not isinstance(event, BadLine)]
    assert len(records) == 8469
    assert all(record_digest(r) == digest_of_earlier_releases(r) for r in records)


def keyword_rows(directory: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(directory / KEYWORDS_FILE) as connection:
        return connection.execute(
            "SELECT keyword_doc.paper_id, title, names, summary, authors FROM paper_fts "
            "JOIN keyword_doc ON keyword_doc.rowid = paper_fts.rowid ORDER BY paper_id"
        ).fetchall()


def test_a_keyword_index_fed_by_batches_equals_a_rebuilt_one(
    seed_copy: Settings, tmp_path: Path
) -> None:
    """The seed papers (with our notes, aliases and the lists' link texts) updated from
    seed-papers.jsonl, and corpus papers added, 50 to a batch."""
    corpus = tmp_path / "corpus.jsonl.gz"
    with gzip.open(CORPUS) as lines, gzip.open(corpus, "wb") as out:
        out.writelines(line for _, line in zip(range(400), lines, strict=False))
    report = import_metadata(seed_copy, [SEED_PAPERS, corpus], categories="all", batch_size=50)
    assert report.updated > 50 and report.imported > 300
    store = open_db(seed_copy.db_url)
    version = catalogue_version(store)
    assert keyword_index_version(seed_copy.index_dir) == version
    rebuilt = tmp_path / "rebuilt"
    build_keyword_index(rebuilt, iter_documents(store), version)
    store.dispose()
    followed = keyword_rows(seed_copy.index_dir)
    assert followed == keyword_rows(rebuilt)
    named = [row for row in followed if row[2]]
    assert len(named) > 50  # aliases and link texts were kept for the updated seed papers


def test_an_index_behind_the_catalogue_catches_up_at_the_end(
    seed_copy: Settings, tmp_path: Path
) -> None:
    """A keyword index left behind (as by an import killed between its two commits) is not
    fed batches it would skip versions for; the import's last step catches it up."""
    store = open_db(seed_copy.db_url)
    with store.writing() as writer:
        writer.bump_catalogue_version()
    store.dispose()
    report = import_metadata(seed_copy, [SEED_PAPERS], categories="all", batch_size=20)
    assert report.updated > 0
    store = open_db(seed_copy.db_url)
    version = catalogue_version(store)
    rebuilt = tmp_path / "rebuilt"
    build_keyword_index(rebuilt, iter_documents(store), version)
    store.dispose()
    assert keyword_index_version(seed_copy.index_dir) == version
    assert keyword_rows(seed_copy.index_dir) == keyword_rows(rebuilt)


def test_a_lone_surrogate_escape_is_a_bad_line_not_a_failed_import(tmp_path: Path) -> None:
    good = {"id": "2101.00001", "title": "Fine", "authors": ["A B"], "published": "2021-01-01"}
    path = tmp_path / "surrogate.jsonl"
    path.write_text(
        json.dumps(good) + "\n" + '{"id": "2101.00002", "title": "broken \\ud800 text"}\n',
        encoding="utf-8",
    )
    settings = make_settings(tmp_path / "data")
    report = import_metadata(settings, [path], categories="all")
    assert (report.imported, report.bad) == (1, 1)
    assert report.problems[0]["reason"].startswith("not UTF-8 text")


def test_records_the_standard_parser_alone_reads_are_read_the_same(tmp_path: Path) -> None:
    lines = [
        b'{"id": "2101.00001", "title": "NaN elsewhere", "score": NaN, "authors": []}',
        b'\xef\xbb\xbf{"id": "2101.00002", "title": "A line with a byte order mark"}',
    ]
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with open_bulk(path, "jsonl") as source:
        events = list(source)
    assert [event[1].title for event in events] == [  # type: ignore[union-attr]
        "NaN elsewhere",
        "A line with a byte order mark",
    ]


def test_a_copy_of_an_imported_file_is_skipped_and_new_bytes_are_compared(
    tmp_path: Path,
) -> None:
    """A file imported whole is known by its bytes as well as its path: a copy reads nothing.
    The same records in other bytes are read, found unchanged by their digests and not
    written."""
    settings = make_settings(tmp_path / "data")
    source = tmp_path / "corpus.jsonl"
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        source.write_text("".join(line for _, line in zip(range(200), lines, strict=False)))
    first = import_metadata(settings, [source], categories="all")
    copy = tmp_path / "elsewhere" / "copy.jsonl"
    copy.parent.mkdir()
    copy.write_bytes(source.read_bytes())
    again = import_metadata(settings, [copy], categories="all")
    assert (again.already_imported, again.unchanged, again.imported) == (1, first.imported, 0)
    store = open_db(settings.db_url)
    version = catalogue_version(store)
    store.dispose()
    reordered = tmp_path / "reordered.jsonl"
    reordered.write_text("".join(reversed(source.read_text().splitlines(keepends=True))))
    third = import_metadata(settings, [reordered], categories="all")
    assert (third.already_imported, third.unchanged, third.imported, third.updated) == (
        0,
        first.imported,
        0,
        0,
    )
    store = open_db(settings.db_url)
    assert catalogue_version(store) == version  # nothing was written
    store.dispose()
