"""The embedding cache: vectors by (model fingerprint, sha256 of the text) in one SQLite file
beside the index, committed per chunk so that an interrupted embedding run resumes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from speechgraph.errors import WriteFailure
from speechgraph.files import write_failure

# keys per IN (...) list, as `schema.IN_CHUNK` (not imported: this module stays free of SQLAlchemy)
KEYS_PER_STATEMENT = 500


class EmbeddingCache:
    """Vectors by (model fingerprint, sha256 of text) in one SQLite file; committed per chunk.

    A cache that cannot be written (read-only, full disk) raises WriteFailure naming it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise write_failure(error, path.parent) from error
        with self._connect() as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS embedding (fingerprint TEXT, text_sha TEXT, "
                "vector BLOB, PRIMARY KEY (fingerprint, text_sha)) WITHOUT ROWID"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, timeout=30)) as connection, connection:
                yield connection
        except sqlite3.OperationalError as error:
            raise WriteFailure(
                f"cannot use the embedding cache {self.path} ({error}): free some space or make "
                "it writable, then run the command again (the cache may also be deleted)"
            ) from error

    def get_many(self, fingerprint: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        return {
            sha: np.frombuffer(blob, dtype=np.float32)
            for sha, blob in self._rows("text_sha, vector", fingerprint, hashes)
        }

    def missing(self, fingerprint: str, hashes: Sequence[str]) -> list[str]:
        """The distinct `hashes` with no vector for `fingerprint`, in first-seen order; reads
        keys only, never vectors."""
        unique = list(dict.fromkeys(hashes))
        present = {sha for (sha,) in self._rows("text_sha", fingerprint, unique)}
        return [sha for sha in unique if sha not in present]

    def _rows(
        self, columns: str, fingerprint: str, hashes: Sequence[str]
    ) -> Iterator[tuple[Any, ...]]:
        """`columns` of the cached rows of `hashes` for `fingerprint`, a chunk per statement."""
        with self._connect() as connection:
            for start in range(0, len(hashes), KEYS_PER_STATEMENT):
                chunk = list(hashes[start : start + KEYS_PER_STATEMENT])
                marks = ",".join("?" * len(chunk))
                yield from connection.execute(
                    f"SELECT {columns} FROM embedding WHERE fingerprint = ? "
                    f"AND text_sha IN ({marks})",
                    [fingerprint, *chunk],
                )

    def put_many(self, fingerprint: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        rows = [
            (fingerprint, sha, np.asarray(vector, dtype=np.float32).tobytes())
            for sha, vector in zip(hashes, vectors, strict=True)
        ]
        with self._connect() as connection:
            connection.executemany("INSERT OR REPLACE INTO embedding VALUES (?, ?, ?)", rows)
