"""`speechgraph status` as plain data: the catalogue's counts, the vectors the search index
holds and where the data lives. Light: an ordinary SQLite catalogue is read without SQLAlchemy,
FAISS or the model, so that the command answers at once; anything else takes the full path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from speechgraph.catalogue.facts import ORIGINS
from speechgraph.catalogue.status import read_status_quickly
from speechgraph.config import Settings
from speechgraph.search.manifest import vector_count


def catalogue_status_view(settings: Settings) -> dict[str, Any]:
    """The catalogue's counts, how many papers have a vector in the search index, and the data
    directory. Raises CatalogueEmpty when there is no catalogue, DatabaseError when it cannot be
    read (as every command does)."""
    status = read_status_quickly(settings.db_url)
    if status is None:
        status = _status_through_the_store(settings)
    return {
        **status,
        "with_vector": min(vector_count(settings.index_dir), status["papers"]),
        "data_dir": str(settings.data_dir),
    }


def _status_through_the_store(settings: Settings) -> dict[str, Any]:
    from speechgraph.catalogue.queries import catalogue_status
    from speechgraph.catalogue.store import open_db

    store = open_db(settings.db_url, create=False)
    try:
        return catalogue_status(store)
    finally:
        store.dispose()


_ORIGIN_ORDER = {origin: place for place, origin in enumerate(("list", *ORIGINS))}


def describe_origins(view: Mapping[str, Any]) -> str:
    """Where the papers came from: "84 list, 8199 import" (a paper may have several origins)."""
    origins = view.get("by_origin") or {}
    ordered = sorted(
        origins.items(), key=lambda item: _ORIGIN_ORDER.get(item[0], len(_ORIGIN_ORDER))
    )
    shown = ", ".join(f"{count} {origin}" for origin, count in ordered if count)
    return shown or "nothing yet"


def describe_event(event: Mapping[str, Any] | None) -> str:
    """The last import or harvest in one line: when, and its counts."""
    if not event:
        return "never"
    counts = ", ".join(
        f"{event[name]} {name}"
        for name in ("read", "imported", "updated", "unchanged", "skipped", "bad")
        if event.get(name) is not None
    )
    files = "; ".join(str(name) for name in event.get("files") or [])
    when = event.get("at") or "at an unknown time"
    return f"{when}: {counts or 'no counts'}" + (f" (from {files})" if files else "")
