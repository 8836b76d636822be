"""Wires the catalogue into the knowledge graph: loads papers and citations from the store and
embeddings from the search index when there is one, then builds the graph.

Imports `catalogue`, `store`, `graph`, `errors`, and `index` lazily (FAISS loads only when an
index is asked for). Similar pairs come from a neighbour function passed in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np

from speechgraph.catalogue import PaperView, citation_pairs, load_papers, require_papers
from speechgraph.errors import IndexOutOfDate
from speechgraph.graph import build_graph, similar_pairs_from_vectors
from speechgraph.store import Store

log = logging.getLogger(__name__)

Neighbours = Callable[[Sequence[str]], Iterable[tuple[str, str, float]]]


@dataclass
class Embeddings:
    """Vectors of the papers that have one; `ids[i]` is row i."""

    ids: list[str]
    vectors: np.ndarray

    def neighbours(self, paper_ids: Sequence[str]) -> list[tuple[str, str, float]]:
        """Exact k-NN similar pairs among `paper_ids` (a `Neighbours` function)."""
        wanted = set(paper_ids)
        rows = [row for row, paper_id in enumerate(self.ids) if paper_id in wanted]
        return similar_pairs_from_vectors([self.ids[row] for row in rows], self.vectors[rows])


@dataclass
class Knowledge:
    """The catalogue's papers, its graph, and how it was built."""

    papers: list[PaperView]
    graph: nx.MultiDiGraph
    seconds: float
    notes: list[str] = field(default_factory=list)


def load_knowledge(store: Store, neighbours: Neighbours | None = None) -> Knowledge:
    """The graph of the catalogue in `store` (stubs left out). Raises CatalogueEmpty."""
    started = time.perf_counter()
    with store.reading() as session:
        require_papers(session)
        papers = load_papers(session)
        citations = citation_pairs(session)
    notes = []
    pairs: Iterable[tuple[str, str, float]] = ()
    if neighbours is None:
        notes.append("no embeddings: similar-paper links are left out")
    else:
        pairs = list(neighbours([paper.id for paper in papers]))
        if not pairs:
            notes.append("no similar pairs found: run `speechgraph refresh` to build the index")
    if not citations:
        notes.append("no citation data: plans rest on named methods, similarity and list order")
    graph = build_graph(papers, citations, pairs)
    return Knowledge(papers, graph, time.perf_counter() - started, notes)


def load_embeddings(index_dir: Path, paper_ids: Sequence[str]) -> Embeddings | None:
    """The stored vectors of `paper_ids` from the search index, or None when there is no
    usable index (the graph and clusters then work without embeddings)."""
    from speechgraph.index import load_index

    try:
        index = load_index(index_dir)
    except IndexOutOfDate as error:
        log.info("no embeddings: %s", error)
        return None
    present = [paper_id for paper_id in paper_ids if paper_id in index]
    if len(present) < len(paper_ids):
        log.info("%d papers have no vector yet", len(paper_ids) - len(present))
    if not present:
        return None
    return Embeddings(present, index.vectors(present))


class IndexNeighbours:
    """A `Neighbours` function over the search index's stored vectors; it keeps the vectors it
    loaded in `embeddings` so that clusters reuse them."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.embeddings: Embeddings | None = None

    def __call__(self, paper_ids: Sequence[str]) -> list[tuple[str, str, float]]:
        self.embeddings = load_embeddings(self.index_dir, paper_ids)
        return self.embeddings.neighbours(paper_ids) if self.embeddings else []
