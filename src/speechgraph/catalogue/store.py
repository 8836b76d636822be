"""Opening the catalogue database: engines, schema versions and migrations, transactions.

Writes go through `writes.Writer` (`Store.writing()`), reads through `queries`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlmodel import Session, create_engine

from speechgraph.catalogue.migrations import SCHEMA_VERSION, create_schema, upgrade
from speechgraph.catalogue.writes import Writer
from speechgraph.errors import CatalogueEmpty, DatabaseError

log = logging.getLogger(__name__)


class Store:
    """A handle on one catalogue database; `upgraded_from` and `backup` say what opening it did
    to a catalogue of an earlier release."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.upgraded_from: int | None = None
        self.backup: Path | None = None

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

    @contextmanager
    def writing(self) -> Iterator[Writer]:
        """A `Writer` whose changes commit as one transaction when the block ends (and roll
        back on any exception)."""
        with self.transaction() as session:
            writer = Writer(session)
            yield writer
            if writer.changed:
                writer.bump_catalogue_version()

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
    if not create and version == 0:
        engine.dispose()
        raise _no_catalogue(url)
    store = Store(engine)
    if version == 0:
        create_schema(engine)
    elif version < SCHEMA_VERSION:
        store.backup = _upgrade(engine, version, url)
        store.upgraded_from = version
    return store


def _upgrade(engine: Engine, version: int, url: str) -> Path | None:
    """Upgrade a catalogue of an earlier release in place (any command may open one)."""
    try:
        backup = upgrade(engine, version, _display(url))
    except (OperationalError, SQLAlchemyDatabaseError, sqlite3.Error, OSError) as error:
        engine.dispose()
        raise DatabaseError(
            f"{_display(url)} was written by an older speechgraph (schema {version}) and could "
            f"not be upgraded ({_first_line(error)}): run `speechgraph upgrade` where it is "
            "writable"
        ) from None
    if backup is not None:
        log.warning("the catalogue as it was before the upgrade is kept in %s", backup)
    return backup


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
    # Up to 32 MiB of pages (allocated as used; the default is 2 MiB): a bulk import's index
    # inserts land all over a large catalogue's B-trees.
    cursor.execute("PRAGMA cache_size=-32768")
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


def _display(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or url
    return parsed.render_as_string(hide_password=True)


def _first_line(error: Exception) -> str:
    return str(getattr(error, "orig", error)).splitlines()[0]
