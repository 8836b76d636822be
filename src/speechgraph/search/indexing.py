"""Keeping the search data current: embed what changed (through the cache), update the FAISS index
and rebuild the keyword index; a no-op when the manifest already matches the catalogue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from speechgraph.catalogue.keywords import build_keyword_index, keyword_index_version
from speechgraph.catalogue.queries import EMPTY_CATALOGUE, catalogue_version, load_papers
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
from speechgraph.search.lexical import keyword_documents

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
    engine: str = LOCAL,
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Bring the vector and keyword indexes in line with the catalogue; a no-op when current.

    Embeds only texts the embedding cache lacks; `progress("embedding", done, total)` reports it.
    `engine="ray"` embeds them on Ray first (`search.distributed`; a local Ray, or the cluster at
    `ray_address`), and the index is then built from the cache as usual.
    Returns counts: status, papers, embedded, added, removed, kind, catalogue_version.
    Raises ConfigError for an unknown engine or a missing Ray extra.
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown embedding engine {engine!r}: use one of {', '.join(ENGINES)}")
    papers = load_papers(store)
    version = catalogue_version(store)
    if not papers:
        raise CatalogueEmpty(EMPTY_CATALOGUE)
    fingerprint = embed.model_fingerprint(settings.model, settings.cache_dir)
    manifest = read_manifest(settings.index_dir)
    current = (
        manifest is not None
        and manifest.fingerprint == fingerprint
        and manifest.catalogue_version == version
        and keyword_index_version(settings.index_dir) == version
        and has_matching_vectors(settings.index_dir, manifest)
    )
    if current and not rebuild and manifest is not None:
        return _summary("up-to-date", manifest.count, 0, 0, 0, manifest.kind, version)
    state = _VectorSync(settings, fingerprint, encoder)
    embedding_progress = None
    if progress is not None:
        embedding_progress = lambda done, total: progress("embedding", done, total)  # noqa: E731
    ray_embedded = 0
    if engine == RAY:
        ray_embedded = _embed_on_ray(settings, state.cache, papers, ray_address, embedding_progress)
    vectors_index, counts = state.update(
        papers, version, reuse=manifest is not None and not rebuild, progress=embedding_progress
    )
    vectors_index.save(settings.index_dir)
    build_keyword_index(settings.index_dir, keyword_documents(papers), version)
    state.ensure_onnx_export()
    embedded, added, removed = counts
    kind = vectors_index.manifest.kind
    return _summary(
        "updated", len(vectors_index), embedded + ray_embedded, added, removed, kind, version
    )


def _embed_on_ray(
    settings: Settings,
    cache: EmbeddingCache,
    papers: list[PaperView],
    address: str | None,
    progress: Callable[[int, int], None] | None,
) -> int:
    # Imported here: ray is an optional extra, and the local engine never needs it.
    from speechgraph.search.distributed import embed_with_ray

    run = embed_with_ray(
        [paper.embedding_text for paper in papers],
        cache,
        model=settings.model,
        cache_dir=settings.cache_dir,
        address=address,
        progress=progress,
    )
    return run.embedded


def _summary(
    status: str, papers: int, embedded: int, added: int, removed: int, kind: str, version: int
) -> dict[str, Any]:
    return {
        "status": status,
        "papers": papers,
        "embedded": embedded,
        "added": added,
        "removed": removed,
        "kind": kind,
        "catalogue_version": version,
    }


class _VectorSync:
    """One update of the vector index: reuse what is indexed, embed only what changed."""

    def __init__(self, settings: Settings, fingerprint: str, encoder: embed.Encoder | None) -> None:
        self.settings = settings
        self.fingerprint = fingerprint
        self.encoder = encoder or embed_onnx.lazy_document_encoder(
            settings.model, settings.cache_dir
        )
        self.cache = EmbeddingCache(settings.cache_dir / "embeddings.sqlite")

    def update(
        self,
        papers: list[PaperView],
        version: int,
        *,
        reuse: bool,
        progress: Callable[[int, int], None] | None,
    ) -> tuple[VectorIndex, tuple[int, int, int]]:
        ids = [paper.id for paper in papers]
        texts = [paper.embedding_text for paper in papers]
        hashes = [embed.text_hash(text) for text in texts]
        existing = self._reusable_index(len(ids)) if reuse else None
        if existing is None:
            vectors, embedded = embed.embed_texts(
                self.encoder, texts, self.cache, progress=progress
            )
            built = VectorIndex.build(
                ids,
                vectors,
                model=self.settings.model,
                fingerprint=self.fingerprint,
                catalogue_version=version,
                text_hashes=hashes,
            )
            return built, (embedded, len(ids), 0)
        changed = [
            row for row, paper_id in enumerate(ids) if existing.text_hash(paper_id) != hashes[row]
        ]
        removed = set(existing.manifest.ids) - set(ids)
        vectors, embedded = embed.embed_texts(
            self.encoder, [texts[row] for row in changed], self.cache, progress=progress
        )
        existing.remove(removed)
        existing.add([ids[row] for row in changed], vectors, [hashes[row] for row in changed])
        existing.manifest.catalogue_version = version
        existing.manifest.model = self.settings.model
        return existing, (embedded, len(changed), len(removed))

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
