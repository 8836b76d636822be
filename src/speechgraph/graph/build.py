"""Wires the catalogue into the knowledge graph: loads papers and citations from the catalogue
and embeddings from the search index when there is one, then builds the graph.

FAISS loads only when an index is asked for; similar pairs come from a neighbour function
passed in, so `edges` never sees the index.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np

from speechgraph.catalogue.queries import (
    catalogue_version,
    citation_pairs,
    load_papers,
    require_papers,
)
from speechgraph.catalogue.store import Store
from speechgraph.config import Settings
from speechgraph.errors import IndexOutOfDate
from speechgraph.graph.edges import (
    SIMILAR_NEIGHBOURS,
    SIMILAR_THRESHOLD,
    build_graph,
    similar_pairs,
)
from speechgraph.records import PaperView

log = logging.getLogger(__name__)

REINDEX = "`speechgraph index`"


def no_vector_yet(count: int) -> str:
    """How notes say that `count` papers are missing from the search index."""
    return "1 paper has no vector yet" if count == 1 else f"{count} papers have no vector yet"


Neighbours = Callable[[Sequence[str]], Iterable[tuple[str, str, float]]]


@dataclass
class Embeddings:
    """Vectors of the papers that have one; `ids[i]` is row i."""

    ids: list[str]
    vectors: np.ndarray


@dataclass
class Knowledge:
    """The catalogue's papers, its graph, and how it was built."""

    papers: list[PaperView]
    graph: nx.MultiDiGraph
    seconds: float
    notes: list[str] = field(default_factory=list)


def load_knowledge(store: Store, neighbours: Neighbours | None = None) -> Knowledge:
    """The graph of the catalogue in `store` (stubs left out). Raises CatalogueEmpty.

    `neighbours` gives the similar pairs; an `IndexNeighbours` adds its notes (an index not
    used, papers without a vector) to the knowledge's notes."""
    started = time.perf_counter()
    require_papers(store)
    papers = load_papers(store)
    citations = citation_pairs(store)
    notes = []
    pairs: Iterable[tuple[str, str, float]] = ()
    if neighbours is None:
        notes.append("no embeddings: similar-paper links are left out")
    else:
        pairs = list(neighbours([paper.id for paper in papers]))
        told = neighbours.notes if isinstance(neighbours, IndexNeighbours) else []
        notes.extend(told)
        if not pairs and not told:
            notes.append("no similar pairs found: run `speechgraph refresh` to build the index")
    if not citations:
        notes.append("no citation data: plans rest on named methods, similarity and list order")
    graph = build_graph(papers, citations, pairs)
    return Knowledge(papers, graph, time.perf_counter() - started, notes)


def index_neighbours(settings: Settings, store: Store) -> IndexNeighbours:
    """A `Neighbours` function over the search index of `settings`, accepting the index only
    when it was built with this model for the catalogue's current version."""
    from speechgraph.search.encoder import model_fingerprint

    version = catalogue_version(store)
    return IndexNeighbours(
        settings.index_dir,
        fingerprint=model_fingerprint(settings.model, settings.cache_dir),
        catalogue_version=version,
    )


NEIGHBOUR_BATCH = 4096  # queries per FAISS call: bounded memory for the k-NN result matrices


class IndexNeighbours:
    """A `Neighbours` function over the search index: each paper's nearest neighbours come from
    batched FAISS searches (no n x n matrix). It keeps the vectors it loaded in `embeddings`
    so that clusters reuse them, and what the user should know in `notes`.

    An index built with another model (`fingerprint`) or for another `catalogue_version` is not
    used: the graph and clusters then work without embeddings. None skips that check.
    """

    def __init__(
        self,
        index_dir: Path,
        *,
        fingerprint: str | None = None,
        catalogue_version: int | None = None,
        k: int = SIMILAR_NEIGHBOURS,
        threshold: float = SIMILAR_THRESHOLD,
    ) -> None:
        self.index_dir = index_dir
        self.fingerprint = fingerprint
        self.catalogue_version = catalogue_version
        self.k = k
        self.threshold = threshold
        self.embeddings: Embeddings | None = None
        self.notes: list[str] = []

    def __call__(self, paper_ids: Sequence[str]) -> list[tuple[str, str, float]]:
        from speechgraph.search.index import load_index

        self.embeddings, self.notes = None, []
        try:
            index = load_index(
                self.index_dir,
                fingerprint=self.fingerprint,
                catalogue_version=self.catalogue_version,
            )
        except IndexOutOfDate as error:
            log.info("no embeddings: %s", error)
            self.notes.append(f"search index not used, so no similar-paper links: {error}")
            return []
        present = [paper_id for paper_id in paper_ids if paper_id in index]
        if len(present) < len(paper_ids):
            self.notes.append(f"{no_vector_yet(len(paper_ids) - len(present))}: run {REINDEX}")
        if not present:
            return []
        vectors = index.vectors(present)
        self.embeddings = Embeddings(present, vectors)
        wanted = set(present)
        # Ids in the index but not asked for would take neighbour slots: ask for that many more.
        extra = min(len(index) - len(present), 10 * self.k)
        ranked = []
        for start in range(0, len(present), NEIGHBOUR_BATCH):
            batch = present[start : start + NEIGHBOUR_BATCH]
            found = index.search_many(vectors[start : start + NEIGHBOUR_BATCH], self.k + 1 + extra)
            for paper_id, hits in zip(batch, found, strict=True):
                others = [(o, score) for o, score in hits if o in wanted and o != paper_id]
                ranked.append((paper_id, others))
        return similar_pairs(ranked, k=self.k, threshold=self.threshold)
