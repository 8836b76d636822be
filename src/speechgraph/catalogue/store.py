"""Opening the catalogue database: engines, schema versions and migrations, transactions, and
what a failed write means to a user.

Writes go through `writes.Writer` (`Store.writing()`), reads through `queries`. A SQLite
catalogue is kept in WAL mode (a write never blocks a reader, who sees the last commit); one on
a read-only file system is opened read-only (`immutable=1`), and every command that only reads
works on it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, InternalError, OperationalError
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlmodel import Session, create_engine

from speechgraph.catalogue.migrations import SCHEMA_VERSION, create_schema, upgrade
from speechgraph.catalogue.writes import Writer
from speechgraph.config import Settings
from speechgraph.errors import CatalogueEmpty, DatabaseError, WriteFailure
from speechgraph.files import is_writable_directory, write_failure

# How long a write waits for a lock another program holds on the database (seconds).
BUSY_TIMEOUT = 30.0
# The errors of a write the database refused; anything else is a bug and keeps its traceback.
WRITE_ERRORS = (
    OperationalError,
    IntegrityError,
    InternalError,
    sqlite3.OperationalError,
    sqlite3.IntegrityError,
)

log = logging.getLogger(__name__)


class Store:
    """A handle on one catalogue database; `upgraded_from` and `backup` say what opening it did
    to a catalogue of an earlier release."""

    def __init__(self, engine: Engine, *, curated: bool = True, read_only: bool = False) -> None:
        self.engine = engine
        # Without curation, reads leave out our notes, aliases, curated lists and topics.
        self.curated = curated
        self.read_only = read_only
        self.upgraded_from: int | None = None
        self.backup: Path | None = None

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def location(self) -> str:
        """The database file, or its URL without the password: what messages name."""
        return _display(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back on any exception.

        A write the database refuses (read-only, full disk, locked by another program, a
        broken constraint) raises WriteFailure in one line; nothing of it is kept."""
        if self.read_only:
            raise read_only_catalogue(self.location)
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except WRITE_ERRORS as error:
                _rollback_quietly(session)
                raise database_write_failure(error, self.location) from error
            except BaseException:
                _rollback_quietly(session)
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


def open_catalogue(
    settings: Settings, *, create: bool = True, busy_timeout: float = BUSY_TIMEOUT
) -> Store:
    """The catalogue `settings` name, read with or without our curation as they say."""
    store = open_db(settings.db_url, create=create, busy_timeout=busy_timeout)
    store.curated = settings.curation
    return store


def open_db(url: str, *, create: bool = True, busy_timeout: float = BUSY_TIMEOUT) -> Store:
    """Open the catalogue at `url`; with `create`, make or migrate it as needed. A write waits
    up to `busy_timeout` seconds for a lock another program holds on the database.

    Raises DatabaseError when the file is not a database or was written by a newer speechgraph;
    without `create`, CatalogueEmpty when there is no catalogue there yet (nothing is written);
    WriteFailure when a new catalogue cannot be made.
    """
    if not create and _is_missing_sqlite_file(url):
        raise _no_catalogue(url)
    engine, read_only = _make_engine(url, create=create, busy_timeout=busy_timeout)
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
    store = Store(engine, read_only=read_only)
    if version == 0:
        _create(store)
    elif version < SCHEMA_VERSION:
        store.backup = _upgrade(engine, version, url)
        store.upgraded_from = version
    if not read_only:
        _use_wal(engine)
    return store


def _create(store: Store) -> None:
    if store.read_only:
        store.dispose()
        raise read_only_catalogue(store.location)
    try:
        create_schema(store.engine)
    except WRITE_ERRORS as error:
        store.dispose()
        raise database_write_failure(error, store.location) from error


def _use_wal(engine: Engine) -> None:
    """Readers keep reading the last commit while a write goes on (SQLite only; the mode is
    kept in the file). A database in use elsewhere keeps its mode until next time: the switch
    never waits, so that opening a catalogue to read it never does."""
    if engine.url.get_backend_name() != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return
    with engine.connect() as connection:
        if str(connection.exec_driver_sql("PRAGMA journal_mode").scalar()).lower() == "wal":
            return
        waits = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        try:
            connection.exec_driver_sql("PRAGMA busy_timeout = 0")
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        except OperationalError as error:
            log.debug("the catalogue stays in its journal mode: %s", _first_line(error))
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(waits or 0)}")


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
    path = sqlite_database_path(url)
    return path is not None and not path.exists()


def sqlite_database_path(url: str) -> Path | None:
    """The file of a SQLite catalogue URL; None for other databases (and URLs that are not)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # _make_engine reports it
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


def _no_catalogue(url: str) -> CatalogueEmpty:
    return CatalogueEmpty(
        f"there is no catalogue at {_display(url)} yet: run `speechgraph refresh --offline` first"
    )


def _make_engine(url: str, *, create: bool, busy_timeout: float) -> tuple[Engine, bool]:
    """The engine, and whether it can only read (a SQLite file on a read-only file system)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"{url!r} is not a database URL: use e.g. sqlite:///path/to/speechgraph.db"
        ) from None
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True), False
    read_only = False
    connect_args: dict[str, object] = {"timeout": busy_timeout}
    if parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if path.is_dir():
            raise DatabaseError(f"{path} is a directory, not a database file: point to a file")
        read_only = path.exists() and not is_writable_directory(path.parent)
        if read_only:
            connect_args = {"creator": _read_only_connector(path)}
        elif create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise write_failure(error, path.parent) from error
    if "creator" in connect_args:
        engine = create_engine(url, creator=connect_args["creator"])
    else:
        engine = create_engine(url, connect_args=connect_args)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine, read_only


def read_only_uri(path: Path) -> str:
    """The SQLite URI that opens `path` for reading only.

    Where its directory is writable (or the WAL's shared-memory file is there), `mode=ro`.
    On a read-only file system SQLite cannot make the `-shm` file a WAL reader needs, so the
    file is opened `immutable=1`, as the SQLite docs advise for read-only media; that reads the
    main file only, so a copy whose `-wal` still holds commits is refused rather than read stale.
    """
    wal = path.with_name(path.name + "-wal")
    shm = path.with_name(path.name + "-shm")
    pending = wal.exists() and wal.stat().st_size > 0
    if is_writable_directory(path.parent) or (pending and shm.exists()):
        return f"file:{quote(str(path))}?mode=ro"
    if pending:
        raise DatabaseError(
            f"{path} is on a read-only file system and its last writes are still in {wal.name}, "
            "which SQLite cannot read there: copy it again after speechgraph finished writing "
            "(or open it once where it is writable)"
        )
    return f"file:{quote(str(path))}?immutable=1"


def _read_only_connector(path: Path) -> Callable[[], sqlite3.Connection]:
    def connect() -> sqlite3.Connection:
        return sqlite3.connect(read_only_uri(path), uri=True, check_same_thread=False)

    return connect


def read_only_catalogue(location: str) -> WriteFailure:
    return WriteFailure(
        f"cannot write the catalogue {location}: it is on a read-only file system (reading "
        "commands still work on it): write to a writable copy instead, e.g. with --data-dir "
        "or SPEECHGRAPH_DATA_DIR"
    )


def database_write_failure(error: Exception, location: str) -> WriteFailure:
    """The one-line error for a write the database refused; nothing of the write was kept."""
    if isinstance(error, IntegrityError | sqlite3.IntegrityError):
        return WriteFailure(
            f"the catalogue {location} refused a write that breaks its constraints "
            f"({_first_line(error)}); nothing of it was kept: if the file was edited by hand, "
            "restore it; otherwise report this with the command you ran"
        )
    reason = _first_line(error).lower()
    if "readonly" in reason or "read-only" in reason:
        return read_only_catalogue(location)
    if "full" in reason:
        advice = "the disk is full: free some space and run the command again"
    elif "locked" in reason or "busy" in reason:
        advice = (
            "another program holds a lock on it: close it (a database browser, an sqlite3 "
            "shell) or run the command again with a longer --wait"
        )
    elif "i/o" in reason or "unable to open" in reason:
        advice = "check the disk, the file's permissions and free space, and run the command again"
    else:
        advice = "run the command again; report it if it keeps failing"
    return WriteFailure(
        f"cannot write the catalogue {location} ({_first_line(error)}); nothing of this write "
        f"was kept: {advice}"
    )


def _rollback_quietly(session: Session) -> None:
    # A connection broken by a disk error may fail its rollback too; SQLite undoes the write
    # from its journal either way, and the first error is the one to report.
    with suppress(*WRITE_ERRORS):
        session.rollback()


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
