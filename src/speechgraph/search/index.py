"""The FAISS vector index: build, search, incremental add/remove, save/load with a JSON manifest.

The only module that imports faiss. Takes plain data (string ids, float32 vectors), never
sessions.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from speechgraph.errors import IndexOutOfDate, WriteFailure
from speechgraph.files import atomic_write_text, write_failure
from speechgraph.search.manifest import MANIFEST_FILE

log = logging.getLogger(__name__)

VECTORS_FILE = "vectors.faiss"  # the vectors of manifests written before `vectors_file` existed
FLAT = "flat"
IVF = "ivf"
# From bench/search_bench.py on 2 cores: one exact search over 384-d vectors costs ~0.1 ms per 1K
# (100K: ~10 ms, 1M: ~115 ms), so up to 50K it stays a few ms and exact; past that IVF answers in
# under a millisecond per 100K with recall@10 >= 0.97 against exact on paper-like vectors.
EXACT_LIMIT = 50_000
MAX_LISTS = 4096
PROBED_SHARE = 0.10
MIN_PROBES = 32
REBUILD_COMMAND = "speechgraph index"
# A reader racing a writer that saves again and again gets a whole index within a few reads.
_LOAD_ATTEMPTS = 5


@dataclass
class Manifest:
    """What the index was built from; `ids[i]` has FAISS label `labels[i]`."""

    model: str
    fingerprint: str
    dimension: int
    count: int
    ids: list[str]
    catalogue_version: int
    kind: str
    labels: list[int] = field(default_factory=list)
    text_hashes: list[str] = field(default_factory=list)
    nprobe: int | None = None
    built_at: str = ""
    vectors_file: str = VECTORS_FILE


class VectorIndex:
    """Normalised vectors searched by inner product (cosine), addressed by string ids."""

    def __init__(self, manifest: Manifest, faiss_index: Any) -> None:
        self.manifest = manifest
        self.faiss_index = faiss_index
        self._label_of = dict(zip(manifest.ids, manifest.labels, strict=True))
        self._id_of = dict(zip(manifest.labels, manifest.ids, strict=True))
        self._hash_of = dict(zip(manifest.ids, manifest.text_hashes, strict=False))

    # --- building ---------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        vectors: np.ndarray,
        *,
        model: str,
        fingerprint: str,
        catalogue_version: int,
        text_hashes: Sequence[str] | None = None,
        kind: str | None = None,
    ) -> VectorIndex:
        """An index over `vectors` (one row per id); `kind` flat or ivf, by size when None."""
        vectors = _as_matrix(vectors)
        if len(ids) != len(vectors) or len(set(ids)) != len(ids):
            raise ValueError("ids must be unique and match the rows of vectors")
        dimension = vectors.shape[1] if len(vectors) else 0
        kind = kind or index_kind_for(len(ids))
        faiss_index, nprobe = _new_faiss_index(kind, dimension, vectors)
        labels = np.arange(len(ids), dtype=np.int64)
        if len(ids):
            faiss_index.add_with_ids(vectors, labels)
        manifest = Manifest(
            model=model,
            fingerprint=fingerprint,
            dimension=dimension,
            count=len(ids),
            ids=list(ids),
            catalogue_version=catalogue_version,
            kind=kind,
            labels=labels.tolist(),
            text_hashes=list(text_hashes or []),
            nprobe=nprobe,
            built_at=_now(),
        )
        return cls(manifest, faiss_index)

    def add(
        self, ids: Sequence[str], vectors: np.ndarray, text_hashes: Sequence[str] | None = None
    ) -> None:
        """Add or replace vectors for `ids`."""
        vectors = _as_matrix(vectors)
        self.remove([paper_id for paper_id in ids if paper_id in self._label_of])
        start = max(self._id_of, default=-1) + 1
        labels = np.arange(start, start + len(ids), dtype=np.int64)
        if len(ids):
            self.faiss_index.add_with_ids(vectors, labels)
        for offset, paper_id in enumerate(ids):
            self._label_of[paper_id] = int(labels[offset])
            self._id_of[int(labels[offset])] = paper_id
            if text_hashes is not None:
                self._hash_of[paper_id] = text_hashes[offset]
        self._sync_manifest()

    def remove(self, ids: Collection[str]) -> int:
        """Remove `ids` that are present; returns how many were removed."""
        labels = [self._label_of.pop(paper_id) for paper_id in ids if paper_id in self._label_of]
        if labels:
            self.faiss_index.remove_ids(np.array(labels, dtype=np.int64))
        for label in labels:
            paper_id = self._id_of.pop(label)
            self._hash_of.pop(paper_id, None)
        self._sync_manifest()
        return len(labels)

    def _sync_manifest(self) -> None:
        ids = list(self._label_of)
        self.manifest.ids = ids
        self.manifest.labels = [self._label_of[paper_id] for paper_id in ids]
        self.manifest.text_hashes = [self._hash_of.get(paper_id, "") for paper_id in ids]
        self.manifest.count = len(ids)

    # --- reading -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return self.manifest.count

    def __contains__(self, paper_id: object) -> bool:
        return paper_id in self._label_of

    def text_hash(self, paper_id: str) -> str | None:
        return self._hash_of.get(paper_id) or None

    def search(
        self, query: np.ndarray, k: int, allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """The `k` nearest ids to one query vector with their cosine, best first.

        `allowed` restricts the search to those ids (FAISS applies it inside the scan, so a
        narrow filter still returns up to `k` hits).
        """
        if k <= 0 or not len(self):
            return []
        k = min(k, len(self))
        query = _as_matrix(query)[:1]
        params = self._search_parameters(None) if self.manifest.kind == IVF else None
        if allowed is not None:
            labels = np.array([self._label_of[i] for i in allowed if i in self._label_of])
            if not len(labels):
                return []
            if self.manifest.kind == IVF and len(labels) <= EXACT_LIMIT:
                # A narrow filter on an IVF index: the probed lists may hold none of the
                # allowed ids, so score those few exactly.
                return self._exact_among(query, labels.astype(np.int64), k)
            params = self._search_parameters(faiss.IDSelectorBatch(labels.astype(np.int64)))
        with _single_thread():
            scores, found = self.faiss_index.search(query, k, params=params)
        return [
            (self._id_of[int(label)], float(score))
            for score, label in zip(scores[0], found[0], strict=True)
            if label >= 0
        ]

    def search_many(self, queries: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """The `k` nearest ids to each row of `queries`, best first: one FAISS call for all."""
        if k <= 0 or not len(self) or not len(queries):
            return [[] for _ in range(len(queries))]
        k = min(k, len(self))
        params = self._search_parameters(None) if self.manifest.kind == IVF else None
        scores, found = self.faiss_index.search(_as_matrix(queries), k, params=params)
        return [
            [
                (self._id_of[int(label)], float(score))
                for score, label in zip(row_scores, row_labels, strict=True)
                if label >= 0
            ]
            for row_scores, row_labels in zip(scores, found, strict=True)
        ]

    def _exact_among(
        self, query: np.ndarray, labels: np.ndarray, k: int
    ) -> list[tuple[str, float]]:
        scores = self.faiss_index.reconstruct_batch(labels) @ query[0]
        order = np.argsort(-scores)[:k]
        return [(self._id_of[int(labels[i])], float(scores[i])) for i in order]

    def _search_parameters(self, selector: Any) -> Any:
        if self.manifest.kind == IVF:
            return faiss.SearchParametersIVF(sel=selector, nprobe=self.manifest.nprobe or 16)  # type: ignore[call-arg]
        return faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of `ids` (all must be present)."""
        if not ids:
            return np.zeros((0, self.manifest.dimension), dtype=np.float32)
        labels = np.array([self._label_of[paper_id] for paper_id in ids], dtype=np.int64)
        return np.asarray(self.faiss_index.reconstruct_batch(labels), dtype=np.float32)

    # --- persistence -------------------------------------------------------------------------

    def save(self, directory: Path) -> Path:
        """Write the vectors to a new file, then swap in the manifest naming it, then delete the
        old vectors; returns the new vectors file.

        The manifest swap is the one step that publishes the index, so a reader gets the old
        manifest with the old vectors or the new with the new, never a mix. Raises WriteFailure
        when the directory cannot be written (read-only, full); the old index stays in use.
        """
        previous = self.manifest.vectors_file
        self.manifest.vectors_file = f"vectors-{uuid.uuid4().hex[:12]}.faiss"
        target = directory / self.manifest.vectors_file
        try:
            directory.mkdir(parents=True, exist_ok=True)
            faiss.write_index(self.faiss_index, str(target))
            atomic_write_text(directory / MANIFEST_FILE, json.dumps(asdict(self.manifest)))
        except (OSError, RuntimeError) as error:
            self.manifest.vectors_file = previous
            with suppress(OSError):
                target.unlink(missing_ok=True)
            raise _save_failure(error, directory) from error
        # Older vectors, and any a crashed save left, belong to no manifest now.
        for stale in directory.glob("vectors*.faiss"):
            if stale != target:
                stale.unlink(missing_ok=True)
        return target


def _save_failure(error: OSError | RuntimeError, directory: Path) -> WriteFailure:
    if isinstance(error, OSError):
        return write_failure(error, directory)
    # FAISS reports a failed write as a RuntimeError whose text holds the C library's reason.
    reason = str(error).strip().splitlines()[-1] if str(error).strip() else "write failed"
    return WriteFailure(
        f"cannot write the search index in {directory} ({reason}); the previous index stays in "
        "use: free some space or make it writable, then run `speechgraph index`"
    )


def read_manifest(directory: Path) -> Manifest | None:
    """The manifest in `directory`, or None when there is none or it is unreadable."""
    try:
        raw = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
        return Manifest(**raw)
    except (OSError, ValueError, TypeError):
        return None


def vectors_path(directory: Path, manifest: Manifest) -> Path:
    """The vectors file `manifest` names in `directory`."""
    return directory / manifest.vectors_file


def has_matching_vectors(directory: Path, manifest: Manifest) -> bool:
    """Whether the vectors file `manifest` names holds `manifest.count` vectors of its
    dimension. The file is memory-mapped, not read: FAISS answers from its header and lists."""
    try:
        faiss_index = faiss.read_index(
            str(vectors_path(directory, manifest)), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY
        )
    except RuntimeError:
        return False
    return _shape_problem(faiss_index, manifest) is None


def _shape_problem(faiss_index: Any, manifest: Manifest) -> str | None:
    if faiss_index.ntotal != manifest.count or len(manifest.ids) != manifest.count:
        return f"{faiss_index.ntotal} vectors where the manifest lists {manifest.count}"
    if manifest.count and faiss_index.d != manifest.dimension:
        return f"{faiss_index.d}-d vectors where the manifest says {manifest.dimension}"
    return None


def load_index(
    directory: Path, *, fingerprint: str | None = None, catalogue_version: int | None = None
) -> VectorIndex:
    """Load the index in `directory`, checking it matches the model, the catalogue and its own
    manifest.

    Raises IndexOutOfDate naming what differs and the command that rebuilds it.
    """
    for _attempt in range(_LOAD_ATTEMPTS):
        manifest = read_manifest(directory)
        if manifest is None:
            raise IndexOutOfDate(f"no search index in {directory}: run `{REBUILD_COMMAND}`")
        if not vectors_path(directory, manifest).is_file():
            if _is_replaced(directory, manifest):
                continue  # a save swapped the manifest and dropped our vectors since we read it
            raise IndexOutOfDate(f"no search index in {directory}: run `{REBUILD_COMMAND}`")
        _check_manifest(directory, manifest, fingerprint, catalogue_version)
        try:
            faiss_index = faiss.read_index(str(vectors_path(directory, manifest)))
        except RuntimeError:
            if _is_replaced(directory, manifest):
                continue  # a save swapped in another index between our reads: read that one
            raise IndexOutOfDate(
                f"the search index file in {directory} is unreadable: "
                f"run `{REBUILD_COMMAND} --rebuild`"
            ) from None
        return _checked_index(directory, manifest, faiss_index)
    raise IndexOutOfDate(
        f"the search index in {directory} kept changing while it was read: try again, or stop "
        "the process that keeps rewriting it"
    )


def _is_replaced(directory: Path, manifest: Manifest) -> bool:
    current = read_manifest(directory)
    return current is not None and current.vectors_file != manifest.vectors_file


def _check_manifest(
    directory: Path, manifest: Manifest, fingerprint: str | None, catalogue_version: int | None
) -> None:
    """Raise IndexOutOfDate when `manifest` is for another model or catalogue version."""
    if fingerprint is not None and manifest.fingerprint != fingerprint:
        raise IndexOutOfDate(
            f"the search index in {directory} was built with model {manifest.fingerprint}, "
            f"not {fingerprint}: run `{REBUILD_COMMAND}` to rebuild it"
        )
    if catalogue_version is not None and manifest.catalogue_version != catalogue_version:
        raise IndexOutOfDate(
            f"the search index is for catalogue version {manifest.catalogue_version} but the "
            f"catalogue is at version {catalogue_version}: run `{REBUILD_COMMAND}`"
        )


def _checked_index(directory: Path, manifest: Manifest, faiss_index: Any) -> VectorIndex:
    problem = _shape_problem(faiss_index, manifest)
    if problem is not None:
        raise IndexOutOfDate(
            f"the search index in {directory} does not match its manifest ({problem}): "
            f"run `{REBUILD_COMMAND} --rebuild`"
        )
    if not manifest.labels:
        manifest.labels = list(range(len(manifest.ids)))
    return VectorIndex(manifest, faiss_index)


def index_kind_for(count: int) -> str:
    """Exact search up to EXACT_LIMIT vectors, IVF past it."""
    return FLAT if count <= EXACT_LIMIT else IVF


def ivf_parameters(count: int) -> tuple[int, int]:
    """(lists, nprobe) of an IVF index over `count` vectors."""
    lists = _ivf_list_count(count)
    return lists, _ivf_nprobe(lists)


def _new_faiss_index(kind: str, dimension: int, vectors: np.ndarray) -> tuple[Any, int | None]:
    if kind == FLAT:
        # IDMap2 keeps the id map inside FAISS and supports remove_ids and reconstruct.
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), None
    if kind != IVF:
        raise ValueError(f"unknown index kind {kind!r}: use {FLAT} or {IVF}")
    lists, nprobe = ivf_parameters(len(vectors))
    quantizer = faiss.IndexFlatIP(dimension)
    ivf = faiss.IndexIVFFlat(quantizer, dimension, lists, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.niter = 10  # k-means converges enough for list assignment; 25 rounds triple build time
    ivf.train(_training_sample(vectors, lists))
    # A hashtable direct map lets reconstruct() and remove_ids() work with our own labels.
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
    return ivf, nprobe


def _ivf_list_count(count: int) -> int:
    # 4 * sqrt(n) up to 1M vectors; more lists at the same share probed gave higher recall on
    # real vectors (bench/ann_bench.py), and the cap keeps k-means training to about a minute.
    return max(1, min(MAX_LISTS, int(4 * math.sqrt(max(count, 1)))))


def _ivf_nprobe(lists: int) -> int:
    # Chosen with bench/ann_bench.py on real abstract vectors: real questions are harder than
    # abstracts; at ~29K real vectors 3% of the lists found 0.93 of the exact top 10 and 6% 0.96;
    # at 740K (30K real + 710K synthetic) 3% gave 0.958, 6% 0.976 and 10% 0.984. 10% keeps a
    # margin for the 0.95 target and scans ~74K vectors per query at 740K.
    return max(MIN_PROBES, math.ceil(lists * PROBED_SHARE))


def _training_sample(vectors: np.ndarray, lists: int) -> np.ndarray:
    limit = min(len(vectors), max(lists * 39, 10_000))  # FAISS asks for 39 points per list
    if limit >= len(vectors):
        return vectors
    rows = np.random.default_rng(0).choice(len(vectors), size=limit, replace=False)
    return vectors[np.sort(rows)]


def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    return np.ascontiguousarray(matrix)


@contextmanager
def _single_thread() -> Iterator[None]:
    # One query gains nothing from OpenMP, and idle OpenMP threads spinning after the scan take
    # the CPU from the query encoder on a 2-core machine (measured: 0.26 ms -> 0.03 ms per search).
    # The setting is an OpenMP ICV of the calling thread only (checked with faiss 1.15), so
    # concurrent searches on other threads neither see nor undo it, and builds keep all threads.
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
