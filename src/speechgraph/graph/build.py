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
from typing import Any

import networkx as nx
import numpy as np

from speechgraph.catalogue.queries import (
    citation_pairs,
    citations_of_papers,
    load_papers,
    paper_topics,
    relations_of_papers,
    require_papers,
    section_mates,
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
from speechgraph.records import PaperView, Relation

log = logging.getLogger(__name__)

REINDEX = "`speechgraph index`"
NEIGHBOURHOOD_DEPTH = 3  # links followed from the papers a question is about


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


def load_knowledge(
    store: Store,
    neighbours: Neighbours | None = None,
    *,
    around: Sequence[str] | None = None,
    depth: int = NEIGHBOURHOOD_DEPTH,
) -> Knowledge:
    """The graph of the catalogue in `store` (stubs left out), or, with `around`, of the
    neighbourhood those papers need: what they build on, compare with, mention and cite (and
    what builds on them) up to `depth` links, their section mates and nearest neighbours in
    meaning. Never the whole field for a question about a few papers. Raises CatalogueEmpty.

    `neighbours` gives the similar pairs; an `IndexNeighbours` adds its notes (an index not
    used, papers without a vector) to the knowledge's notes."""
    started = time.perf_counter()
    require_papers(store)
    if around is None:
        papers = load_papers(store)
        ids = {paper.id for paper in papers}
        relations = relations_of_papers(store, ids)
        citations = citation_pairs(store)
    else:
        ids, relations, citations = _neighbourhood(store, around, depth)
        if neighbours is not None and isinstance(neighbours, IndexNeighbours):
            ids |= neighbours.nearest(around)
        papers = load_papers(store, ids)
    notes = []
    pairs: Iterable[tuple[str, str, float]] = ()
    if neighbours is None:
        notes.append("no embeddings: similar-paper links are left out")
    else:
        pairs = list(neighbours([paper.id for paper in papers]))
        told = neighbours.notes if isinstance(neighbours, IndexNeighbours) else []
        notes.extend(told)
        if not pairs and not told:
            notes.append("no similar pairs found: run `speechgraph index` to build the index")
    if not citations:
        notes.append("no citation data: plans rest on what the texts say, similarity and lists")
    topics = paper_topics(store, [paper.id for paper in papers])
    graph = build_graph(papers, citations, pairs, relations, topics)
    return Knowledge(papers, graph, time.perf_counter() - started, notes)


def _neighbourhood(
    store: Store, around: Sequence[str], depth: int
) -> tuple[set[str], list[Relation], list[tuple[str, str]]]:
    """The papers within `depth` links of `around` along relations and citations back (what
    they rest on, and what that rests on), and one link forward (what rests on them), with the
    relations and citations found. Following links forward past the first would bring in most of
    a large field through its landmark papers (thousands build on the Transformer), and no plan
    or path from these papers needs them."""
    ids = set(around) | section_mates(store, around)
    relations: dict[tuple[str, str, str], Relation] = {}
    citations: set[tuple[str, str]] = set()
    frontier = set(around)
    for hop in range(max(1, depth)):
        directions = (True, False) if hop == 0 else (True,)
        found_relations = [
            relation
            for outgoing in directions
            for relation in relations_of_papers(store, frontier, outgoing=outgoing)
        ]
        found_citations = [
            pair
            for outgoing in directions
            for pair in citations_of_papers(store, frontier, outgoing=outgoing)
        ]
        for relation in found_relations:
            relations[(relation.source_id, relation.target_id, relation.kind)] = relation
        citations.update(found_citations)
        reached = {r.source_id for r in found_relations} | {r.target_id for r in found_relations}
        reached |= {paper for pair in found_citations for paper in pair}
        frontier = reached - ids
        ids |= reached
        if not frontier:
            break
    return ids, list(relations.values()), sorted(citations)


def index_neighbours(settings: Settings, store: Store) -> IndexNeighbours:
    """A `Neighbours` function over the search index of `settings`, accepting the index when
    it was built with this model (an index behind the catalogue still serves the papers it
    has; the others are noted as having no vector yet)."""
    from speechgraph.search.encoder import model_fingerprint

    require_papers(store)
    return IndexNeighbours(
        settings.index_dir, fingerprint=model_fingerprint(settings.model, settings.cache_dir)
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
        self._index: Any = None
        self._refusal: str | None = None

    def _load(self) -> Any:
        """The index (loaded once), or None with the reason in `_refusal`."""
        from speechgraph.search.index import load_index

        if self._index is None and self._refusal is None:
            try:
                self._index = load_index(
                    self.index_dir,
                    fingerprint=self.fingerprint,
                    catalogue_version=self.catalogue_version,
                )
            except IndexOutOfDate as error:
                log.info("no embeddings: %s", error)
                self._refusal = f"search index not used, so no similar-paper links: {error}"
        return self._index

    def nearest(self, paper_ids: Sequence[str]) -> set[str]:
        """The papers nearest in meaning to `paper_ids` across the whole index (their `k`
        nearest at or above the threshold): candidates for a neighbourhood."""
        index = self._load()
        present = [paper_id for paper_id in paper_ids if index is not None and paper_id in index]
        if not present:
            return set()
        found = index.search_many(index.vectors(present), self.k + 1)
        return {
            other
            for hits in found
            for other, score in hits
            if score >= self.threshold and other not in present
        }

    def __call__(self, paper_ids: Sequence[str]) -> list[tuple[str, str, float]]:
        self.embeddings, self.notes = None, []
        index = self._load()
        if index is None:
            self.notes.append(self._refusal or "no search index")
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
