"""Where the catalogue stands (`speechgraph status`): a few counting statements that any DB-API
connection runs, so that an ordinary SQLite catalogue is read with the standard sqlite3 module
alone and `status` starts without SQLAlchemy.

Counting papers with an abstract reads every row, which takes seconds for a field of 740K
papers; the bulk writers therefore keep the counts in `meta`, stamped with the catalogue
version they describe, and a reader counts afresh only when another write came since.

Imports only the standard library and `catalogue.facts`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from speechgraph.catalogue.facts import ORIGINS, SCHEMA_VERSION

if TYPE_CHECKING:
    from speechgraph.catalogue.writes import Writer

COUNTS_KEY = "status_counts"
_COUNTS = {
    "papers": "SELECT count(*) FROM paper WHERE is_stub = FALSE",
    "listed": "SELECT count(DISTINCT paper_id) FROM mention WHERE paper_id IS NOT NULL",
    "with_abstract": ("SELECT count(*) FROM paper WHERE is_stub = FALSE AND abstract IS NOT NULL"),
    "lists": "SELECT count(*) FROM readinglist",
}
_BY_ORIGIN = "SELECT origin, count(*) FROM paperorigin GROUP BY origin"
_META = (
    "SELECT key, value FROM meta WHERE key IN "
    f"('catalogue_version', 'last_import', 'last_harvest', '{COUNTS_KEY}')"
)


class _Connection(Protocol):
    def cursor(self) -> Any: ...


def status_counts(connection: _Connection) -> dict[str, Any]:
    """papers, listed, with_abstract, by_origin, lists, last_import, last_harvest and
    catalogue_version, over a DB-API connection (counted afresh unless kept for this version)."""
    meta = _meta(connection)
    version = int(meta.get("catalogue_version") or 0)
    kept = json.loads(meta[COUNTS_KEY]) if meta.get(COUNTS_KEY) else None
    counts = kept["counts"] if kept and kept["catalogue_version"] == version else None
    counts = counts or _count(connection)
    return {
        "papers": counts["papers"],
        "listed": counts["listed"],
        "with_abstract": counts["with_abstract"],
        "by_origin": counts["by_origin"],
        "lists": counts["lists"],
        "last_import": _json(meta.get("last_import")),
        "last_harvest": _json(meta.get("last_harvest")),
        "catalogue_version": version,
    }


def remember_counts(writer: Writer) -> None:
    """Keep the counts of the catalogue as the writer's transaction leaves it, for `status`
    (a no-op when they are kept for this version already)."""
    connection = writer.session.connection().connection
    meta = _meta(connection)
    version = int(meta.get("catalogue_version") or 0)
    kept = json.loads(meta[COUNTS_KEY]) if meta.get(COUNTS_KEY) else None
    if kept and kept["catalogue_version"] == version:
        return
    record = {"catalogue_version": version, "counts": _count(connection)}
    writer.set_meta(COUNTS_KEY, json.dumps(record, sort_keys=True))


def read_status_quickly(db_url: str) -> dict[str, Any] | None:
    """`status_counts` of an SQLite catalogue at this release's schema, read with sqlite3 alone
    and read-only; None wherever the full path must answer (another database, a missing file,
    another schema version, a database that cannot be read as it is)."""
    path = _sqlite_path(db_url)
    if path is None or not path.is_file():
        return None
    mode = "mode=ro" if os.access(path.parent, os.W_OK) else "immutable=1"
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)) as database:
            row = database.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None or row[0] != str(SCHEMA_VERSION):
                return None
            return status_counts(database)
    except sqlite3.Error:
        return None


def _sqlite_path(db_url: str) -> Path | None:
    """The file of a plain `sqlite:///path` URL; None for anything else (options, escapes,
    other databases), which SQLAlchemy reads."""
    prefix = "sqlite:///"
    if not db_url.startswith(prefix) or any(mark in db_url for mark in "?%#"):
        return None
    database = db_url[len(prefix) :]
    return Path(database) if database and database != ":memory:" else None


def _meta(connection: _Connection) -> dict[str, str]:
    cursor = connection.cursor()
    try:
        cursor.execute(_META)
        return {key: value for key, value in cursor.fetchall()}
    finally:
        cursor.close()


def _count(connection: _Connection) -> dict[str, Any]:
    cursor = connection.cursor()
    try:
        counts: dict[str, Any] = {}
        for name, sql in _COUNTS.items():
            cursor.execute(sql)
            counts[name] = int(cursor.fetchone()[0])
        cursor.execute(_BY_ORIGIN)
        by_origin = {origin: int(count) for origin, count in cursor.fetchall()}
    finally:
        cursor.close()
    by_origin["list"] = counts["listed"]
    counts["by_origin"] = {origin: by_origin.get(origin, 0) for origin in ("list", *ORIGINS)}
    return counts


def _json(value: str | None) -> Any:
    return json.loads(value) if value else None
