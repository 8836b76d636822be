"""Schema versions: a new database gets the current schema whole; one written by an earlier
release is copied aside (SQLite) and brought forward one numbered step at a time, each step in
its own transaction, so that an interrupted upgrade leaves the last completed version.

Step N upgrades a database at version N-1 to version N, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from speechgraph.catalogue import schema as models
from speechgraph.catalogue.facts import SCHEMA_VERSION

log = logging.getLogger(__name__)


def _add_provenance_and_knowledge(connection: Connection) -> None:
    """2: where each paper came from, when it last changed, curated compares-with lists,
    relations read from abstracts, topics."""
    columns = {column["name"] for column in inspect(connection).get_columns("paper")}
    if "compares_with" not in columns:
        connection.execute(text("ALTER TABLE paper ADD COLUMN compares_with JSON DEFAULT '[]'"))
        connection.execute(text("UPDATE paper SET compares_with = '[]'"))
    if "record_hash" not in columns:
        connection.execute(text("ALTER TABLE paper ADD COLUMN record_hash VARCHAR"))
    if "changed_in" not in columns:
        connection.execute(text("ALTER TABLE paper ADD COLUMN changed_in INTEGER DEFAULT 0"))
        connection.execute(text("CREATE INDEX ix_paper_changed_in ON paper (changed_in)"))
    tables = set(inspect(connection).get_table_names())
    added = (
        models.PaperOrigin,
        models.PaperName,
        models.Relation,
        models.PaperTopic,
        models.TopicLabel,
    )
    for model in added:
        table = model.__table__  # type: ignore[attr-defined]
        if table.name not in tables:
            table.create(connection)
    version = connection.execute(
        text("SELECT value FROM meta WHERE key = 'catalogue_version'")
    ).scalar()
    connection.execute(text("UPDATE paper SET changed_in = :v"), {"v": int(version or 0)})
    connection.execute(
        text(
            "INSERT INTO paperorigin (paper_id, origin) SELECT id, source FROM paper "
            "WHERE is_stub = :no AND source IN ('arxiv', 'snapshot')"
        ),
        {"no": False},
    )


STEPS: dict[int, Callable[[Connection], None]] = {2: _add_provenance_and_knowledge}


def create_schema(engine: Engine) -> None:
    """The current schema in an empty database, stamped with its version."""
    with engine.begin() as connection:
        SQLModel.metadata.create_all(connection)
        write_meta(connection, "schema_version", str(SCHEMA_VERSION))


def upgrade(engine: Engine, version: int, display: str) -> Path | None:
    """Bring a database at `version` to SCHEMA_VERSION; returns the backup of a SQLite file."""
    backup = backup_sqlite(engine, version)
    for step in range(version + 1, SCHEMA_VERSION + 1):
        with engine.begin() as connection:
            log.warning("upgrading the catalogue %s to schema %d", display, step)
            STEPS[step](connection)
            write_meta(connection, "schema_version", str(step))
    return backup


def backup_sqlite(engine: Engine, version: int) -> Path | None:
    """A consistent copy of a SQLite catalogue beside it (SQLite's online backup), named after
    its schema version; None for other databases, which their own tools back up."""
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    source = Path(database)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = source.with_name(f"{source.stem}.schema{version}-{stamp}.bak{source.suffix}")
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)
    return target


def write_meta(connection: Connection, key: str, value: str) -> None:
    table = models.Meta.__table__  # type: ignore[attr-defined]
    connection.execute(table.delete().where(table.c.key == key))
    connection.execute(table.insert().values(key=key, value=value))
