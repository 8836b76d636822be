"""Hybrid retrieval over the catalogue: dense (FAISS) + lexical (FTS5 BM25) fused by reciprocal
rank, with filters, explanations and `similar`. The read side only: `indexing` writes the indexes.

Imports `config`, `errors`, `store`, `catalogue`, `embed`, `embed_onnx`, `index`, `lexical`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from functools import cache
from types import TracebackType
from typing import Any

from sqlalchemy import bindparam, literal, null, text, union_all
from sqlmodel import Session, col, select

from speechgraph.catalogue.queries import (
    catalogue_version,
    load_papers,
    reading_list_names,
    require_papers,
)
from speechgraph.catalogue.schema import (
    Author,
    Mention,
    Paper,
    PaperAuthor,
    PaperCategory,
    ReadingList,
)
from speechgraph.catalogue.store import Store, open_db
from speechgraph.config import Settings
from speechgraph.errors import IndexOutOfDate, PaperNotFound, SearchInputError
from speechgraph.records import summary_label
from speechgraph.search import encoder as embed
from speechgraph.search import onnx as embed_onnx
from speechgraph.search.index import VectorIndex, load_index
from speechgraph.search.lexical import LexicalIndex, is_only_common_words, query_terms

log = logging.getLogger(__name__)

CARD_CACHE_SIZE = 50_000  # title, year, authors of the papers hits came from, per searcher

__all__ = ["Filters", "Hit", "SearchInputError", "SearchResult", "Searcher"]

MODES = ("hybrid", "dense", "lexical")
MAX_QUERY_CHARS = 2000  # the model reads 256 tokens; more text only slows the tokenizer
MAX_K = 1000
RRF_K = 60  # the constant of reciprocal rank fusion (Cormack et al.); see bench/eval_search.py
CANDIDATES = 100  # hits each retriever contributes to the fusion


@dataclass(frozen=True)
class Filters:
    year_from: int | None = None
    year_to: int | None = None
    category: str | None = None
    list_name: str | None = None
    section: str | None = None

    def is_empty(self) -> bool:
        return all(value is None for value in vars(self).values())


@dataclass
class Hit:
    id: str
    title: str
    year: int | None
    score: float
    why: dict[str, Any]
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "year": self.year,
            "score": round(self.score, 6),
            "why": self.why,
            "authors": self.authors,
            "categories": self.categories,
        }


@dataclass
class SearchResult:
    query: str
    mode: str
    results: list[Hit]
    truncated: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "mode": self.mode,
            "truncated": self.truncated,
            "results": [hit.to_json() for hit in self.results],
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


# --- filters -----------------------------------------------------------------------------------


def allowed_ids(session: Session, filters: Filters) -> set[str] | None:
    """Ids passing `filters`, or None when there are none. Unknown values raise SearchInputError."""
    if filters.is_empty():
        return None
    query = select(Paper.id).where(Paper.is_stub == False)  # noqa: E712
    if (
        filters.year_from is not None
        and filters.year_to is not None
        and filters.year_from > filters.year_to
    ):
        raise SearchInputError(
            f"--year-from {filters.year_from} is after --year-to {filters.year_to}"
        )
    if filters.year_from is not None:
        query = query.where(col(Paper.year) >= filters.year_from)
    if filters.year_to is not None:
        query = query.where(col(Paper.year) <= filters.year_to)
    ids = set(session.exec(query).all())
    if filters.category is not None:
        ids &= _ids_in_category(session, filters.category)
    if filters.list_name is not None:
        ids &= _ids_in_list(session, filters.list_name)
    if filters.section is not None:
        ids &= _ids_in_section(session, filters.section)
    return ids


def _ids_in_category(session: Session, category: str) -> set[str]:
    known = sorted(set(session.exec(select(PaperCategory.category)).all()))
    wanted = category.strip().lower()
    chosen = [c for c in known if c.lower() == wanted or c.lower().startswith(wanted + ".")]
    if not chosen:
        raise SearchInputError(
            f"unknown category {category!r}: choose one of {', '.join(known) or '(none yet)'}"
        )
    rows = session.exec(
        select(PaperCategory.paper_id).where(col(PaperCategory.category).in_(chosen))
    ).all()
    return set(rows)


def _ids_in_list(session: Session, list_name: str) -> set[str]:
    names = reading_list_names(session)
    chosen = [name for name in names if name.lower() == list_name.strip().lower()]
    if not chosen:
        raise SearchInputError(
            f"unknown reading list {list_name!r}: choose one of {', '.join(names) or '(none yet)'}"
        )
    rows = session.exec(
        select(Mention.paper_id).join(ReadingList).where(ReadingList.name == chosen[0])
    ).all()
    return {paper_id for paper_id in rows if paper_id}


def _ids_in_section(session: Session, section: str) -> set[str]:
    rows = session.exec(select(Mention.paper_id, Mention.section)).all()
    wanted = section.strip().lower()
    ids = {paper_id for paper_id, name in rows if paper_id and wanted in name.lower()}
    if not ids:
        sections = sorted({name for _, name in rows})
        shown = "; ".join(sections[:12]) + (
            f"; … ({len(sections)} in all)" if len(sections) > 12 else ""
        )
        raise SearchInputError(
            f"no section matches {section!r}: sections include {shown or '(none yet)'}"
        )
    return ids


# --- the searcher ------------------------------------------------------------------------------


class Searcher:
    """Model, vector index and keyword index loaded once; reuse it for many queries.

    One searcher may serve many threads (the UI shares one): queries take turns on a lock, as
    the keyword index's SQLite connection and the card cache are not safe to use concurrently.
    Use it in a `with` block, or call `close()`, to release what it opened.
    """

    def __init__(
        self, settings: Settings, store: Store | None = None, encoder: embed.Encoder | None = None
    ) -> None:
        self.settings = settings
        self._owns_store = store is None
        self.store = store or open_db(settings.db_url)
        self._lock = threading.RLock()
        self._encoder = encoder
        self._cards: dict[str, Hit] = {}
        try:
            with self.store.reading() as session:
                require_papers(session)
                self.catalogue_version = catalogue_version(session)
            fingerprint = embed.model_fingerprint(settings.model, settings.cache_dir)
            self.index: VectorIndex = load_index(
                settings.index_dir,
                fingerprint=fingerprint,
                catalogue_version=self.catalogue_version,
            )
            self.lexical = LexicalIndex(settings.index_dir, self.catalogue_version)
        except BaseException:
            if self._owns_store:
                self.store.dispose()
            raise

    def __enter__(self) -> Searcher:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def encoder(self) -> embed.Encoder:
        with self._lock:
            if self._encoder is None:
                self._encoder = embed_onnx.load_query_encoder(
                    self.settings.model, self.settings.cache_dir
                )
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
            with self.store.reading() as session:
                allowed = allowed_ids(session, filters)
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
        return SearchResult(
            text, mode, self._hits(ranked, dense, lexical, terms, query_vector), truncated
        )

    def similar(self, paper_id: str, k: int = 10) -> list[Hit]:
        """Papers whose embeddings are nearest to `paper_id`'s. Raises PaperNotFound."""
        with self._lock:
            return self._similar(paper_id, k)

    def _similar(self, paper_id: str, k: int) -> list[Hit]:
        k = max(1, min(int(k), MAX_K))
        if paper_id not in self.index:
            with self.store.reading() as session:
                found = load_papers(session, [paper_id])
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
        vector = self.index.vectors([paper_id])[0]
        neighbours = [hit for hit in self.index.search(vector, k + 1) if hit[0] != paper_id][:k]
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
            self._cards.update(fetch_cards(self.store, missing))
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


def fetch_cards(store: Store, ids: list[str]) -> dict[str, Hit]:
    """Title, year, authors and categories of `ids` in one round trip, no ORM objects.

    The hot path of every search, so it skips `load_papers` (mentions, resources) on purpose and
    runs one UNION statement built once (building a select costs more than running it here).
    """
    if not ids:
        return {}
    with store.engine.connect() as connection:
        rows = connection.execute(_card_statement(), {"ids": ids}).all()
    cards: dict[str, Hit] = {}
    for paper_id, kind, _position, text_value, year, has_abstract, has_note in rows:
        if kind == 0:
            source = summary_label(bool(has_abstract), bool(has_note))
            cards[paper_id] = Hit(paper_id, text_value, year, 0.0, {"summary_source": source})
        elif paper_id in cards:
            (cards[paper_id].authors if kind == 1 else cards[paper_id].categories).append(
                text_value
            )
    return cards


@cache
def _card_statement() -> Any:
    ids: Any = bindparam("ids", expanding=True)
    none = null()
    papers = select(  # type: ignore[call-overload]
        Paper.id,
        literal(0).label("kind"),
        literal(0).label("position"),
        Paper.title,
        Paper.year,
        col(Paper.abstract).is_not(None),
        col(Paper.note).is_not(None),
    ).where(col(Paper.id).in_(ids))
    author_columns = (PaperAuthor.paper_id, literal(1), PaperAuthor.position, Author.name)
    authors = (
        select(*author_columns, none, none, none)  # type: ignore[call-overload]
        .join(Author)
        .where(col(PaperAuthor.paper_id).in_(ids))
    )
    categories = select(  # type: ignore[call-overload]
        PaperCategory.paper_id,
        literal(2),
        PaperCategory.position,
        PaperCategory.category,
        none,
        none,
        none,
    ).where(col(PaperCategory.paper_id).in_(ids))
    return union_all(papers, authors, categories).order_by(text("kind"), text("position"))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)
