"""Keeping the keyword index in step with the catalogue: it catches up on the papers changed
since the version it reflects, and a bulk writer feeds it each batch's documents as it writes
them. Light: neither FAISS nor the model is imported here (`indexing` keeps the vectors).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from speechgraph.catalogue.keywords import (
    KeywordDocument,
    KeywordIndex,
    build_keyword_index,
    iter_documents,
    keyword_index_version,
    update_keyword_index,
)
from speechgraph.catalogue.queries import last_removal, paper_ids
from speechgraph.catalogue.store import Store
from speechgraph.config import Settings


def sync_keywords(settings: Settings, store: Store, version: int, *, rebuild: bool = False) -> bool:
    """Bring the keyword index to catalogue `version`; False when it already was."""
    directory = settings.index_dir
    stamp = keyword_index_version(directory)
    if stamp == version and not rebuild:
        return False
    if stamp is None or rebuild or stamp > version:
        build_keyword_index(directory, iter_documents(store), version)
        return True
    removed: Collection[str] = ()
    if last_removal(store) > stamp:
        index = KeywordIndex(directory)
        try:
            removed = index.ids() - paper_ids(store)
        finally:
            index.close()
    update_keyword_index(directory, iter_documents(store, changed_since=stamp), removed, version)
    return True


def follow_keywords(settings: Settings, documents: Iterable[KeywordDocument], version: int) -> bool:
    """Add the documents of one write (catalogue `version`) to a keyword index that reflected
    the version before it; False (nothing written) when the index was elsewhere, which the next
    `sync_keywords` catches up on."""
    if keyword_index_version(settings.index_dir) is None:
        return False
    return update_keyword_index(settings.index_dir, documents, (), version, if_at=version - 1)


class KeywordFollower:
    """Takes each write's keyword documents into the keyword index (`follow_keywords`) on a
    thread of its own, in order, while the writer goes on with its next batch: SQLite works
    outside the GIL, so the two overlap. At most one write waits, so memory stays flat; an
    error of the thread is raised by the next `follow` or by `close`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keyword-index")
        self._pending: Future[bool] | None = None

    def follow(self, documents: Sequence[KeywordDocument], version: int) -> None:
        self._wait()
        self._pending = self._thread.submit(follow_keywords, self.settings, documents, version)

    def close(self) -> None:
        """Wait for the last write; raises its error, if any."""
        try:
            self._wait()
        finally:
            self._thread.shutdown()

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()
