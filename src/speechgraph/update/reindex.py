"""`speechgraph index` and `speechgraph upgrade` as writers: the search index brought in line
with the catalogue, and a catalogue of an earlier release brought to this schema, each under
the writer lock (`update.lock`)."""

from __future__ import annotations

from typing import Any

from speechgraph.catalogue.migrations import SCHEMA_VERSION
from speechgraph.catalogue.store import open_catalogue, open_db
from speechgraph.config import Settings
from speechgraph.search.indexing import Progress, sync_index
from speechgraph.update.derive import sync_knowledge
from speechgraph.update.lock import DEFAULT_WAIT, Announce, busy_timeout, writer_lock
from speechgraph.update.topics import sync_topics


def reindex(
    settings: Settings,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    wait: float = DEFAULT_WAIT,
    announce: Announce | None = None,
    engine: str = "local",
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Bring the keyword and vector indexes, the relations read from the texts and the stored
    topics in line with the catalogue (a no-op when they are); returns `sync_index`'s counts
    with `knowledge` and `topics`. Embeds on `engine` (`search.indexing.ENGINES`). Raises
    CatalogueEmpty when there is no catalogue, WriterBusy and WriteFailure as every writer
    does, ClusterUnavailable when Ray cannot be reached."""
    with writer_lock(settings, wait=wait, announce=announce):
        store = open_catalogue(settings, create=False, busy_timeout=busy_timeout(wait))
        try:
            summary = sync_index(
                settings, store, progress, rebuild=rebuild, engine=engine, ray_address=ray_address
            )
            summary["knowledge"] = sync_knowledge(settings, progress, rebuild=rebuild)
            summary["topics"] = sync_topics(settings, store, force=rebuild)
            return summary
        finally:
            store.dispose()


def upgrade_catalogue(
    settings: Settings, *, wait: float = DEFAULT_WAIT, announce: Announce | None = None
) -> dict[str, Any]:
    """Open the catalogue under the writer lock, which upgrades one of an earlier release (a
    SQLite file is copied aside first); returns the schema, where it came from and the copy."""
    with writer_lock(settings, wait=wait, announce=announce):
        store = open_db(settings.db_url, create=False, busy_timeout=busy_timeout(wait))
        store.dispose()
    return {
        "schema": SCHEMA_VERSION,
        "upgraded_from": store.upgraded_from,
        "backup": str(store.backup) if store.backup else None,
        "database": store.url,
    }
