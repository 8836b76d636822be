"""Opening the database, migrations, transactions and every write to the catalogue.

Imports `config`, `errors`, `models`, `records`. Reads for queries live in `catalogue.py`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlmodel import Session, SQLModel, col, create_engine, delete, select

from speechgraph.catalogue import schema as models
from speechgraph.catalogue.schema import (
    Author,
    Citation,
    Meta,
    Paper,
    PaperAuthor,
    PaperCategory,
    ReadingList,
)
from speechgraph.errors import CatalogueEmpty, DatabaseError
from speechgraph.records import PaperRecord, Reference

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


def _create_schema_v1(connection: Connection) -> None:
    SQLModel.metadata.create_all(connection)


# Step N upgrades a database at version N-1 to version N, in its own transaction.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _create_schema_v1}


class Store:
    """A handle on one catalogue database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back on any exception."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_db(url: str, *, create: bool = True) -> Store:
    """Open the catalogue at `url`; with `create`, make or migrate it as needed.

    Raises DatabaseError when the file is not a database or was written by a newer speechgraph;
    without `create`, CatalogueEmpty when there is no catalogue there yet (nothing is written).
    """
    if not create and _is_missing_sqlite_file(url):
        raise _no_catalogue(url)
    engine = _make_engine(url, create=create)
    try:
        with engine.connect() as connection:
            version = _schema_version(connection, url)
    except (OperationalError, SQLAlchemyDatabaseError) as error:
        engine.dispose()
        raise DatabaseError(
            f"{_display(url)} is not a usable database ({_first_line(error)}): "
            "move it away or set SPEECHGRAPH_DB_URL to another database"
        ) from None
    if version > SCHEMA_VERSION:
        engine.dispose()
        raise DatabaseError(
            f"{_display(url)} was written by a newer speechgraph (schema {version}; this version "
            f"reads up to {SCHEMA_VERSION}): upgrade speechgraph or use another database"
        )
    if not create and version < SCHEMA_VERSION:
        engine.dispose()
        if version == 0:
            raise _no_catalogue(url)
        raise DatabaseError(
            f"{_display(url)} was written by an older speechgraph (schema {version}): "
            "run `speechgraph refresh --offline` to upgrade it"
        )
    for step in range(version + 1, SCHEMA_VERSION + 1):
        with engine.begin() as connection:
            log.info("migrating %s to schema %d", _display(url), step)
            MIGRATIONS[step](connection)
            _write_meta(connection, "schema_version", str(step))
    return Store(engine)


def _is_missing_sqlite_file(url: str) -> bool:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False  # _make_engine reports it
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return False
    return not Path(database).exists()


def _no_catalogue(url: str) -> CatalogueEmpty:
    return CatalogueEmpty(
        f"there is no catalogue at {_display(url)} yet: run `speechgraph refresh --offline` first"
    )


def _make_engine(url: str, *, create: bool = True) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"{url!r} is not a database URL: use e.g. sqlite:///path/to/speechgraph.db"
        ) from None
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if path.is_dir():
            raise DatabaseError(f"{path} is a directory, not a database file: point to a file")
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _schema_version(connection: Connection, url: str) -> int:
    tables = set(inspect(connection).get_table_names())
    if not tables:
        return 0
    if "meta" not in tables:
        raise DatabaseError(
            f"{_display(url)} holds tables but is not a speechgraph catalogue: "
            "set SPEECHGRAPH_DB_URL to another database"
        )
    row = connection.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).first()
    return int(row[0]) if row else 0


def _write_meta(connection: Connection, key: str, value: str) -> None:
    table = models.Meta.__table__  # type: ignore[attr-defined]
    connection.execute(table.delete().where(table.c.key == key))
    connection.execute(table.insert().values(key=key, value=value))


def _display(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or url
    return parsed.render_as_string(hide_password=True)


def _first_line(error: Exception) -> str:
    return str(getattr(error, "orig", error)).splitlines()[0]


# --- writes (each takes the session of the caller's transaction) -------------------------------


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(Meta, key)
    if row is None:
        session.add(Meta(key=key, value=value))
    else:
        row.value = value
        session.add(row)


def get_meta(session: Session, key: str) -> str | None:
    row = session.get(Meta, key)
    return row.value if row else None


def bump_catalogue_version(session: Session) -> int:
    """Mark the catalogue as changed; derived data (index, graph) keyed on it goes stale."""
    version = int(get_meta(session, "catalogue_version") or 0) + 1
    set_meta(session, "catalogue_version", str(version))
    return version


def record_refresh(session: Session, mode: str, report: dict[str, object]) -> None:
    set_meta(session, "last_refresh", datetime.now(UTC).isoformat(timespec="seconds"))
    set_meta(session, "last_refresh_mode", mode)
    set_meta(session, "last_refresh_report", json.dumps(report, sort_keys=True))


def upsert_reading_list(
    session: Session, name: str, location: str, content_hash: str | None
) -> ReadingList:
    row = session.exec(select(ReadingList).where(ReadingList.name == name)).first()
    if row is None:
        row = ReadingList(name=name, location=location)
    row.location = location
    row.content_hash = content_hash
    row.read_at = datetime.now(UTC)
    session.add(row)
    session.flush()
    return row


def replace_list_entries(
    session: Session,
    reading_list: ReadingList,
    mentions: Sequence[models.Mention],
    resources: Sequence[models.Resource],
) -> None:
    """Make the list's mentions and resources exactly these (an idempotent replace)."""
    session.exec(delete(models.Mention).where(col(models.Mention.list_id) == reading_list.id))
    session.exec(delete(models.Resource).where(col(models.Resource.list_id) == reading_list.id))
    for row in [*mentions, *resources]:
        row.list_id = reading_list.id  # type: ignore[assignment]
        session.add(row)
    session.flush()


def upsert_paper(
    session: Session,
    record: PaperRecord,
    *,
    note: str | None = None,
    aliases: Sequence[str] | None = None,
    topic: str | None = None,
    builds_on: Sequence[str] | None = None,
) -> Paper:
    """Insert or update a paper from `record`. Our note, aliases and topic are kept when not given.

    A snapshot record never overwrites an abstract that a live fetch stored.
    """
    paper = session.get(Paper, record.arxiv_id) or Paper(id=record.arxiv_id, title=record.title)
    paper.title = record.title
    paper.version = record.version
    paper.published = record.published
    paper.updated = record.updated
    paper.year = record.year
    paper.primary_category = record.primary_category or next(iter(record.categories), None)
    paper.doi = record.doi.lower() if record.doi else paper.doi
    paper.journal_ref = record.journal_ref
    paper.comment = record.comment
    if record.abstract is not None or record.source == "arxiv":
        paper.abstract = record.abstract
    if paper.source != "arxiv" or record.source == "arxiv":
        paper.source = record.source
    paper.is_stub = False
    paper.fetched_at = datetime.now(UTC)
    if note is not None:
        paper.note = note
    if aliases is not None:
        paper.aliases = list(aliases)
    if builds_on is not None:
        paper.builds_on = list(builds_on)
    if topic is not None:
        paper.topic = topic
    session.add(paper)
    session.flush()
    _replace_authors(session, paper.id, record.authors)
    _replace_categories(session, paper.id, record.categories)
    return paper


def _replace_authors(session: Session, paper_id: str, names: Sequence[str]) -> None:
    session.exec(delete(PaperAuthor).where(col(PaperAuthor.paper_id) == paper_id))
    for position, name in enumerate(names):
        author = session.exec(select(Author).where(Author.name == name)).first()
        if author is None:
            author = Author(name=name)
            session.add(author)
            session.flush()
        session.add(
            PaperAuthor(paper_id=paper_id, position=position, author_id=cast(int, author.id))
        )


def _replace_categories(session: Session, paper_id: str, categories: Sequence[str]) -> None:
    session.exec(delete(PaperCategory).where(col(PaperCategory.paper_id) == paper_id))
    for position, category in enumerate(dict.fromkeys(categories)):
        session.add(PaperCategory(paper_id=paper_id, position=position, category=category))


def stub_id(reference: Reference) -> str | None:
    """The id a cited paper gets in the catalogue: its arXiv id, else its citation-service id."""
    if reference.arxiv_id:
        return reference.arxiv_id
    if reference.s2_id:
        return f"s2:{reference.s2_id}"
    return None


def ensure_stub(session: Session, reference: Reference) -> str | None:
    """The catalogue id of a cited paper, adding a stub when it is not in the catalogue."""
    paper_id = stub_id(reference)
    if paper_id is None:
        return None
    if session.get(Paper, paper_id) is None:
        session.add(
            Paper(
                id=paper_id,
                title=reference.title or "(untitled reference)",
                year=reference.year,
                doi=reference.doi.lower() if reference.doi else None,
                source="citation-stub",
                is_stub=True,
            )
        )
        session.flush()
    return paper_id


def replace_citations(
    session: Session,
    citing_id: str,
    references: Sequence[Reference],
    citation_count: int | None,
) -> int:
    """Make `citing_id`'s outgoing citations exactly `references`; returns how many were stored."""
    session.exec(delete(Citation).where(col(Citation.citing_id) == citing_id))
    cited: set[str] = set()
    for reference in references:
        cited_id = ensure_stub(session, reference)
        if cited_id and cited_id != citing_id and cited_id not in cited:
            cited.add(cited_id)
            session.add(Citation(citing_id=citing_id, cited_id=cited_id))
    paper = session.get(Paper, citing_id)
    if paper is not None and citation_count is not None:
        paper.citation_count = citation_count
        session.add(paper)
    session.flush()
    return len(cited)
