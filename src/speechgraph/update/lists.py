"""`speechgraph lists remove`: take a reading list back out of the catalogue (its mentions, and
the papers no other list and no import or harvest brought) and bring the search index in step,
under the writer lock. A seed list comes back with the next `refresh`."""

from __future__ import annotations

from typing import Any

from speechgraph.catalogue.queries import catalogue_version, paper_ids
from speechgraph.catalogue.store import Store, open_db
from speechgraph.config import Settings
from speechgraph.errors import ReadingListError
from speechgraph.search.index import read_manifest
from speechgraph.search.indexing import sync_index, sync_keywords
from speechgraph.update.lock import DEFAULT_WAIT, Announce, busy_timeout, writer_lock


def remove_reading_list(
    settings: Settings, name: str, *, wait: float = DEFAULT_WAIT, announce: Announce | None = None
) -> dict[str, Any]:
    """Remove the list `name` (one transaction), then drop what went from the indexes; returns
    what was removed. Raises ReadingListError when the catalogue has no such list (nothing is
    changed), WriterBusy and WriteFailure as every writer does."""
    with writer_lock(settings, wait=wait, announce=announce):
        store = open_db(settings.db_url, create=False, busy_timeout=busy_timeout(wait))
        try:
            with store.writing() as writer:
                removal = writer.remove_list(name)
                if removal is None:
                    raise ReadingListError(
                        f"the catalogue has no reading list named {name!r}: "
                        "`speechgraph lists` shows their names"
                    )
            index = _index_in_step(settings, store)
        finally:
            store.dispose()
    return {
        "list": removal.name,
        "mentions": removal.mentions,
        "papers_removed": removal.papers,
        "stubs_removed": removal.stubs,
        "index": index,
    }


def _index_in_step(settings: Settings, store: Store) -> dict[str, Any]:
    """Drop the removed papers from the indexes and the list's link texts from the keyword
    index; nothing is embedded (papers waiting for a vector still wait for `index`)."""
    if not paper_ids(store):
        return {"status": "skipped: the catalogue is empty"}
    if read_manifest(settings.index_dir) is None:
        changed = sync_keywords(settings, store, catalogue_version(store))
        return {"status": "updated" if changed else "up-to-date", "vectors": "none yet"}
    return sync_index(settings, store, only=())
