"""Keeping what the texts say in step with the catalogue: each changed paper's names, then the
relations stated by the changed papers and by every paper whose text holds one of their names
(found through the keyword index), stored for both curation modes at once. A no-op when the
knowledge already reflects the catalogue's version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from speechgraph.catalogue.keywords import KeywordIndex
from speechgraph.catalogue.queries import (
    catalogue_version,
    iter_papers,
    load_papers,
    meta_value,
    paper_count,
    paper_dates,
    stored_names,
)
from speechgraph.catalogue.store import Store, open_db
from speechgraph.config import Settings
from speechgraph.errors import IndexOutOfDate
from speechgraph.knowledge.derive import name_index, paper_names, relations_for
from speechgraph.text import normalize_title

log = logging.getLogger(__name__)

STAMP = "knowledge_version"
CHUNK = 2000

Progress = Callable[[str, int, int], None]


def sync_knowledge(
    settings: Settings, progress: Progress | None = None, *, rebuild: bool = False
) -> dict[str, Any]:
    """Bring the stored names and relations to the catalogue's version; counts of what it did.
    The keyword index must be current (it finds the papers a new name appears in)."""
    store = open_db(settings.db_url)  # curated reads: both modes' knowledge is stored
    try:
        return derive_knowledge(store, settings.index_dir, progress, rebuild=rebuild)
    finally:
        store.dispose()


def derive_knowledge(
    store: Store,
    index_dir: Path | None,
    progress: Progress | None = None,
    *,
    rebuild: bool = False,
) -> dict[str, Any]:
    """`sync_knowledge` on an open catalogue (read with curation); `index_dir` holds the
    keyword index that finds where a new name appears (None: only changed papers are read)."""
    version = catalogue_version(store)
    stamp = int(meta_value(store, STAMP) or -1)
    if stamp == version and not rebuild:
        return {"status": "up-to-date", "papers": 0, "relations": 0, "version": version}
    full = rebuild or stamp < 0
    changed = [
        paper for chunk in iter_papers(store, changed_since=None if full else stamp)
        for paper in chunk
    ]  # fmt: skip
    new_names = _store_names(store, changed)
    names = name_index(stored_names(store), curated=True)
    uncurated = name_index(stored_names(store), curated=False)
    dates = paper_dates(store)
    if full:
        targets = None
    else:
        targets = {paper.id for paper in changed} | _papers_naming(index_dir, new_names)
    done = relations = 0
    total = paper_count(store) if targets is None else len(targets)
    for chunk in _papers(store, targets):
        with store.writing() as writer:
            for paper in chunk:
                found = relations_for(paper, names, uncurated, dates)
                writer.replace_relations(paper.id, found)
                relations += len(found)
        done += len(chunk)
        if progress is not None:
            progress("knowledge", done, total)
    with store.writing() as writer:
        writer.set_meta(STAMP, str(version))
    return {"status": "updated", "papers": done, "relations": relations, "version": version}


def _store_names(store: Store, papers: list[Any]) -> set[str]:
    """Store each paper's names; returns every name text they go by."""
    texts: set[str] = set()
    for start in range(0, len(papers), CHUNK):
        with store.writing() as writer:
            for paper in papers[start : start + CHUNK]:
                names = paper_names(paper)
                writer.replace_names(paper.id, names)
                texts.update(name.text for name in names)
    return texts


def _papers_naming(index_dir: Path | None, names: set[str]) -> set[str]:
    """The papers whose title or abstract holds one of `names` (their relations may change)."""
    if index_dir is None:
        return set()
    try:
        index = KeywordIndex(index_dir)
    except IndexOutOfDate:
        log.info("no keyword index: relations are derived for the changed papers only")
        return set()
    try:
        found: set[str] = set()
        for name in names:
            found |= index.ids_with_phrase(normalize_title(name).split())
        return found
    finally:
        index.close()


def _papers(store: Store, ids: set[str] | None) -> Any:
    if ids is None:
        yield from iter_papers(store, chunk_size=CHUNK)
        return
    chosen = sorted(ids)
    for start in range(0, len(chosen), CHUNK):
        yield load_papers(store, chosen[start : start + CHUNK])
