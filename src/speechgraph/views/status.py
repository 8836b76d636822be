"""`speechgraph status` as plain data: the catalogue's counts, the vectors the search index
holds and where the data lives. Light: an ordinary SQLite catalogue is read without SQLAlchemy,
FAISS or the model, so that the command answers at once; anything else takes the full path.
"""

from __future__ import annotations

from typing import Any

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
