"""The keyword index: an SQLite FTS5 (BM25) table over title, names, abstract/note and authors.

Derived data kept in its own SQLite file beside the FAISS index (so it works whatever database
holds the catalogue, and searching never writes to the catalogue). It records the catalogue
version it reflects and catches up on the papers changed since, in one transaction, so that
a reader sees it before or after an update, never in between. Terms reach FTS5 only as quoted
single terms, so user text is never syntax.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlmodel import col

from speechgraph.catalogue.schema import Author, Mention, Paper, PaperAuthor
from speechgraph.catalogue.store import Store, read_only_uri
from speechgraph.errors import IndexOutOfDate, WriteFailure
from speechgraph.files import atomic_path, write_failure

KEYWORDS_FILE = "lexical.sqlite"
# Column weights for bm25(): title and names (aliases, link texts) say most about a paper.
_WEIGHTS = (4.0, 3.0, 1.0, 1.0)
_SCHEMA = (
    "CREATE VIRTUAL TABLE paper_fts USING fts5(title, names, summary, authors, "
    "tokenize = 'porter unicode61 remove_diacritics 2')",
    # FTS5 rows are found by rowid; this table gives each paper its rowid.
    "CREATE TABLE keyword_doc (rowid INTEGER PRIMARY KEY, paper_id TEXT NOT NULL UNIQUE)",
    "CREATE TABLE lexical_meta (key TEXT PRIMARY KEY, value TEXT)",
)
# Above this many allowed ids a filter goes through a temporary table, not an IN list.
_INLINE_IDS = 500


class KeywordDocument(NamedTuple):
    """What the keyword index holds of one paper (a tuple: bulk imports make many)."""

    id: str
    title: str
    names: str  # aliases and the link texts the reading lists used
    summary: str  # abstract and our note
    authors: str


def iter_documents(
    store: Store, *, changed_since: int | None = None, chunk_size: int = 5000
) -> Iterator[KeywordDocument]:
    """The keyword document of every catalogue paper (or of those changed after catalogue
    version `changed_since`), read in chunks with plain statements. Without curation (see
    `Store.curated`), our notes and aliases stay out: only arXiv's text and the lists' link
    texts count."""
    curated = store.curated
    last = ""
    while True:
        with store.engine.connect() as connection:
            query = select(Paper.id, Paper.title, Paper.abstract, Paper.note, Paper.aliases).where(  # type: ignore[call-overload]
                col(Paper.is_stub).is_(False), col(Paper.id) > last
            )
            if changed_since is not None:
                query = query.where(col(Paper.changed_in) > changed_since)
            rows = connection.execute(query.order_by(col(Paper.id)).limit(chunk_size)).all()
            if not rows:
                return
            ids = [row[0] for row in rows]
            authors = _grouped(connection, _AUTHORS, ids)
            link_texts = _grouped(connection, _LINK_TEXTS, ids)
        for paper_id, title, abstract, note, aliases in rows:
            yield keyword_document(
                paper_id,
                title,
                abstract,
                note if curated else None,
                aliases or [] if curated else [],
                link_texts.get(paper_id, []),
                authors.get(paper_id, []),
            )
        last = ids[-1]


def keyword_document(
    paper_id: str,
    title: str,
    abstract: str | None,
    note: str | None,
    aliases: Sequence[str],
    link_texts: Sequence[str],
    authors: Sequence[str],
) -> KeywordDocument:
    """A paper's keyword document: names are its aliases and the lists' link texts, the
    summary its abstract and our note."""
    names = [*aliases, *link_texts]
    return KeywordDocument(
        paper_id,
        title,
        " ; ".join(dict.fromkeys(name for name in names if name)),
        " ".join(part for part in (abstract, note) if part),
        ", ".join(authors),
    )


_AUTHORS = (
    select(PaperAuthor.paper_id, Author.name)  # type: ignore[call-overload]
    .join(Author)
    .where(col(PaperAuthor.paper_id).in_(bindparam("ids", expanding=True)))
    .order_by(col(PaperAuthor.paper_id), col(PaperAuthor.position))
)
_LINK_TEXTS = (
    select(Mention.paper_id, Mention.link_text)  # type: ignore[call-overload]
    .where(col(Mention.paper_id).in_(bindparam("ids", expanding=True)))
    .order_by(col(Mention.paper_id), col(Mention.line))
)


def _grouped(connection: Any, statement: Any, ids: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for paper_id, value in connection.execute(statement, {"ids": ids}).all():
        grouped.setdefault(paper_id, []).append(value)
    return grouped


def _match_expression(terms: Iterable[str]) -> str:
    # Each term is quoted: inside quotes FTS5 keywords (AND, OR, NOT, NEAR) are plain strings.
    return " OR ".join(f'"{term}"' for term in terms)


def build_keyword_index(
    directory: Path, documents: Iterable[KeywordDocument], catalogue_version: int
) -> Path:
    """Write a fresh keyword index for `documents` and swap it in atomically."""
    target = directory / KEYWORDS_FILE
    with _writing(target):
        directory.mkdir(parents=True, exist_ok=True)
    with (
        _writing(target),
        atomic_path(target) as temporary,
        closing(sqlite3.connect(temporary)) as connection,
        connection,
    ):
        for statement in _SCHEMA:
            connection.execute(statement)
        _write(connection, documents, ())
        _stamp(connection, catalogue_version)
    with _writing(target):
        _use_wal(target)
    return target


def update_keyword_index(
    directory: Path,
    documents: Iterable[KeywordDocument],
    removed: Collection[str],
    catalogue_version: int,
    *,
    if_at: int | None = None,
) -> bool:
    """Replace the documents of the papers in `documents`, drop `removed`, and record that the
    index now reflects `catalogue_version`: one transaction, streamed. With `if_at`, only when
    the index reflects catalogue version `if_at` (else nothing is written and it returns
    False): a writer that follows its own batches keeps the index current this way."""
    path = directory / KEYWORDS_FILE
    if keyword_index_version(directory) is None:
        raise IndexOutOfDate(f"no keyword index in {directory}: run `speechgraph index`")
    with _writing(path), closing(sqlite3.connect(path, timeout=60)) as connection, connection:
        # Derived data in WAL mode: NORMAL never corrupts it, and it can always be rebuilt.
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA cache_size=-32768")  # FTS5 merges reread its segments
        connection.execute("BEGIN IMMEDIATE")  # the version read below is the one written over
        if if_at is not None and _stamped(connection) != if_at:
            return False
        _write(connection, documents, removed)
        _stamp(connection, catalogue_version)
    return True


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """A write of the keyword index: a failure (read-only, full disk) is one line naming it;
    the index a reader sees stays as it was (the swap or the transaction never happened)."""
    try:
        yield
    except OSError as error:
        raise write_failure(error, path) from error
    except sqlite3.OperationalError as error:
        raise WriteFailure(
            f"cannot write the keyword index {path} ({error}); it was left as it was: free "
            "some space or make it writable, then run `speechgraph index`"
        ) from error


def _write(
    connection: sqlite3.Connection, documents: Iterable[KeywordDocument], removed: Collection[str]
) -> None:
    """Drop `removed`, then replace `documents` chunk by chunk (memory stays flat)."""
    _delete(connection, list(removed))
    batch: list[KeywordDocument] = []
    for document in documents:
        batch.append(document)
        if len(batch) == 5000:
            _replace_batch(connection, batch)
            batch = []
    _replace_batch(connection, batch)


def _replace_batch(connection: sqlite3.Connection, batch: Sequence[KeywordDocument]) -> None:
    if not batch:
        return
    _delete(connection, [document.id for document in batch])
    # Rowids are given, not looked up: the transaction holds the write lock since its BEGIN.
    first = connection.execute("SELECT COALESCE(MAX(rowid), 0) + 1 FROM keyword_doc").fetchone()[0]
    connection.executemany(
        "INSERT INTO keyword_doc (rowid, paper_id) VALUES (?, ?)",
        [(first + offset, document.id) for offset, document in enumerate(batch)],
    )
    connection.executemany(
        "INSERT INTO paper_fts (rowid, title, names, summary, authors) VALUES (?, ?, ?, ?, ?)",
        [
            (first + offset, d.title, d.names, d.summary, d.authors)
            for offset, d in enumerate(batch)
        ],
    )


def _delete(connection: sqlite3.Connection, ids: Sequence[str]) -> None:
    for start in range(0, len(ids), _INLINE_IDS):
        chunk = list(ids[start : start + _INLINE_IDS])
        marks = ",".join("?" * len(chunk))
        connection.execute(
            f"DELETE FROM paper_fts WHERE rowid IN "
            f"(SELECT rowid FROM keyword_doc WHERE paper_id IN ({marks}))",
            chunk,
        )
        connection.execute(f"DELETE FROM keyword_doc WHERE paper_id IN ({marks})", chunk)


def _stamped(connection: sqlite3.Connection) -> int | None:
    row = connection.execute(
        "SELECT value FROM lexical_meta WHERE key = 'catalogue_version'"
    ).fetchone()
    return int(row[0]) if row else None


def _stamp(connection: sqlite3.Connection, catalogue_version: int) -> None:
    connection.execute(
        "INSERT OR REPLACE INTO lexical_meta VALUES ('catalogue_version', ?)",
        (str(catalogue_version),),
    )


def _use_wal(path: Path) -> None:
    # Readers keep reading the last committed state while an update writes.
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def _connect_read_only(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection that can never write (`store.read_only_uri`: `immutable=1` where the
    directory is read-only, since a WAL database there cannot get the file a reader needs)."""
    return sqlite3.connect(read_only_uri(path), uri=True, check_same_thread=check_same_thread)


def keyword_index_version(directory: Path) -> int | None:
    """The catalogue version the keyword index reflects, None when there is none (or an index
    written by an earlier release, which is rebuilt)."""
    path = directory / KEYWORDS_FILE
    if not path.is_file():
        return None
    try:
        with closing(_connect_read_only(path)) as connection:
            if not connection.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'keyword_doc'"
            ).fetchone():
                return None
            row = connection.execute(
                "SELECT value FROM lexical_meta WHERE key = 'catalogue_version'"
            ).fetchone()
    except sqlite3.DatabaseError:
        return None
    return int(row[0]) if row else None


class KeywordIndex:
    """Read-only BM25 search over the keyword index; `version` is the catalogue version it
    reflects (a reader may be behind the catalogue until the next `speechgraph index`)."""

    def __init__(self, directory: Path) -> None:
        built_for = keyword_index_version(directory)
        if built_for is None:
            raise IndexOutOfDate(f"no keyword index in {directory}: run `speechgraph index`")
        self.version = built_for
        # Read-only: a query can never change the file, whatever text it holds. Other threads
        # may use the connection (a shared Searcher), one at a time: Searcher holds a lock.
        self._connection = _connect_read_only(directory / KEYWORDS_FILE, check_same_thread=False)

    def close(self) -> None:
        self._connection.close()

    def ids(self) -> set[str]:
        return {row[0] for row in self._connection.execute("SELECT paper_id FROM keyword_doc")}

    def search(
        self, terms: Sequence[str], k: int, allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """Up to `k` (id, bm25 score) pairs, best first; higher scores are better. `allowed`
        restricts the hits to those ids inside the query, so a narrow filter still fills k."""
        if not terms or k <= 0 or (allowed is not None and not allowed):
            return []
        select = (
            "SELECT keyword_doc.paper_id, bm25(paper_fts, ?, ?, ?, ?) AS rank FROM paper_fts "
            "JOIN keyword_doc ON keyword_doc.rowid = paper_fts.rowid WHERE paper_fts MATCH ?"
        )
        parameters: list[object] = [*_WEIGHTS, _match_expression(terms)]
        if allowed is not None:
            select += f" AND keyword_doc.paper_id IN ({self._id_list(allowed, parameters)})"
        rows = self._connection.execute(
            select + " ORDER BY rank LIMIT ?", [*parameters, k]
        ).fetchall()
        return [(paper_id, -float(rank)) for paper_id, rank in rows]

    def _id_list(self, ids: Collection[str], parameters: list[object]) -> str:
        """SQL naming `ids`: placeholders for a few, a temporary table for many."""
        if len(ids) <= _INLINE_IDS:
            parameters.extend(ids)
            return ",".join("?" * len(ids))
        self._connection.execute("CREATE TEMP TABLE IF NOT EXISTS allowed (id TEXT PRIMARY KEY)")
        self._connection.execute("DELETE FROM temp.allowed")
        self._connection.executemany(
            "INSERT OR IGNORE INTO temp.allowed VALUES (?)", ((i,) for i in ids)
        )
        return "SELECT id FROM temp.allowed"

    def ids_with_phrase(self, words: Sequence[str], limit: int = 100_000) -> set[str]:
        """The papers whose title or summary holds `words` in a row (as the tokenizer splits
        them); the words are quoted, so they are never syntax."""
        clean = [word.replace('"', "") for word in words if word.replace('"', "")]
        if not clean:
            return set()
        phrase = '"' + " ".join(clean) + '"'
        rows = self._connection.execute(
            "SELECT keyword_doc.paper_id FROM paper_fts JOIN keyword_doc "
            "ON keyword_doc.rowid = paper_fts.rowid WHERE paper_fts MATCH ? LIMIT ?",
            (f"{{title summary}} : {phrase}", limit),
        ).fetchall()
        return {row[0] for row in rows}

    def matched_terms(self, ids: Collection[str], terms: Sequence[str]) -> dict[str, list[str]]:
        """For each of `ids`, the query terms its fields contain (after stemming)."""
        matched: dict[str, list[str]] = {paper_id: [] for paper_id in ids}
        if not ids or not terms:
            return matched
        marks = ",".join("?" * len(ids))
        # One statement for all terms: each branch asks FTS5 for the ids holding one term.
        one_term = (
            "SELECT keyword_doc.paper_id, ? FROM paper_fts JOIN keyword_doc "
            "ON keyword_doc.rowid = paper_fts.rowid "
            f"WHERE paper_fts MATCH ? AND keyword_doc.paper_id IN ({marks})"
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
