"""Keeping the search data in step with the catalogue: the keyword index catches up on the papers
changed since the version it reflects; the vector index embeds (through the cache) the papers
whose text it lacks. Both stream the catalogue in chunks, and both are no-ops when current.

A writer may embed just its own papers (`only`): `refresh` does, `import` and `harvest` embed
nothing and leave the rest to `speechgraph index`. With `engine="ray"` the texts the embedding
cache lacks are embedded on Ray first (`search.distributed`), and the index is then built from
the cache exactly as after a local run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from typing import Any

import numpy as np

from speechgraph.catalogue.queries import (
    EMPTY_CATALOGUE,
    catalogue_version,
    iter_papers,
    load_papers,
    paper_ids,
)
from speechgraph.catalogue.store import Store
from speechgraph.catalogue.vectors import EmbeddingCache
from speechgraph.config import Settings
from speechgraph.errors import CatalogueEmpty, ConfigError, IndexOutOfDate
from speechgraph.records import PaperView
from speechgraph.search import encoder as embed
from speechgraph.search import onnx as embed_onnx
from speechgraph.search.index import (
    VectorIndex,
    has_matching_vectors,
    index_kind_for,
    load_index,
    read_manifest,
)
from speechgraph.search.keyword_sync import sync_keywords

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
LOCAL = "local"
RAY = "ray"
ENGINES = (LOCAL, RAY)


def sync_index(
    settings: Settings,
    store: Store,
    progress: Progress | None = None,
    *,
    rebuild: bool = False,
    encoder: embed.Encoder | None = None,
    only: Collection[str] | None = None,
    engine: str = LOCAL,
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Bring the keyword and vector indexes in line with the catalogue; a no-op when current.

    With `only`, the vector index embeds just those papers (the rest waits for a full sync).
    Embeds only texts the embedding cache lacks; `progress("embedding", done, total)` reports
    it. `engine="ray"` embeds them on Ray (a local Ray, or the cluster at `ray_address`).
    Returns counts: status, papers, embedded, added, removed, kind, catalogue_version, and
    `without_vector`, the catalogue papers the index still lacks.
    Raises ConfigError for an unknown engine or a missing Ray extra.
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown embedding engine {engine!r}: use one of {', '.join(ENGINES)}")
    version = catalogue_version(store)
    ids = paper_ids(store)
    if not ids:
        raise CatalogueEmpty(EMPTY_CATALOGUE)
    keywords_changed = sync_keywords(settings, store, version, rebuild=rebuild)
    vectors = _VectorSync(settings, store, encoder, version)
    on_ray = vectors.embed_on_ray(ray_address, only, progress) if engine == RAY else 0
    summary = vectors.sync(ids, rebuild=rebuild, only=only, progress=progress)
    summary["embedded"] += on_ray
    if keywords_changed and summary["status"] == "up-to-date":
        summary["status"] = "updated"
    if summary["embedded"]:
        vectors.ensure_onnx_export()
    return summary


def _summary(
    status: str, index: VectorIndex | None, counts: tuple[int, int, int], version: int, total: int
) -> dict[str, Any]:
    embedded, added, removed = counts
    present = len(index) if index is not None else 0
    return {
        "status": status,
        "papers": present,
        "embedded": embedded,
        "added": added,
        "removed": removed,
        "kind": index.manifest.kind if index is not None else None,
        "catalogue_version": version,
        "without_vector": max(0, total - present),
    }


class _VectorSync:
    """One update of the vector index: reuse what is indexed, embed only what changed."""

    def __init__(
        self, settings: Settings, store: Store, encoder: embed.Encoder | None, version: int
    ) -> None:
        self.settings = settings
        self.store = store
        self.version = version
        self.fingerprint = embed.model_fingerprint(settings.model, settings.cache_dir)
        self.encoder = encoder or embed_onnx.lazy_document_encoder(
            settings.model, settings.cache_dir
        )
        self.cache = EmbeddingCache(settings.cache_dir / "embeddings.sqlite")

    def embed_on_ray(
        self, address: str | None, only: Collection[str] | None, progress: Progress | None
    ) -> int:
        """Embed on Ray the texts of the catalogue (or of `only`) that the cache lacks; the
        count embedded. Only the missing texts are held in memory at once."""
        # Imported here: ray is an optional extra, and the local engine never needs it.
        from speechgraph.search.distributed import embed_with_ray

        chunks = (
            iter_papers(self.store) if only is None else [load_papers(self.store, sorted(only))]
        )
        missing: list[str] = []
        for chunk in chunks:
            texts = {embed.text_hash(paper.embedding_text): paper.embedding_text for paper in chunk}
            lacking = self.cache.missing(self.fingerprint, list(texts))
            missing.extend(texts[sha] for sha in lacking)
        if not missing:
            return 0
        reporter = None
        if progress is not None:
            reporter = lambda done, total: progress("embedding", done, total)  # noqa: E731
        run = embed_with_ray(
            missing,
            self.cache,
            model=self.settings.model,
            cache_dir=self.settings.cache_dir,
            address=address,
            progress=reporter,
        )
        return run.embedded

    def sync(
        self,
        ids: set[str],
        *,
        rebuild: bool,
        only: Collection[str] | None,
        progress: Progress | None,
    ) -> dict[str, Any]:
        directory = self.settings.index_dir
        manifest = read_manifest(directory)
        existing = None if rebuild else self._reusable_index(len(ids))
        if existing is None:
            return self._build(ids, only, progress)
        assert manifest is not None
        behind = manifest.catalogue_version < self.version
        if not behind and has_matching_vectors(directory, manifest):
            return _summary("up-to-date", existing, (0, 0, 0), self.version, len(ids))
        if only is not None:
            papers = load_papers(self.store, sorted(set(only) & ids))
        else:
            since = manifest.catalogue_version
            papers = [
                view for chunk in iter_papers(self.store, changed_since=since) for view in chunk
            ]
            papers += load_papers(
                self.store, sorted(ids - set(existing.manifest.ids) - {p.id for p in papers})
            )
        removed = set(existing.manifest.ids) - ids
        counts = self._update(existing, papers, removed, progress)
        if only is None or self._nothing_else_changed(existing, only):
            existing.manifest.catalogue_version = self.version
        existing.manifest.model = self.settings.model
        existing.save(directory)
        return _summary("updated", existing, counts, self.version, len(ids))

    def _nothing_else_changed(self, index: VectorIndex, only: Collection[str]) -> bool:
        """Whether every paper changed since the index's version, other than `only`, already
        has its current text's vector (so the index may claim the catalogue's version)."""
        since = index.manifest.catalogue_version
        wanted = set(only)
        for chunk in iter_papers(self.store, changed_since=since):
            for paper in chunk:
                text_hash = embed.text_hash(paper.embedding_text)
                if paper.id not in wanted and index.text_hash(paper.id) != text_hash:
                    return False
        return True

    def _build(
        self, ids: set[str], only: Collection[str] | None, progress: Progress | None
    ) -> dict[str, Any]:
        """A new index over every paper (or those in `only`), embedded chunk by chunk through
        the cache."""
        order: list[str] = []
        hashes: list[str] = []
        blocks: list[np.ndarray] = []
        embedded = 0
        done = 0
        chunks = (
            iter_papers(self.store)
            if only is None
            else [load_papers(self.store, sorted(set(only) & ids))]
        )
        total = len(ids) if only is None else len(set(only) & ids)
        for chunk in chunks:
            texts = [paper.embedding_text for paper in chunk]
            vectors, count = embed.embed_texts(self.encoder, texts, self.cache)
            embedded += count
            blocks.append(vectors)
            order.extend(paper.id for paper in chunk)
            hashes.extend(embed.text_hash(text) for text in texts)
            done += len(chunk)
            if progress is not None:
                progress("embedding", done, total)
        built = VectorIndex.build(
            order,
            np.vstack(blocks) if blocks else np.zeros((0, 0), dtype=np.float32),
            model=self.settings.model,
            fingerprint=self.fingerprint,
            catalogue_version=self.version if len(order) == len(ids) else 0,
            text_hashes=hashes,
        )
        built.save(self.settings.index_dir)
        return _summary("updated", built, (embedded, len(order), 0), self.version, len(ids))

    def _update(
        self,
        index: VectorIndex,
        papers: Iterable[PaperView],
        removed: Collection[str],
        progress: Progress | None,
    ) -> tuple[int, int, int]:
        texts = {paper.id: paper.embedding_text for paper in papers}
        hashes = {paper_id: embed.text_hash(text) for paper_id, text in texts.items()}
        changed = [paper_id for paper_id in texts if index.text_hash(paper_id) != hashes[paper_id]]
        reporter = None
        if progress is not None:
            reporter = lambda done, total: progress("embedding", done, total)  # noqa: E731
        vectors, embedded = embed.embed_texts(
            self.encoder, [texts[i] for i in changed], self.cache, progress=reporter
        )
        index.remove(removed)
        index.add(changed, vectors, [hashes[i] for i in changed])
        return embedded, len(changed), len(removed)

    def _reusable_index(self, count: int) -> VectorIndex | None:
        try:
            existing = load_index(self.settings.index_dir, fingerprint=self.fingerprint)
        except IndexOutOfDate:
            return None
        return existing if existing.manifest.kind == index_kind_for(count) else None

    def ensure_onnx_export(self) -> None:
        """Make the ONNX query model once, so later cold searches skip torch. An export that
        exists, or a model recorded as impossible to export, costs one small file read."""
        cache_dir = self.settings.cache_dir
        if embed_onnx.export_record(cache_dir, self.fingerprint) is not None:
            return
        if not embed_onnx.can_export():
            return  # export_onnx would only say so, after loading torch
        encoder = self.encoder
        if isinstance(encoder, embed.LazyEncoder):
            encoder = encoder.load()
        if isinstance(encoder, embed.TorchEncoder):
            embed_onnx.export_onnx(encoder, cache_dir)
