"""The embedding cache: vectors by (model fingerprint, sha256 of the text) in one SQLite file
beside the index, committed per chunk so that an interrupted embedding run resumes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np

from speechgraph.errors import WriteFailure
from speechgraph.files import write_failure


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
        found: dict[str, np.ndarray] = {}
        with self._connect() as connection:
            for start in range(0, len(hashes), 500):
                chunk = list(hashes[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT text_sha, vector FROM embedding WHERE fingerprint = ? "
                    f"AND text_sha IN ({marks})",
                    [fingerprint, *chunk],
                )
                for sha, blob in rows:
                    found[sha] = np.frombuffer(blob, dtype=np.float32)
        return found

    def missing(self, fingerprint: str, hashes: Sequence[str]) -> list[str]:
        """The distinct `hashes` with no vector for `fingerprint`, in first-seen order; reads
        keys only, never vectors."""
        present: set[str] = set()
        unique = list(dict.fromkeys(hashes))
        with self._connect() as connection:
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT text_sha FROM embedding WHERE fingerprint = ? "
                    f"AND text_sha IN ({marks})",
                    [fingerprint, *chunk],
                )
                present.update(sha for (sha,) in rows)
        return [sha for sha in unique if sha not in present]

    def put_many(self, fingerprint: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        rows = [
            (fingerprint, sha, np.asarray(vector, dtype=np.float32).tobytes())
            for sha, vector in zip(hashes, vectors, strict=True)
        ]
        with self._connect() as connection:
            connection.executemany("INSERT OR REPLACE INTO embedding VALUES (?, ?, ?)", rows)
