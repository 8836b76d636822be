"""Hybrid retrieval over the catalogue: dense (FAISS) + keyword (FTS5 BM25) fused by reciprocal
rank, with filters, explanations and `similar`. The read side only: `indexing` writes the indexes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any

from speechgraph.catalogue.keywords import KeywordIndex
from speechgraph.catalogue.queries import (
    Filters,
    PaperCard,
    catalogue_version,
    ids_matching,
    listed_among,
    load_papers,
    paper_cards,
    paper_count,
    require_papers,
)
from speechgraph.catalogue.store import Store, open_catalogue
from speechgraph.config import Settings
from speechgraph.errors import IndexOutOfDate, PaperNotFound, SearchInputError
from speechgraph.records import summary_label
from speechgraph.search.lexical import is_only_common_words, query_terms
from speechgraph.search.manifest import vector_count

if TYPE_CHECKING:  # numpy, FAISS and ONNX Runtime load with the vectors, on first use
    from speechgraph.search.encoder import Encoder
    from speechgraph.search.index import VectorIndex

log = logging.getLogger(__name__)

CARD_CACHE_SIZE = 50_000  # title, year, authors of the papers hits came from, per searcher

__all__ = ["Filters", "Hit", "SearchInputError", "SearchResult", "Searcher"]

MODES = ("hybrid", "dense", "lexical")
MAX_QUERY_CHARS = 2000  # the model reads 256 tokens; more text only slows the tokenizer
MAX_K = 1000
RRF_K = 60  # the constant of reciprocal rank fusion (Cormack et al.); see bench/eval_search.py
CANDIDATES = 100  # hits each retriever contributes to the fusion


@dataclass
class Hit:
    id: str
    title: str
    year: int | None
    score: float
    why: dict[str, Any]
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    listed: bool = False  # whether a reading list mentions it

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "year": self.year,
            "score": round(self.score, 6),
            "why": self.why,
            "authors": self.authors,
            "categories": self.categories,
            "listed": self.listed,
        }


@dataclass
class SearchResult:
    query: str
    mode: str
    results: list[Hit]
    truncated: bool = False

    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "mode": self.mode,
            "truncated": self.truncated,
            "results": [hit.to_json() for hit in self.results],
            "notes": self.notes,
        }


def clean_query(raw: str | bytes) -> tuple[str, bool]:
    """The query as valid text, whitespace collapsed, cut at a word boundary; and whether cut."""
    if isinstance(raw, bytes):
        text = raw.decode("utf-8", "replace")
    else:
        # Undecodable bytes arrive from argv as lone surrogates; make them U+FFFD. Surrogates
        # outside surrogateescape's range (U+DC80..U+DCFF) can come from anywhere else.
        try:
            text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:
            text = raw.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    text = " ".join(text.replace("\x00", " ").split())
    if len(text) <= MAX_QUERY_CHARS:
        return text, False
    cut = text[:MAX_QUERY_CHARS]
    return (cut.rsplit(" ", 1)[0] or cut), True


def rrf_fuse(rankings: dict[str, list[str]], rrf_k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: each list adds 1 / (rrf_k + rank) to the ids it ranks."""
    scores: dict[str, float] = {}
    for ranking in rankings.values():
        for rank, paper_id in enumerate(ranking, start=1):
            scores[paper_id] = scores.get(paper_id, 0.0) + 1.0 / (rrf_k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


# --- the searcher ------------------------------------------------------------------------------


class Searcher:
    """Model, vector index and keyword index loaded once; reuse it for many queries.

    One searcher may serve many threads (the UI shares one): queries take turns on a lock, as
    the keyword index's SQLite connection and the card cache are not safe to use concurrently.
    Use it in a `with` block, or call `close()`, to release what it opened.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        encoder: Encoder | None = None,
        *,
        load_vectors: bool = True,
    ) -> None:
        """Without `load_vectors` the vector index is read on first use only, so that a keyword
        search (the CLI's `--mode lexical`) never reads it and works before `index` ran."""
        self.settings = settings
        self._owns_store = store is None
        self.store = store or open_catalogue(settings)
        self._lock = threading.RLock()
        self._encoder = encoder
        self._index: VectorIndex | None = None
        self._cards: dict[str, Hit] = {}
        try:
            require_papers(self.store)
            self.catalogue_version = catalogue_version(self.store)
            if load_vectors:
                self._index = self.index
            self.lexical = KeywordIndex(settings.index_dir)
            self.notes = self._freshness_notes()
        except BaseException:
            if self._owns_store:
                self.store.dispose()
            raise

    def __enter__(self) -> Searcher:
        return self

    @property
    def index(self) -> VectorIndex:
        """The vector index, read on first use (a keyword search never reads it). An index
        behind the catalogue still serves: papers written since are found by keywords only
        (or not yet), and `notes` says so. Raises IndexOutOfDate when there is none."""
        with self._lock:
            if self._index is None:
                from speechgraph.search.encoder import model_fingerprint
                from speechgraph.search.index import load_index

                fingerprint = model_fingerprint(self.settings.model, self.settings.cache_dir)
                self._index = load_index(self.settings.index_dir, fingerprint=fingerprint)
            return self._index

    def _freshness_notes(self) -> list[str]:
        notes = []
        without = max(0, paper_count(self.store) - vector_count(self.settings.index_dir))
        if without:
            noun = "paper has" if without == 1 else "papers have"
            notes.append(
                f"{without} {noun} no vector yet and can be found by keywords only: "
                "run `speechgraph index` to embed them"
            )
        if self.lexical.version < self.catalogue_version:
            notes.append(
                f"the keyword index reflects catalogue version {self.lexical.version}, not "
                f"{self.catalogue_version}: run `speechgraph index`"
            )
        return notes

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def encoder(self) -> Encoder:
        with self._lock:
            if self._encoder is None:
                from speechgraph.search.onnx import load_query_encoder

                self._encoder = load_query_encoder(self.settings.model, self.settings.cache_dir)
            return self._encoder

    def close(self) -> None:
        """Release the keyword index and, when this searcher opened it, the store."""
        with self._lock:
            self.lexical.close()
            if self._owns_store:
                self.store.dispose()

    def search(
        self, query: str, k: int = 10, mode: str = "hybrid", filters: Filters | None = None
    ) -> SearchResult:
        """The `k` best papers for `query`. Raises SearchInputError for an empty query, a bad
        mode, a keyword query of common words only, or an unknown filter value; `k` is clamped
        to 1..MAX_K."""
        with self._lock:
            return self._search(query, k, mode, filters)

    def _search(self, query: str, k: int, mode: str, filters: Filters | None) -> SearchResult:
        text, truncated = clean_query(query)
        if not text:
            raise SearchInputError('the query is empty: give some words, e.g. "neural vocoder"')
        if mode not in MODES:
            raise SearchInputError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
        k = max(1, min(int(k), MAX_K))
        allowed = None
        if filters is not None and not filters.is_empty():
            allowed = ids_matching(self.store, filters)
        terms = query_terms(text)
        if mode == "lexical" and is_only_common_words(text):
            raise SearchInputError(
                "every word of the query is a common word: add a distinctive term or use "
                "--mode hybrid"
            )
        depth = max(CANDIDATES, k) if mode == "hybrid" else k
        dense: list[tuple[str, float]] = []
        query_vector = None
        if mode != "lexical":
            query_vector = self.encoder.encode([text])[0]
            dense = self.index.search(query_vector, depth, allowed)
        lexical = self.lexical.search(terms, depth, allowed) if mode != "dense" else []
        ranked = self._rank(mode, dense, lexical)[:k]
        hits = self._hits(ranked, dense, lexical, terms, query_vector)
        return SearchResult(text, mode, hits, truncated, list(self.notes))

    def similar(self, paper_id: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """Papers whose embeddings are nearest to `paper_id`'s, among those passing `filters`.
        Raises PaperNotFound."""
        with self._lock:
            return self._similar(paper_id, k, filters)

    def _similar(self, paper_id: str, k: int, filters: Filters | None) -> list[Hit]:
        k = max(1, min(int(k), MAX_K))
        if paper_id not in self.index:
            found = load_papers(self.store, [paper_id])
            if not found:
                raise PaperNotFound(
                    f"{paper_id} is not in the catalogue: use `speechgraph search` to find its id"
                )
            if found[0].is_stub:
                raise PaperNotFound(
                    f"{paper_id} is only cited by catalogue papers (no abstract or note), so it "
                    "has no embedding: pick a catalogue paper, e.g. from `speechgraph search`"
                )
            raise IndexOutOfDate(f"{paper_id} is not in the search index: run `speechgraph index`")
        allowed = ids_matching(self.store, filters) if filters is not None else None
        vector = self.index.vectors([paper_id])[0]
        found = self.index.search(vector, k + 1, allowed)
        neighbours = [hit for hit in found if hit[0] != paper_id][:k]
        return self._hits(neighbours, neighbours, [], [], None)

    def _rank(
        self, mode: str, dense: list[tuple[str, float]], lexical: list[tuple[str, float]]
    ) -> list[tuple[str, float]]:
        if mode == "dense":
            return dense
        if mode == "lexical":
            return lexical
        return rrf_fuse({"dense": [i for i, _ in dense], "lexical": [i for i, _ in lexical]})

    def _hits(
        self,
        ranked: list[tuple[str, float]],
        dense: list[tuple[str, float]],
        lexical: list[tuple[str, float]],
        terms: list[str],
        query_vector: Any,
    ) -> list[Hit]:
        ids = [paper_id for paper_id, _ in ranked]
        cards = self._cached_cards(ids)
        listed = listed_among(self.store, ids)
        dense_rank = {paper_id: rank for rank, (paper_id, _) in enumerate(dense, start=1)}
        similarity = dict(dense)
        if query_vector is not None:
            missing = [i for i in ids if i not in similarity and i in self.index]
            if missing:
                similarity.update(
                    zip(missing, self.index.vectors(missing) @ query_vector, strict=True)
                )
        lexical_rank = {paper_id: rank for rank, (paper_id, _) in enumerate(lexical, start=1)}
        bm25 = dict(lexical)
        matched = self.lexical.matched_terms(ids, terms) if terms else {}
        hits = []
        for paper_id, score in ranked:
            card = cards.get(paper_id)
            if card is None:  # indexed but since deleted; the next `index` drops it
                continue
            card.score = float(score)
            card.listed = paper_id in listed
            card.why = {
                "matched_terms": matched.get(paper_id, []),
                "dense_similarity": _rounded(similarity.get(paper_id)),
                "dense_rank": dense_rank.get(paper_id),
                "lexical_rank": lexical_rank.get(paper_id),
                "bm25": _rounded(bm25.get(paper_id)),
                "summary_source": card.why.get("summary_source"),
            }
            hits.append(card)
        return hits

    def _cached_cards(self, ids: list[str]) -> dict[str, Hit]:
        """Fresh copies of the hits' cards. A searcher is bound to one catalogue version, so
        cards fetched once stay right; keeping them saves a store round trip per warm query."""
        missing = [paper_id for paper_id in ids if paper_id not in self._cards]
        if missing:
            if len(self._cards) + len(missing) > CARD_CACHE_SIZE:
                self._cards.clear()
            self._cards.update(
                (paper_id, _hit(card))
                for paper_id, card in paper_cards(self.store, missing).items()
            )
        return {
            paper_id: replace(
                card,
                why=dict(card.why),
                authors=list(card.authors),
                categories=list(card.categories),
            )
            for paper_id in ids
            if (card := self._cards.get(paper_id)) is not None
        }


def _hit(card: PaperCard) -> Hit:
    source = summary_label(card.has_abstract, card.has_note)
    return Hit(
        card.id,
        card.title,
        card.year,
        0.0,
        {"summary_source": source},
        card.authors,
        card.categories,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)
