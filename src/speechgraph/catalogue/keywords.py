"""The keyword index: an SQLite FTS5 (BM25) table over title, names, abstract/note and authors.

Derived data kept in its own SQLite file beside the FAISS index (so it works whatever database
holds the catalogue, and searching never writes to the catalogue), rebuilt when the catalogue
version changes. Terms reach FTS5 only as quoted single terms, so user text is never syntax.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from speechgraph.errors import IndexOutOfDate
from speechgraph.files import atomic_path

KEYWORDS_FILE = "lexical.sqlite"
# Column weights for bm25(): title and names (aliases, link texts) say most about a paper.
_WEIGHTS = (0.0, 4.0, 3.0, 1.0, 1.0)


@dataclass(frozen=True)
class KeywordDocument:
    id: str
    title: str
    names: str  # aliases and the link texts the reading lists used
    summary: str  # abstract and our note
    authors: str


def _match_expression(terms: Iterable[str]) -> str:
    # Each term is quoted: inside quotes FTS5 keywords (AND, OR, NOT, NEAR) are plain strings.
    return " OR ".join(f'"{term}"' for term in terms)


def build_keyword_index(
    directory: Path, documents: Sequence[KeywordDocument], catalogue_version: int
) -> Path:
    """Write a fresh FTS5 file for `documents` and swap it in atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / KEYWORDS_FILE
    with (
        atomic_path(target) as temporary,
        closing(sqlite3.connect(temporary)) as connection,
        connection,
    ):
        connection.execute(
            "CREATE VIRTUAL TABLE paper_fts USING fts5(paper_id UNINDEXED, title, names, "
            "summary, authors, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        connection.executemany(
            "INSERT INTO paper_fts VALUES (?, ?, ?, ?, ?)",
            [(d.id, d.title, d.names, d.summary, d.authors) for d in documents],
        )
        connection.execute("CREATE TABLE lexical_meta (key TEXT PRIMARY KEY, value TEXT)")
        connection.execute(
            "INSERT INTO lexical_meta VALUES ('catalogue_version', ?)",
            (str(catalogue_version),),
        )
    return target


def keyword_index_version(directory: Path) -> int | None:
    """The catalogue version the lexical index was built for, None when there is none."""
    path = directory / KEYWORDS_FILE
    if not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            row = connection.execute(
                "SELECT value FROM lexical_meta WHERE key = 'catalogue_version'"
            ).fetchone()
    except sqlite3.DatabaseError:
        return None
    return int(row[0]) if row else None


class KeywordIndex:
    """Read-only BM25 search over the FTS5 file."""

    def __init__(self, directory: Path, catalogue_version: int | None = None) -> None:
        built_for = keyword_index_version(directory)
        if built_for is None or (catalogue_version is not None and built_for != catalogue_version):
            raise IndexOutOfDate(
                f"the keyword index in {directory} is missing or stale: run `speechgraph index`"
            )
        path = directory / KEYWORDS_FILE
        # Read-only: a query can never change the file, whatever text it holds. Other threads
        # may use the connection (a shared Searcher), one at a time: Searcher holds a lock.
        self._connection = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, check_same_thread=False
        )

    def close(self) -> None:
        self._connection.close()

    def search(
        self, terms: Sequence[str], k: int, allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """Up to `k` (id, bm25 score) pairs, best first; higher scores are better."""
        if not terms or k <= 0:
            return []
        limit = k if allowed is None else -1
        rows = self._connection.execute(
            "SELECT paper_id, bm25(paper_fts, ?, ?, ?, ?, ?) AS rank FROM paper_fts "
            "WHERE paper_fts MATCH ? ORDER BY rank LIMIT ?",
            (*_WEIGHTS, _match_expression(terms), limit),
        ).fetchall()
        hits = [(paper_id, -float(rank)) for paper_id, rank in rows]
        if allowed is not None:
            hits = [hit for hit in hits if hit[0] in allowed][:k]
        return hits

    def matched_terms(self, ids: Collection[str], terms: Sequence[str]) -> dict[str, list[str]]:
        """For each of `ids`, the query terms its fields contain (after stemming)."""
        matched: dict[str, list[str]] = {paper_id: [] for paper_id in ids}
        if not ids or not terms:
            return matched
        marks = ",".join("?" * len(ids))
        # One statement for all terms: each branch asks FTS5 for the ids holding one term.
        one_term = (
            f"SELECT paper_id, ? FROM paper_fts WHERE paper_fts MATCH ? AND paper_id IN ({marks})"
        )
        parameters: list[object] = []
        for position, term in enumerate(terms):
            parameters.extend([position, _match_expression([term]), *ids])
        sql = " UNION ALL ".join([one_term] * len(terms))
        for paper_id, position in self._connection.execute(sql, parameters).fetchall():
            matched[paper_id].append(terms[position])
        for found in matched.values():
            found.sort(key=terms.index)
        return matched
