"""Writing many papers at once, for bulk imports and harvests: a batch of records becomes a few
set-based statements (upsert of the rows, authors, categories, origins) inside the writer's
transaction. A record whose metadata digest matches the stored one is not touched, so a rerun
of the same file writes nothing; an older version never replaces a newer one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from speechgraph.catalogue.schema import Author, Paper, PaperAuthor, PaperCategory, PaperOrigin
from speechgraph.catalogue.writes import NEW, ORIGINS, UNCHANGED, UPDATED, Writer
from speechgraph.records import PaperRecord

# Columns a record sets; our notes, aliases and curated lists are never touched by a batch.
_RECORD_COLUMNS = (
    "title", "abstract", "version", "published", "updated", "year", "primary_category", "doi",
    "journal_ref", "comment", "source", "is_stub", "fetched_at", "changed_in", "record_hash",
)  # fmt: skip
_CHUNK = 500  # ids per IN list


@dataclass
class BatchOutcome:
    """What one batch did, by paper id."""

    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def add(self, other: BatchOutcome) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged


def record_digest(record: PaperRecord) -> str:
    """A digest of the metadata a record carries: equal digests mean nothing to write."""
    facts = [
        record.title, record.authors, record.abstract, record.categories,
        _iso(record.published), _iso(record.updated), record.version, record.doi,
        record.journal_ref, record.comment,
    ]  # fmt: skip
    return hashlib.sha1(json.dumps(facts, ensure_ascii=False).encode("utf-8")).hexdigest()


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


def _recency(record: PaperRecord) -> tuple[int, date]:
    return (record.version or 0, record.updated or record.published or date.min)


def upsert_records(
    writer: Writer, records: Sequence[PaperRecord], author_ids: dict[str, int] | None = None
) -> BatchOutcome:
    """Write a batch of records (`record.source` says their origin) in the writer's
    transaction; returns which were new, updated and unchanged. `author_ids` (name -> id)
    carries the authors already known from one batch to the next."""
    outcome = BatchOutcome()
    batch = newest_per_id(records)
    if len(batch) < len(records):
        # A second record of a paper in the same batch changes nothing once the newest is in.
        kept = {id(record) for record in batch}
        outcome.unchanged += [record.arxiv_id for record in records if id(record) not in kept]
    if not batch:
        return outcome
    stored = _stored_states(writer, [record.arxiv_id for record in batch])
    rows, digests = [], {}
    now = datetime.now(UTC)
    for record in batch:
        digest = record_digest(record)
        state = stored.get(record.arxiv_id)
        if state is not None and (state[0] == digest or _recency(record) < state[1]):
            outcome.unchanged.append(record.arxiv_id)
            continue
        (outcome.new if state is None else outcome.updated).append(record.arxiv_id)
        digests[record.arxiv_id] = digest
        rows.append(_row(record, digest, writer.version, now))
    if not rows:
        return outcome
    written = [row["id"] for row in rows]
    by_id = {record.arxiv_id: record for record in batch}
    _upsert_rows(writer, rows)
    _replace_authors(writer, written, by_id, {} if author_ids is None else author_ids)
    _replace_categories(writer, written, by_id)
    _add_origins(writer, written, by_id)
    writer.changed = True
    return outcome


def _stored_states(
    writer: Writer, ids: list[str]
) -> dict[str, tuple[str | None, tuple[int, date]]]:
    """id -> (stored digest, stored recency) for the ids the catalogue holds (stubs excluded:
    a record always replaces a citation stub)."""
    found = {}
    for start in range(0, len(ids), _CHUNK):
        query = select(
            Paper.record_hash,
            Paper.id,
            Paper.version,
            Paper.updated,
            Paper.published,  # type: ignore[arg-type]
        ).where(col(Paper.id).in_(ids[start : start + _CHUNK]), col(Paper.is_stub).is_(False))
        rows = writer.session.connection().execute(query).all()
        for digest, paper_id, version, updated, published in rows:
            found[paper_id] = (digest, (version or 0, updated or published or date.min))
    return found


def _row(record: PaperRecord, digest: str, version: int, now: datetime) -> dict[str, Any]:
    return {
        "id": record.arxiv_id,
        "title": record.title,
        "abstract": record.abstract,
        "version": record.version,
        "published": record.published,
        "updated": record.updated,
        "year": record.year,
        "primary_category": record.primary_category or next(iter(record.categories), None),
        "doi": record.doi.lower() if record.doi else None,
        "journal_ref": record.journal_ref,
        "comment": record.comment,
        "source": record.source,
        "is_stub": False,
        "fetched_at": now,
        "changed_in": version,
        "record_hash": digest,
        "aliases": [],
        "builds_on": [],
        "compares_with": [],
    }


def _insert(writer: Writer, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL alike)."""
    dialect = writer.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _upsert_rows(writer: Writer, rows: list[dict[str, Any]]) -> None:
    table = Paper.__table__  # type: ignore[attr-defined]
    statement = _insert(writer, table)
    update = {name: statement.excluded[name] for name in _RECORD_COLUMNS}
    # Metadata fetched live from arXiv keeps "arxiv" as its source, as `Writer.upsert_paper` does.
    update["source"] = case(
        (table.c.source == "arxiv", table.c.source), else_=statement.excluded["source"]
    )
    upsert = statement.on_conflict_do_update(index_elements=["id"], set_=update)
    writer.session.connection().execute(upsert, rows)


def _replace_authors(
    writer: Writer, ids: list[str], by_id: dict[str, PaperRecord], author_id: dict[str, int]
) -> None:
    connection = writer.session.connection()
    wanted = {name for paper_id in ids for name in by_id[paper_id].authors}
    names = sorted(wanted - author_id.keys())
    author_table = Author.__table__  # type: ignore[attr-defined]
    if names:
        insert = _insert(writer, author_table).on_conflict_do_nothing(index_elements=["name"])
        connection.execute(insert, [{"name": name} for name in names])
    for start in range(0, len(names), _CHUNK):
        chunk = names[start : start + _CHUNK]
        query = select(Author.name, Author.id).where(col(Author.name).in_(chunk))  # type: ignore[call-overload]
        author_id.update((name, number) for name, number in connection.execute(query).all())
    link = PaperAuthor.__table__  # type: ignore[attr-defined]
    _delete_for(writer, link, ids)
    rows = [
        {"paper_id": paper_id, "position": position, "author_id": author_id[name]}
        for paper_id in ids
        for position, name in enumerate(by_id[paper_id].authors)
    ]
    if rows:
        connection.execute(link.insert(), rows)


def _replace_categories(writer: Writer, ids: list[str], by_id: dict[str, PaperRecord]) -> None:
    table = PaperCategory.__table__  # type: ignore[attr-defined]
    _delete_for(writer, table, ids)
    rows = [
        {"paper_id": paper_id, "position": position, "category": category}
        for paper_id in ids
        for position, category in enumerate(dict.fromkeys(by_id[paper_id].categories))
    ]
    if rows:
        writer.session.connection().execute(table.insert(), rows)


def _add_origins(writer: Writer, ids: list[str], by_id: dict[str, PaperRecord]) -> None:
    table = PaperOrigin.__table__  # type: ignore[attr-defined]
    rows = [
        {"paper_id": paper_id, "origin": by_id[paper_id].source}
        for paper_id in ids
        if by_id[paper_id].source in ORIGINS
    ]
    if rows:
        insert = _insert(writer, table).on_conflict_do_nothing(
            index_elements=["paper_id", "origin"]
        )
        writer.session.connection().execute(insert, rows)


def _delete_for(writer: Writer, table: Any, ids: list[str]) -> None:
    statement = delete(table).where(table.c.paper_id.in_(bindparam("ids", expanding=True)))
    connection = writer.session.connection()
    for start in range(0, len(ids), _CHUNK):
        connection.execute(statement, {"ids": ids[start : start + _CHUNK]})


__all__ = ["NEW", "UNCHANGED", "UPDATED", "BatchOutcome", "upsert_records"]
