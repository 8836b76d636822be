"""Writing many papers at once, for bulk imports and harvests: a batch of records becomes a few
set-based statements (upsert of the rows, authors, categories, origins) inside the writer's
transaction. A record whose metadata digest matches the stored one is not touched, so a rerun
of the same file writes nothing; an older version never replaces a newer one.

The statements go straight to the database driver (`_Statements`): SQLAlchemy's per-row
processing would cost more than the database's own work on a bulk import.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson

from speechgraph.catalogue.keywords import KeywordDocument, keyword_document
from speechgraph.catalogue.schema import (
    Author,
    Mention,
    Paper,
    PaperAuthor,
    PaperCategory,
    PaperOrigin,
    in_chunks,
)
from speechgraph.catalogue.writes import NEW, ORIGINS, UNCHANGED, UPDATED, Writer
from speechgraph.records import PaperRecord

# Authors' ids known from one batch to the next; cleared past this many (memory stays flat).
MAX_KNOWN_AUTHORS = 200_000
BULK_CACHE_KIB = 256 * 1024

_PAPER = Paper.__table__.name  # type: ignore[attr-defined]
_AUTHOR = Author.__table__.name  # type: ignore[attr-defined]
_PAPER_AUTHOR = PaperAuthor.__table__.name  # type: ignore[attr-defined]
_PAPER_CATEGORY = PaperCategory.__table__.name  # type: ignore[attr-defined]
_PAPER_ORIGIN = PaperOrigin.__table__.name  # type: ignore[attr-defined]
_MENTION = Mention.__table__.name  # type: ignore[attr-defined]

# Columns a record sets; our notes, aliases and curated lists are never touched by a batch.
_RECORD_COLUMNS = (
    "title", "abstract", "version", "published", "updated", "year", "primary_category", "doi",
    "journal_ref", "comment", "source", "fetched_at", "changed_in", "record_hash",
)  # fmt: skip
# Metadata fetched live from arXiv keeps "arxiv" as its source, as `Writer.upsert_paper` does.
_UPSERT_PAPER = (
    f"INSERT INTO {_PAPER} (id, {', '.join(_RECORD_COLUMNS)}, is_stub, aliases, builds_on, "
    f"compares_with) VALUES (?, {', '.join('?' * len(_RECORD_COLUMNS))}, FALSE, '[]', '[]', "
    f"'[]') ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _RECORD_COLUMNS if name != "source")
    + f", is_stub = FALSE, source = CASE WHEN {_PAPER}.source = 'arxiv' THEN {_PAPER}.source "
    "ELSE excluded.source END"
)
# SQLAlchemy's text form of a DateTime on SQLite, which it parses back.
_SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"

Recency = tuple[int, date]


@dataclass
class BatchOutcome:
    """What one batch did, by paper id; `documents` are the keyword documents of the papers
    it wrote (when asked for)."""

    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    documents: list[KeywordDocument] = field(default_factory=list)

    def add(self, other: BatchOutcome) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.documents += other.documents


def record_digest(record: PaperRecord) -> str:
    """A digest of the metadata a record carries: equal digests mean nothing to write."""
    facts = [
        record.title, record.authors, record.abstract, record.categories,
        _iso(record.published), _iso(record.updated), record.version, record.doi,
        record.journal_ref, record.comment,
    ]  # fmt: skip
    return hashlib.sha1(_json_text(facts)).hexdigest()


def _json_text(values: list[Any]) -> bytes:
    """`json.dumps(values, ensure_ascii=False)` as UTF-8, written by orjson (several times
    faster): the same escapes, and ", " between items. Digests stored before stay valid."""
    items = (
        _json_text(value) if isinstance(value, list) else orjson.dumps(value) for value in values
    )
    return b"[" + b", ".join(items) + b"]"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def newest_per_id(records: Sequence[PaperRecord]) -> list[PaperRecord]:
    """One record per paper: the newest version (then the latest update) wins."""
    chosen: dict[str, PaperRecord] = {}
    for record in records:
        current = chosen.get(record.arxiv_id)
        if current is None or _recency(record) >= _recency(current):
            chosen[record.arxiv_id] = record
    return list(chosen.values())


def _recency(record: PaperRecord) -> Recency:
    return (record.version or 0, record.updated or record.published or date.min)


@dataclass
class _Stored:
    """What the catalogue holds for an id before the batch."""

    digest: str | None
    recency: Recency
    is_stub: bool


class _Statements:
    """Plain SQL run straight on the driver: the same statements on SQLite and PostgreSQL, with
    the driver's placeholders and the column formats SQLAlchemy reads back."""

    def __init__(self, writer: Writer) -> None:
        self.connection = writer.session.connection()
        dialect = self.connection.dialect
        self.is_sqlite = dialect.name == "sqlite"
        self.qmark = dialect.paramstyle == "qmark"

    def _sql(self, text: str) -> str:
        return text if self.qmark else text.replace("?", "%s")

    def run_many(self, text: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.connection.exec_driver_sql(self._sql(text), rows)

    def fetch_in(self, text: str, ids: Sequence[str]) -> Iterable[tuple[Any, ...]]:
        """Rows of `text`, whose `IN ()` is filled with `ids` chunk by chunk."""
        for chunk in in_chunks(ids):
            yield from self.connection.exec_driver_sql(self._in(text, chunk), tuple(chunk)).all()

    def run_in(self, text: str, ids: Sequence[str]) -> None:
        for chunk in in_chunks(ids):
            self.connection.exec_driver_sql(self._in(text, chunk), tuple(chunk))

    def _in(self, text: str, chunk: Sequence[str]) -> str:
        return self._sql(text.replace("IN ()", f"IN ({', '.join('?' * len(chunk))})"))

    def use_bulk_cache(self) -> None:
        """Up to 256 MiB of pages for this connection on SQLite: the author name and id indexes
        of a large field take inserts all over, and misses cost more than the memory."""
        if self.is_sqlite:
            self.connection.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")

    def day(self, value: date | None) -> Any:
        return value.isoformat() if value is not None and self.is_sqlite else value

    def stamp(self, value: datetime) -> Any:
        return value.strftime(_SQLITE_STAMP) if self.is_sqlite else value


def upsert_records(
    writer: Writer,
    records: Sequence[PaperRecord],
    author_ids: dict[str, int] | None = None,
    *,
    documents: bool = False,
) -> BatchOutcome:
    """Write a batch of records (`record.source` says their origin) in the writer's
    transaction; returns which were new, updated and unchanged, and with `documents` the
    keyword documents of those written. `author_ids` (name -> id) carries the authors already
    known from one batch to the next."""
    outcome = BatchOutcome()
    batch = newest_per_id(records)
    if len(batch) < len(records):
        # A second record of a paper in the same batch changes nothing once the newest is in.
        kept = {id(record) for record in batch}
        outcome.unchanged += [record.arxiv_id for record in records if id(record) not in kept]
    if not batch:
        return outcome
    statements = _Statements(writer)
    statements.use_bulk_cache()
    stored = _stored_states(statements, [record.arxiv_id for record in batch])
    rows = []
    written: list[PaperRecord] = []
    now = statements.stamp(datetime.now(UTC))
    for record in batch:
        digest = record_digest(record)
        state = stored.get(record.arxiv_id)
        if state is not None and _keeps(state, digest, record):
            outcome.unchanged.append(record.arxiv_id)
            continue
        is_new = state is None or state.is_stub
        (outcome.new if is_new else outcome.updated).append(record.arxiv_id)
        written.append(record)
        rows.append(_row(statements, record, digest, writer.version, now))
    if not rows:
        return outcome
    existing = [record.arxiv_id for record in written if record.arxiv_id in stored]
    statements.run_many(_UPSERT_PAPER, rows)
    cache = {} if author_ids is None else author_ids
    _replace_authors(statements, written, existing, cache)
    _replace_categories(statements, written, existing)
    _add_origins(statements, written)
    if documents:
        outcome.documents = _keyword_documents(statements, written, existing)
    writer.changed = True
    return outcome


def _keeps(state: _Stored, digest: str, record: PaperRecord) -> bool:
    """Whether the stored paper stays as it is: the same metadata, or a newer version (a
    citation stub never stays)."""
    return not state.is_stub and (state.digest == digest or _recency(record) < state.recency)


def _stored_states(statements: _Statements, ids: list[str]) -> dict[str, _Stored]:
    """id -> what the catalogue holds, for the ids it holds (a citation stub is replaced by any
    record)."""
    query = (
        f"SELECT id, record_hash, version, updated, published, is_stub FROM {_PAPER} WHERE id IN ()"
    )
    found = {}
    for paper_id, digest, version, updated, published, is_stub in statements.fetch_in(query, ids):
        day = _as_day(updated) or _as_day(published) or date.min
        found[paper_id] = _Stored(digest, (version or 0, day), bool(is_stub))
    return found


def _as_day(value: date | str | None) -> date | None:
    """A stored day: a date from PostgreSQL, "YYYY-MM-DD" text from SQLite."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


def _row(
    statements: _Statements, record: PaperRecord, digest: str, version: int, now: Any
) -> tuple[Any, ...]:
    """The values of `_UPSERT_PAPER`, in `_RECORD_COLUMNS` order after the id."""
    return (
        record.arxiv_id,
        record.title,
        record.abstract,
        record.version,
        statements.day(record.published),
        statements.day(record.updated),
        record.year,
        record.primary_category or next(iter(record.categories), None),
        record.doi.lower() if record.doi else None,
        record.journal_ref,
        record.comment,
        record.source,
        now,
        version,
        digest,
    )


def _replace_authors(
    statements: _Statements,
    written: list[PaperRecord],
    existing: list[str],
    author_id: dict[str, int],
) -> None:
    wanted = {name for record in written for name in record.authors}
    names = sorted(wanted - author_id.keys())
    if len(author_id) + len(names) > MAX_KNOWN_AUTHORS:
        author_id.clear()
        names = sorted(wanted)
    statements.run_many(
        f"INSERT INTO {_AUTHOR} (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
        [(name,) for name in names],
    )
    query = f"SELECT name, id FROM {_AUTHOR} WHERE name IN ()"
    author_id.update((name, number) for name, number in statements.fetch_in(query, names))
    statements.run_in(f"DELETE FROM {_PAPER_AUTHOR} WHERE paper_id IN ()", existing)
    statements.run_many(
        f"INSERT INTO {_PAPER_AUTHOR} (paper_id, position, author_id) VALUES (?, ?, ?)",
        [
            (record.arxiv_id, position, author_id[name])
            for record in written
            for position, name in enumerate(record.authors)
        ],
    )


def _replace_categories(
    statements: _Statements, written: list[PaperRecord], existing: list[str]
) -> None:
    statements.run_in(f"DELETE FROM {_PAPER_CATEGORY} WHERE paper_id IN ()", existing)
    statements.run_many(
        f"INSERT INTO {_PAPER_CATEGORY} (paper_id, position, category) VALUES (?, ?, ?)",
        [
            (record.arxiv_id, position, category)
            for record in written
            for position, category in enumerate(dict.fromkeys(record.categories))
        ],
    )


def _add_origins(statements: _Statements, written: list[PaperRecord]) -> None:
    statements.run_many(
        f"INSERT INTO {_PAPER_ORIGIN} (paper_id, origin) VALUES (?, ?) "
        "ON CONFLICT (paper_id, origin) DO NOTHING",
        [(record.arxiv_id, record.source) for record in written if record.source in ORIGINS],
    )


def _keyword_documents(
    statements: _Statements, written: list[PaperRecord], existing: list[str]
) -> list[KeywordDocument]:
    """The keyword documents of the papers written, from the records in hand; only what a
    record does not carry (our note and aliases, the lists' link texts) is read back."""
    curated = {
        paper_id: (note, _as_list(aliases))
        for paper_id, note, aliases in statements.fetch_in(
            f"SELECT id, note, aliases FROM {_PAPER} WHERE id IN ()", existing
        )
    }
    link_texts: dict[str, list[str]] = {}
    query = (
        f"SELECT paper_id, link_text FROM {_MENTION} WHERE paper_id IN () ORDER BY paper_id, line"
    )
    ids = [record.arxiv_id for record in written]
    for paper_id, link_text in statements.fetch_in(query, ids):
        link_texts.setdefault(paper_id, []).append(link_text)
    documents = []
    for record in written:
        note, aliases = curated.get(record.arxiv_id, (None, []))
        documents.append(
            keyword_document(
                record.arxiv_id,
                record.title,
                record.abstract,
                note,
                aliases,
                link_texts.get(record.arxiv_id, []),
                record.authors,
            )
        )
    return documents


def _as_list(value: Any) -> list[str]:
    """A JSON column: a list from PostgreSQL, JSON text from SQLite."""
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])


__all__ = ["NEW", "UNCHANGED", "UPDATED", "BatchOutcome", "upsert_records"]
